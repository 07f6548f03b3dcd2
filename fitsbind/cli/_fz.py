"""What ``fitsbind compress`` and ``fitsbind decompress`` share: output names, the safe
write of each file, options common to both, and HDUs handled as card images and bytes.

Every output is written through ``fitsbind.FITS(path, "w+")``: under a temporary name
beside its final path, renamed into place only once complete, removed on any failure or
Ctrl-C. The input is opened read-only and deleted (``-D``) only after its output is in place.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

import fitsbind
from fitsbind import checksum
from fitsbind.cli.progress import progress

__all__ = ["DataSum", "Job", "add_common_options", "card", "cards_of", "copy_hdu", "finish_header",
           "jobs", "keyword", "run_jobs"]

#: bytes of pixels (before compression) handled at a time: large enough that the tile
#: codecs keep every core busy, small enough that memory stays a few times this
BAND_BYTES = 32 << 20

_CARD = 80
_TFORM = re.compile(r"TFORM\d+")
_BLOCK = 2880


@dataclass(frozen=True)
class Job:
    """One file to convert: ``source`` into ``output`` (None: standard output)."""

    source: str
    output: str | None


def add_common_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """The options of fpack and funpack that both commands take, spelt as they spell them."""
    parser.add_argument("files", nargs="+", metavar="FILE", help=f"FITS files to {verb}")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-O", dest="output", metavar="PATH",
                       help="the output file (only with one input file)")
    where.add_argument("-F", dest="in_place", action="store_true",
                       help="replace the input file by the output, under the same name, once "
                            "the output is complete")
    where.add_argument("-S", dest="stdout", action="store_true",
                       help="write the output to standard output")
    parser.add_argument("-D", dest="delete", action="store_true",
                        help="delete the input file once its output is complete")
    parser.add_argument("-C", dest="checksum", action="store_false",
                        help="do not write CHECKSUM / DATASUM cards in the HDUs written")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an output file that already exists")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (none is shown either when stderr is not a "
                             "terminal)")


def jobs(options: argparse.Namespace, default_output: Callable[[str], str]) -> list[Job]:
    """The jobs the options ask for, ValueError (with the message to show) when they ask for
    something impossible: -O with several files, an output that exists (without
    --overwrite) or that is the input (without -F)."""
    if options.output is not None and len(options.files) > 1:
        raise ValueError("-O names one output file; give one input file, or none of -O")
    planned = []
    for source in options.files:
        if options.stdout:
            planned.append(Job(source, None))
            continue
        output = (options.output or (source if options.in_place else default_output(source)))
        same = os.path.abspath(output) == os.path.abspath(source)
        if same and not options.in_place:
            raise ValueError(f"{source}: the output would replace the input; use -F to do that")
        if not same and os.path.lexists(output) and not options.overwrite:
            raise ValueError(f"{output}: already exists (use --overwrite to replace it)")
        planned.append(Job(source, output))
    return planned


def run_jobs(options: argparse.Namespace, default_output: Callable[[str], str],
             convert: Callable[[fitsbind.FITS, fitsbind.FITS, argparse.Namespace, Any], None],
             verb: str) -> int:
    """Run ``convert(source, output, options, bar)`` for every file the options name; return
    the exit status: 0, or 1 if any file failed (each failure is one line on stderr, and
    leaves its input and any existing output as they were). Ctrl-C propagates after the
    partial output has been removed."""
    try:
        planned = jobs(options, default_output)
    except ValueError as exc:
        print(f"fitsbind: error: {exc}", file=sys.stderr)
        return 1
    status = 0
    for job in planned:
        try:
            _run(job, options, convert, verb)
        except Exception as exc:    # a file that cannot be converted is a line, not a traceback
            print(f"fitsbind: error: {job.source}: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = 1
            continue
        if options.delete and (job.output is None or
                               os.path.abspath(job.output) != os.path.abspath(job.source)):
            os.remove(job.source)
    return status


def _run(job: Job, options: argparse.Namespace,
         convert: Callable[[fitsbind.FITS, fitsbind.FITS, argparse.Namespace, Any], None],
         verb: str) -> None:
    if not os.path.isfile(job.source):
        raise FileNotFoundError(f"no such file: {job.source}")
    with tempfile.TemporaryDirectory(prefix="fitsbind-") if job.output is None else \
            _nothing() as scratch:
        target = job.output or os.path.join(scratch, os.path.basename(job.source))
        total = os.path.getsize(job.source)
        with fitsbind.FITS(job.source, "r") as source, \
                progress(total, f"{verb} {os.path.basename(job.source)}",
                         quiet=options.quiet) as bar:
            with fitsbind.FITS(target, "w+") as output:
                convert(source, output, options, bar)
        if job.output is None:
            with open(target, "rb") as finished:
                shutil.copyfileobj(finished, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()


class _nothing:
    """A context manager giving None (no scratch directory needed)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


