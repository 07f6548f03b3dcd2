"""New files written beside their target and renamed over it only once complete, so a failed
or killed write never leaves a partial file at the target's path (a leaf module: every layer
may use it).

A :class:`Replacement` names a temporary file in the target's directory,
``.fitsbind-<host>-<pid>-<token>-<target name>.tmp``: hidden, saying what wrote it, which
process owns it, and which file it is to become. :meth:`Replacement.commit` renames it over
the target; :meth:`Replacement.discard` removes it. A process killed before either leaves its
temporary file behind, so every new Replacement first removes, in its directory, the
temporary files of this host whose owning process no longer runs (:func:`sweep`).
"""

from __future__ import annotations

import os
import re
import secrets
import socket

__all__ = ["Replacement", "sweep"]

_PREFIX = ".fitsbind-"
# the host part keeps letters, digits and dots only, so the dashes around it are unambiguous
_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "localhost"
_NAME = re.compile(r"\.fitsbind-(?P<host>[A-Za-z0-9._]+)-(?P<pid>\d+)-[0-9a-f]{8}-"
                   r"(?P<target>.*)\.(?P<kind>tmp|old)\Z", re.DOTALL)
# longest file name most file systems take, in bytes
_NAME_MAX = 255


class Replacement:
    """A new file for ``target``, written at :attr:`path` (same directory, a fresh temporary
    name) until :meth:`commit` renames it over ``target`` or :meth:`discard` removes it.

    A symbolic link at ``target`` stays: the file it points to is replaced. The new file
    gets the replaced file's permission bits; a file that did not exist gets the default
    ones (0o666 less the umask), as any new file. Hard links to the old file keep the old
    contents (the rename gives the path a new inode), as do readers that have it open.
    """

    def __init__(self, target: str | os.PathLike[str]) -> None:
        target = os.fspath(target)
        if os.path.islink(target):
            target = os.path.realpath(target)
        if os.path.isdir(target):
            raise IsADirectoryError(f"{target}: is a directory")
        directory, name = os.path.split(os.path.abspath(target))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"{target}: no such directory {directory!r}")
        sweep(directory)
        token = secrets.token_hex(4)
        stem = f"{_PREFIX}{_HOST}-{os.getpid()}-{token}-{name}"
        # where the old file waits while the new one is renamed in (see _move_into_place);
        # a name without room for the target's cannot be put back by sweep, so such a
        # file is replaced in one step instead
        self._aside: str | None = os.path.join(directory, stem + ".old")
        if len(os.fsencode(stem + ".tmp")) > _NAME_MAX:
            stem = f"{_PREFIX}{_HOST}-{os.getpid()}-{token}-"
            self._aside = None
        #: the file being written (it does not exist until the writer creates it)
        self.path = os.path.join(directory, stem + ".tmp")
        #: the file it becomes
        self.target = os.path.join(directory, name)

    def commit(self) -> None:
        """Rename the finished file over the target, keeping the replaced file's permission
        bits. On failure the target is as it was and the new file is removed."""
        try:
            try:
                mode = os.stat(self.target).st_mode & 0o7777
            except FileNotFoundError:
                mode = None
            if mode is not None:
                os.chmod(self.path, mode)
            _move_into_place(self.path, self.target, self._aside)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Remove the new file (if it was made); the target is not touched."""
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


def _move_into_place(temp: str, target: str, aside: str | None) -> None:
    """Rename the finished file ``temp`` to ``target``, replacing any file there.

    A rename over an existing file makes ext4 (auto_da_alloc) write the new file's data out
    before the rename returns, which doubled the time of ``writeto``. Moving the old file
    to ``aside`` first (a rename to a name that does not exist) avoids that. Between the
    two renames no file is at ``target``; :func:`sweep` puts the old one back if the
    process dies there. Without an ``aside`` name the rename goes over the old file.
    """
    if aside is None:
        os.replace(temp, target)
        return
    if not os.path.exists(target):
        os.rename(temp, target)
        return
    os.rename(target, aside)
    try:
        os.rename(temp, target)
    except BaseException:
        os.rename(aside, target)
        raise
    os.remove(aside)


def sweep(directory: str) -> None:
    """Clean up after fitsbind writers that died in ``directory``: remove their temporary
    files, and put back an old file a writer had moved aside but not yet replaced.

    Only files of this host whose owning process is gone are touched; those of live
    processes (this one included) and of other hosts (a shared file system) are left."""
    try:
        entries = [e.name for e in os.scandir(directory) if e.name.startswith(_PREFIX)]
    except OSError:
        return
    for name in entries:
        match = _NAME.match(name)
        if match is None or match["host"] != _HOST or _running(int(match["pid"])):
            continue
        path = os.path.join(directory, name)
        if match["kind"] == "old" and match["target"]:
            _put_back(path, os.path.join(directory, match["target"]))
        else:
            _remove(path)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (on POSIX; elsewhere every owner counts as running,
    since signalling a process there terminates it)."""
    if os.name != "posix" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True   # another user's process
    return True


def _put_back(aside: str, target: str) -> None:
    """Move the old file ``aside`` back to ``target`` unless a file is there by now (the
    new one arrived, or another writer made one), in which case ``aside`` goes."""
    try:
        os.link(aside, target)   # unlike rename, never replaces what is there
    except FileExistsError:
        pass
    except OSError:
        # no hard links on this file system
        if not os.path.exists(target):
            try:
                os.rename(aside, target)
            except OSError:
                pass
            return
    _remove(aside)


def _remove(path: str) -> None:
    """Remove ``path``; another process cleaning the same directory may have been first."""
    try:
        os.remove(path)
    except OSError:
        pass
