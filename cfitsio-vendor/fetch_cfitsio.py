"""Obtain and unpack the pinned CFITSIO release named in ``cfitsio.lock``.

Sources, tried in order:

1. ``FITSBIND_CFITSIO_TARBALL=/path/to/cfitsio-X.tar.gz`` (offline builds, sdists);
2. a copy already unpacked (or a tarball already cached) under this folder;
3. Debian's source package, via ``apt-get source --download-only`` run against a private apt
   state directory whose ``deb-src`` entries are derived from the machine's own apt sources, so
   the system configuration is never touched and no host is named here.

Every tarball is checked against the lock's sha256 before it is unpacked. The unpacked tree and
the cached tarball live in git-ignored folders next to this script.

Run as a script to fetch and print the source directory; ``setup.py`` imports ``ensure_source``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK_FILE = HERE / "cfitsio.lock"
CACHE_DIR = HERE / "cache"
SRC_DIR = HERE / "src"
MARKER = ".fitsbind-sha256"


class CfitsioSourceError(RuntimeError):
    """The pinned CFITSIO source could not be obtained or failed verification."""


def read_lock(path: Path = LOCK_FILE) -> dict[str, str]:
    """Parse the ``key = "value"`` lines of the lock file."""
    lock = {}
    for line in path.read_text().splitlines():
        m = re.match(r'^\s*(\w+)\s*=\s*"([^"]*)"\s*$', line)
        if m:
            lock[m.group(1)] = m.group(2)
    missing = {"version", "tarball", "sha256", "unpacked", "debian_source_package"} - lock.keys()
    if missing:
        raise CfitsioSourceError(f"{path}: missing entries {sorted(missing)}")
    return lock


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _help(lock: dict[str, str]) -> str:
    return (
        f"fitsbind builds CFITSIO {lock['version']} from {lock['tarball']} "
        f"(sha256 {lock['sha256']}).\n"
        "  - download that file yourself and point FITSBIND_CFITSIO_TARBALL=/path/to/it at it, or\n"
        "  - build against an installed CFITSIO instead with FITSBIND_CFITSIO=system "
        "(needs pkg-config and the cfitsio development files)."
    )


def _verify(tarball: Path, lock: dict[str, str]) -> None:
    actual = _sha256(tarball)
    if actual != lock["sha256"]:
        raise CfitsioSourceError(
            f"{tarball}: sha256 {actual} does not match the pinned {lock['sha256']}; "
            f"refusing to build from it.\n{_help(lock)}"
        )


def _unpack(tarball: Path, lock: dict[str, str]) -> Path:
    """Verify ``tarball`` and unpack it into SRC_DIR atomically; return the source tree."""
    _verify(tarball, lock)
    SRC_DIR.mkdir(parents=True, exist_ok=True)
    target = SRC_DIR / lock["unpacked"]
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=SRC_DIR))
    try:
        with tarfile.open(tarball, "r:*") as tar:
            for member in tar.getmembers():
                name = Path(member.name)
                if name.is_absolute() or ".." in name.parts or member.issym() or member.islnk():
                    raise CfitsioSourceError(f"{tarball}: unsafe member {member.name!r}")
            tar.extractall(staging)
        unpacked = staging / lock["unpacked"]
        if not (unpacked / "fitsio.h").is_file():
            raise CfitsioSourceError(f"{tarball}: no {lock['unpacked']}/fitsio.h inside")
        (unpacked / MARKER).write_text(lock["sha256"] + "\n")
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _unpacked_copy(lock: dict[str, str]) -> Path | None:
    target = SRC_DIR / lock["unpacked"]
    marker = target / MARKER
    if marker.is_file() and marker.read_text().strip() == lock["sha256"]:
        return target
    return None


def _deb_src_entries() -> list[str]:
    """deb822 ``deb-src`` stanzas mirroring the machine's own ``deb`` entries."""
    etc = Path("/etc/apt")
    stanzas = []
    one_line = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in one_line:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            m = re.match(r"^\s*deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
            if not m:
                continue
            options = dict(
                opt.split("=", 1) for opt in (m.group(1) or "").strip("[] \t").split() if "=" in opt
            )
            stanza = [
                "Types: deb-src",
                f"URIs: {m.group(2)}",
                f"Suites: {m.group(3)}",
                f"Components: {m.group(4).strip()}",
            ]
            if "signed-by" in options:
                stanza.append(f"Signed-By: {options['signed-by']}")
            stanzas.append("\n".join(stanza))
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        for block in re.split(r"\n\s*\n", path.read_text()):
            lines = [ln for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            fields = {}
            for ln in lines:
                if ":" in ln and not ln[0].isspace():
                    key, value = ln.split(":", 1)
                    fields[key.strip().lower()] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            stanza = ["Types: deb-src"]
            stanza += [ln for ln in lines if not ln.lower().startswith("types:")]
            stanzas.append("\n".join(stanza))
    return stanzas


def _fetch_with_apt(lock: dict[str, str]) -> Path:
    """Download the Debian source package's orig tarball into CACHE_DIR."""
    if shutil.which("apt-get") is None:
        raise CfitsioSourceError(f"no apt-get on this machine to fetch CFITSIO with.\n{_help(lock)}")
    stanzas = _deb_src_entries()
    if not stanzas:
        raise CfitsioSourceError(f"no apt sources found to derive deb-src entries from.\n{_help(lock)}")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fitsbind-apt-") as state:
        root = Path(state)
        parts = root / "sources.list.d"
        for sub in (parts, root / "lists" / "partial", root / "archives" / "partial"):
            sub.mkdir(parents=True)
        (parts / "fitsbind-deb-src.sources").write_text("\n\n".join(stanzas) + "\n")
        apt = [
            "apt-get",
            "-q",
            "-o",
            "Dir::Etc::SourceList=/dev/null",
            "-o",
            f"Dir::Etc::SourceParts={parts}",
            "-o",
            f"Dir::State::Lists={root / 'lists'}",
            "-o",
            f"Dir::Cache={root}",
            "-o",
            "Debug::NoLocking=1",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # apt's download sandbox user cannot write into our private, root-owned state dir
            apt += ["-o", "APT::Sandbox::User=root"]
        log = []
        for args, cwd in (
            ([*apt, "update"], None),
            ([*apt, "source", "--download-only", lock["debian_source_package"]], CACHE_DIR),
        ):
            # Exit codes are not trusted either way: apt may fail on the Debian packaging file
            # while the upstream orig tarball (all we need) arrives; the tarball is the test.
            proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
            log.append(proc.stdout + proc.stderr)
    tarball = CACHE_DIR / lock["tarball"]
    if not tarball.is_file():
        arrived = sorted(p.name for p in CACHE_DIR.iterdir())
        tail = "\n".join("\n".join(log).strip().splitlines()[-12:])
        raise CfitsioSourceError(
            f"apt did not deliver {lock['tarball']} (files present: {arrived}).\n"
            f"apt said:\n{tail}\n{_help(lock)}"
        )
    return tarball


def ensure_source(verbose: bool = True) -> Path:
    """Return the unpacked, verified CFITSIO source tree, obtaining it if needed."""
    lock = read_lock()

    def say(msg: str) -> None:
        if verbose:
            print(f"fitsbind: {msg}", file=sys.stderr)

    explicit = os.environ.get("FITSBIND_CFITSIO_TARBALL")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise CfitsioSourceError(f"FITSBIND_CFITSIO_TARBALL={explicit}: no such file.\n{_help(lock)}")
        if _unpacked_copy(lock) is None:
            say(f"unpacking CFITSIO {lock['version']} from {path}")
            return _unpack(path, lock)
        _verify(path, lock)
        return SRC_DIR / lock["unpacked"]
    existing = _unpacked_copy(lock)
    if existing is not None:
        return existing
    cached = CACHE_DIR / lock["tarball"]
    if not cached.is_file():
        say(f"fetching CFITSIO {lock['version']} ({lock['tarball']}) from Debian's source package")
        cached = _fetch_with_apt(lock)
    say(f"unpacking {cached.name}")
    return _unpack(cached, lock)


if __name__ == "__main__":
    try:
        print(ensure_source())
    except CfitsioSourceError as exc:
        sys.exit(f"fitsbind: {exc}")
