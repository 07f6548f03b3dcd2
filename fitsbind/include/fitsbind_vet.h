/* The card-level part of header vetting (see _fitsfile_vet.pxi): which cards take part in the
   structural checks, and their plain integer values, read without making Python objects of
   the many cards of a large header that do not. */
#ifndef FITSBIND_VET_H
#define FITSBIND_VET_H

#include <stdint.h>
#include <string.h>

/* keywords compared whole (8 characters, blank padded) */
static const char *const fitsbind_vet_names[] = {
    "SIMPLE  ", "XTENSION", "BITPIX  ", "NAXIS   ", "PCOUNT  ", "GCOUNT  ", "TFIELDS ",
    "THEAP   ", "ZIMAGE  ", "ZBITPIX ", "ZNAXIS  ", "ZCMPTYPE",
};

/* indexed keywords: the stem, then digits, then blanks */
static const char *const fitsbind_vet_stems[] = {
    "NAXIS", "TBCOL", "TFORM", "ZNAXIS", "ZTILE", "ZNAME", "ZVAL",
};

/* 1 if the card image's keyword is one the vetting reads (a value card: '=' in column 9) */
static inline int fitsbind_vet_wanted(const char *card)
{
    size_t i, n, j;
    if (card[8] != '=')
        return 0;
    for (i = 0; i < sizeof fitsbind_vet_names / sizeof *fitsbind_vet_names; i++)
        if (memcmp(card, fitsbind_vet_names[i], 8) == 0)
            return 1;
    for (i = 0; i < sizeof fitsbind_vet_stems / sizeof *fitsbind_vet_stems; i++) {
        n = strlen(fitsbind_vet_stems[i]);
        if (memcmp(card, fitsbind_vet_stems[i], n) != 0 || card[n] < '1' || card[n] > '9')
            continue;
        for (j = n; j < 8 && card[j] >= '0' && card[j] <= '9'; j++)
            ;
        for (; j < 8 && card[j] == ' '; j++)
            ;
        if (j == 8)
            return 1;
    }
    return 0;
}

/* The value field (columns 11-80) as a plain decimal integer: optional sign, digits, then only
   blanks or a '/' comment. 1 with *out set, 0 for anything else (left to the general parser),
   including values beyond 18 digits. */
static inline int fitsbind_vet_integer(const char *card, int64_t *out)
{
    int i = 10, negative = 0, digits = 0;
    int64_t value = 0;
    while (i < 80 && card[i] == ' ')
        i++;
    if (i < 80 && (card[i] == '+' || card[i] == '-'))
        negative = card[i++] == '-';
    while (i < 80 && card[i] >= '0' && card[i] <= '9') {
        if (++digits > 18)
            return 0;
        value = value * 10 + (card[i++] - '0');
    }
    if (digits == 0)
        return 0;
    while (i < 80 && card[i] == ' ')
        i++;
    if (i < 80 && card[i] != '/')
        return 0;
    *out = negative ? -value : value;
    return 1;
}

#endif
