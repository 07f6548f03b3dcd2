"""Headers read from text leave their cards unread until touched, and a header of plain
records skips fromstring's per-card loop: both must read exactly as the general path."""

import re

import pytest

import fitsbind.header as header_module
from fitsbind.card import Card
from fitsbind.header import Header
from fitsbind.verify import VerifyError


def _records(*cards: str) -> str:
    return "".join(card.ljust(80) for card in cards)


PLAIN = _records("SIMPLE  =                    T / conforms", "BITPIX  =                  -32",
                 "NAXIS   =                    0", "OBJECT  = 'M31     '           / target",
                 "object2 = 'low case'", "HISTORY made: by hand", "COMMENT a comment",
                 "        blank keyword", "HISTORY again", "EXTEND  =                    T")
TEXTS = {
    "plain": PLAIN,
    "record-valued": PLAIN + _records("DP1     = 'AXIS.1: 1'", "DP1     = 'NAXIS: 2'"),
    "continue": PLAIN + _records("LONG    = 'abc&'", "CONTINUE  'def'"),
    "continue-as-keyword": PLAIN + _records("CONTINUE= 'x'"),
    "commentary-with-value": PLAIN + _records("COMMENT = 'a: b'", "HISTORY = 3"),
    "equals-in-keyword": PLAIN + _records("A=B     = 1"),
    "end-card": PLAIN + _records("END"),
    "end-as-keyword": PLAIN + _records("END     = 5"),
    "hierarch": PLAIN + _records("HIERARCH long keyword name = 7"),
    "short-last": PLAIN + "SHORT   = 1",
    "empty": "",
}


def _general(text: str, monkeypatch) -> Header:
    with monkeypatch.context() as patch:
        patch.setattr(header_module, "_PLAIN_RECORDS", re.compile("(?!)"))
        return Header.fromstring(text)


def _read(card: Card, attribute: str):
    try:
        return getattr(card, attribute)
    except (ValueError, VerifyError) as exc:   # an unreadable value fails alike either way
        return type(exc)


def _state(header: Header) -> tuple:
    cards = header._cards
    return ([(c.keyword, _read(c, "image"), c._verified) for c in cards],
            header._keyword_indices, header._rvkc_indices,
            [_read(c, "comment") for c in cards], [_read(c, "value") for c in cards])


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_fast_and_lazy_read_as_the_general_path(name, monkeypatch):
    text = TEXTS[name]
    fast = Header.fromstring(text)
    general = _general(text, monkeypatch)
    eager = _general(text, monkeypatch)
    _ = eager._cards      # every card made a Card at once
    assert _state(fast) == _state(general) == _state(eager)
    assert fast._modified == general._modified == eager._modified


def test_plain_records_take_the_shortcut_and_stay_unread():
    header = Header.fromstring(PLAIN)
    assert header._unread == len(header) == 10
    assert header["OBJECT"] == "M31"
    assert header._unread == 9
    assert header.cards[0].value is True and header._unread == 8
    assert header.copy()._unread == 8
    assert isinstance(header.cards["NAXIS"], Card)
    assert str(header) == Header(list(header.cards)).tostring()


@pytest.mark.parametrize("name", ["record-valued", "continue", "continue-as-keyword",
                                  "commentary-with-value", "equals-in-keyword", "end-card",
                                  "hierarch"])
def test_unusual_records_go_through_the_loop(name, monkeypatch):
    calls = []
    original = header_module.Header._from_plain_records
    monkeypatch.setattr(header_module.Header, "_from_plain_records",
                        classmethod(lambda cls, data: calls.append(data) or original(data)))
    Header.fromstring(TEXTS[name])
    assert not calls


def test_unread_cards_are_copied_and_edited_as_cards():
    header = Header.fromstring(PLAIN)
    copied = header.copy()
    copied["OBJECT"] = "M33"
    assert header["OBJECT"] == "M31" and copied["OBJECT"] == "M33"
    assert copied._modified and not header._modified
    del copied["BITPIX"]
    assert list(copied) == [k for k in header if k != "BITPIX"]


def test_counting_cards_leaves_them_unread():
    header = Header.fromstring("".join(f"KEY{i:<5d}= {i:>20d}".ljust(80) for i in range(9)))
    assert len(header.cards) == len(header) == len(header.comments) == 9
    assert header._unread == 9
    assert bool(header.cards) and header.cards[0].keyword == "KEY0"
    assert header._unread == 8