def bands(hdu: Any, tile_rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """The stored values of image ``hdu`` (no scaling) in bands of whole rows of tiles
    (``tile_rows`` image rows each) of about BAND_BYTES: (the band's end row, its pixels).
    The next band is read in a worker thread while the caller handles this one, so reading
    the input overlaps encoding or writing."""
    shape = hdu.shape
    row_bytes = hdu.size // shape[0] * abs(hdu.bitpix) // 8
    step = tile_rows * max(1, BAND_BYTES // max(tile_rows * row_bytes, 1))
    starts = range(0, shape[0], step)

    def read(start: int) -> np.ndarray:
        return hdu.read_section(slice(start, min(shape[0], start + step)), scale=False)

    with ThreadPoolExecutor(1, thread_name_prefix="fitsbind-band") as pool:
        ahead = pool.submit(read, 0)
        for start in starts:
            band = ahead.result()
            if start + step < shape[0]:
                ahead = pool.submit(read, start + step)
            yield min(shape[0], start + step), band


# -- HDUs as card images and bytes ---------------------------------------------------------------

def cards_of(header: fitsbind.FITSHeader) -> list[str]:
    """The header's card images (80 characters each, END excluded)."""
    text = header.tostring(endcard=False, padding=False)
    return [text[i:i + _CARD] for i in range(0, len(text), _CARD)]


def keyword(image: str) -> str:
    """The keyword of a card image, upper case."""
    return image[:8].strip().upper()


def card(key: str, value: object, comment: str = "") -> str:
    """One card image."""
    return fitsbind.Card(key, value, comment).image


def without(images: list[str], drop: Callable[[str], bool]) -> list[str]:
    """``images`` without the cards whose keyword ``drop`` names, and without the CONTINUE
    cards of a dropped long string."""
    kept, dropping = [], False
    for image in images:
        name = keyword(image)
        if name == "CONTINUE" and dropping:
            continue
        dropping = drop(name)
        if not dropping:
            kept.append(image)
    return kept


def copy_hdu(source: fitsbind.FITS, output: fitsbind.FITS, index: int, bar: Any) -> None:
    """Append HDU ``index`` of ``source`` to ``output`` byte for byte (its header cards as
    they are, its data unit in chunks of at most BAND_BYTES)."""
    extent = source.locate(index)
    header = source[index].header.tostring(endcard=False, padding=False)

    def chunks() -> Iterator[np.ndarray]:
        for at in range(extent.data_start, extent.data_end, BAND_BYTES):
            n = min(BAND_BYTES, extent.data_end - at)
            yield source.read_bytes(at, n)
            bar.update(n)

    output.append_hdu(header, chunks() if extent.data_size else None)
    bar.update(extent.header_size)


class DataSum:
    """The DATASUM of a data unit summed as its bytes go by, so that it need not be read
    back: ``update(chunk)`` with every chunk in order, then ``value``."""

    def __init__(self) -> None:
        self._total = 0
        self._carry = b""     # the last chunk's bytes past a multiple of 4

    def update(self, chunk: Any) -> None:
        data = memoryview(chunk).cast("B")
        if self._carry:
            data = memoryview(self._carry + bytes(data))
        whole = len(data) - len(data) % 4
        self._total = checksum.ones_complement_sum(data[:whole], self._total)
        self._carry = bytes(data[whole:])

    @property
    def value(self) -> int:
        # the data unit's zero padding adds nothing beyond completing the last word
        return checksum.ones_complement_sum(self._carry, self._total) if self._carry \
            else self._total


def finish_header(output: fitsbind.FITS, index: int, images: list[str], add_checksum: bool,
                  datasum: int | None = None) -> None:
    """Make ``images`` the header of HDU ``index`` of ``output`` (already written), with
    CHECKSUM and DATASUM of the HDU as it will be when ``add_checksum`` (``datasum``: the
    data unit's sum if known, else it is read back). Blank cards fill the header to its
    present number of 2880-byte blocks, so the data unit never moves."""
    images = without(_settled(output, index, images),
                     lambda name: name in ("CHECKSUM", "DATASUM"))
    comment = checksum.timestamp_comment("HDU checksum")
    if add_checksum and datasum is None:
        datasum = output.data_checksum(index)
    datasum = datasum or 0
    if add_checksum:
        images += [card("CHECKSUM", "0" * 16, comment),
                   card("DATASUM", str(datasum), checksum.timestamp_comment("data unit checksum"))]
    blocks = output.locate(index).header_size // _BLOCK
    if (len(images) + 1) * _CARD <= (blocks - 1) * _BLOCK:
        images += [" " * _CARD] * ((blocks - 1) * (_BLOCK // _CARD) - len(images))
    if add_checksum:
        text = "".join(images) + "END".ljust(_CARD)
        text = text.ljust(checksum.padded_length(len(text)))
        total = checksum.ones_complement_sum(text.encode("latin-1"), datasum)
        at = next(i for i, image in enumerate(images) if keyword(image) == "CHECKSUM")
        images[at] = card("CHECKSUM", checksum.encode(total), comment)
    output.replace_header(index, "".join(images))


def _settled(output: fitsbind.FITS, index: int, images: list[str]) -> list[str]:
    """``images`` with the TFORMn cards HDU ``index`` has on disk once CFITSIO has settled
    them: leaving a table whose heap was written makes it record the longest array of each
    variable-length column (``'1PB(283)'``), which must happen before a checksum is taken."""
    output.locate(0 if index else len(output) - 1)     # leave the HDU: CFITSIO settles it
    extent = output.locate(index)
    text = output.read_bytes(extent.header_start, extent.header_size).tobytes().decode("latin-1")
    settled = {keyword(text[i:i + _CARD]): text[i:i + _CARD]
               for i in range(0, len(text), _CARD) if _TFORM.fullmatch(keyword(text[i:i + _CARD]))}
    return [settled.get(keyword(image), image) for image in images]
