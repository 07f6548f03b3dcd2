"""Threads: several files read at once, and one file shared between threads."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from fitsbind import _fitsfile


def _make(path, side):
    with _fitsfile.create_file(path) as f:
        f.create_image_hdu(16, ())
        f.create_image_hdu(-64, (side, side))  # about side*side*8 bytes of data
        f.write_key("EXTNAME", "BIG")
        f.write_checksum()
        for i in range(20):
            f.write_key(f"KEY{i}", i * 1.5, f"comment {i}")
    return path


def _read_everything(path):
    with _fitsfile.open_file(path) as f:
        f.move_to_name("BIG")
        checks = f.verify_checksum()
        keys = [f.read_key(f"KEY{i}")[0] for i in range(20)]
        return checks, keys, f.header_string()


def test_threads_read_different_files(tmp_path):
    paths = [_make(tmp_path / f"f{i}.fits", 700 + i) for i in range(6)]
    serial = [_read_everything(p) for p in paths]
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(3):
            assert list(pool.map(_read_everything, paths)) == serial
    for checks, keys, _ in serial:
        assert checks == (True, False)  # keys were added after the checksum
        assert keys == [i * 1.5 for i in range(20)]


def test_threads_share_one_handle(tmp_path):
    path = _make(tmp_path / "shared.fits", 300)
    errors = []
    with _fitsfile.open_file(path) as f:
        expected = {}
        for i in range(2):
            f.move_to(i)
            expected[i] = f.header_string()

        def worker(n):
            try:
                for k in range(200):
                    i = (n + k) % 2
                    with lock:  # move + read must be one step for a shared handle
                        f.move_to(i)
                        assert f.header_string() == expected[i]
                    f.verify_checksum()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        lock = threading.Lock()
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_two_handles_on_one_file_in_threads(tmp_path):
    path = _make(tmp_path / "twice.fits", 400)
    results = []

    def worker():
        with _fitsfile.open_file(path) as f:
            for _ in range(50):
                f.move_to(1)
                results.append((f.verify_checksum(), f.read_key("KEY3")[0]))
                f.move_to(0)
                results.append((None, f.read_key("BITPIX")[0]))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 400
    assert all(r in (((True, False), 4.5), (None, 16)) for r in results)
    st = os.stat(path)
    assert (st.st_dev, st.st_ino) not in _fitsfile._file_locks
