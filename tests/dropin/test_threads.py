"""One lazily read HDUList shared by threads: every lookup finds its HDU with the right data.

Only fitsbind is tested: astropy.io.fits does not promise that lazy loading is thread-safe
(a list read lazily by several threads at once may miss HDUs there)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

import fitsbind as fits

NAMES = ["PRIMARY", "SCI", "ERR", "CAT"]
THREADS = 8
ROUNDS = 12
CALLS = 16


def _write(path: Path) -> None:
    fits.HDUList([
        fits.PrimaryHDU(),
        fits.ImageHDU(np.arange(100, dtype=">i4"), name="SCI"),
        fits.ImageHDU(np.arange(50, dtype=">f8"), name="ERR"),
        fits.BinTableHDU.from_columns([fits.Column(name="id", format="J", array=np.arange(7))],
                                      name="CAT"),
    ]).writeto(path)


def _lookup(hdul: fits.HDUList, call: int) -> None:
    """One of the ways callers reach HDUs of a lazily read list, checked against the file."""
    kind = call % 6
    if kind == 0:
        assert hdul["CAT"].header["NAXIS2"] == 7
    elif kind == 1:
        assert hdul[3].name == "CAT"
        np.testing.assert_array_equal(hdul[2].data, np.arange(50.0))
    elif kind == 2:
        assert len(hdul) == len(NAMES)
    elif kind == 3:
        assert [hdu.name for hdu in hdul] == NAMES
    elif kind == 4:
        assert "ERR" in hdul and ("CAT", 1) in hdul and "NOPE" not in hdul
    else:
        assert hdul[-1].name == "CAT"
        np.testing.assert_array_equal(hdul["SCI"].data, np.arange(100))


def test_threads_share_one_lazily_read_list(tmp_path):
    path = tmp_path / "four.fits"
    _write(path)
    failures: list[BaseException] = []
    completed: list[int] = []     # list.append is atomic; a shared counter is not
    for _ in range(ROUNDS):
        with fits.open(path) as hdul:
            start = threading.Barrier(THREADS)

            def work(worker: int, hdul: fits.HDUList = hdul, start: threading.Barrier = start,
                     ) -> None:
                start.wait()     # all threads reach the unread headers together
                for call in range(CALLS):
                    try:
                        _lookup(hdul, worker + call)
                        completed.append(call)
                    except BaseException as exc:  # collected, reported below
                        failures.append(exc)

            threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert [hdu.name for hdu in hdul] == NAMES
    assert not failures, f"{len(failures)} failed lookups, first: {failures[0]!r}"
    assert len(completed) == ROUNDS * THREADS * CALLS
