"""Every file the doctor writes (``-o``, ``--bundle``, ``--fix`` and its backups) goes through
here: a regular file, written to a temporary file in the same folder and renamed over the
target, so a reader never sees half a file and a crash leaves the old one whole.

What it refuses, each in one sentence (``WriteRefused``): a device, a FIFO, a socket, a
directory, a symbolic link, a file of another kind, a folder that is missing or not writable,
and an existing file when the caller does not allow replacing it. A replaced file keeps its
owner, group and mode; a new one gets the mode the caller asks for (``0o666`` less the umask,
like any ``open``)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


class WriteRefused(Exception):
    """One sentence saying why the doctor will not (or could not) write a file."""


@dataclass(frozen=True)
class Keep:
    """What a rewritten file keeps of the file it replaces."""

    uid: int
    gid: int
    mode: int  # permission bits, setuid/setgid/sticky included

    @classmethod
    def of(cls, status: os.stat_result) -> Keep:
        return cls(status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode))


_KINDS = (
    (stat.S_ISLNK, "a symbolic link; name the file it points to instead"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a Unix socket"),
)


def existing(path: Path) -> os.stat_result | None:
    """``lstat`` of ``path`` (never following a link), or None when nothing is there."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise WriteRefused(f"cannot write {path}: a part of its folder path is not a directory") from None
    except OSError as exc:
        raise WriteRefused(f"cannot write {path}: {exc.strerror or exc}") from None


def check_target(path: Path, *, replace: bool, what: str = "the file") -> os.stat_result | None:
    """Refuse anything but a new file or (when ``replace``) an existing regular file, in a
    folder this process may write. Returns the existing file's status, if there is one."""
    status = existing(path)
    if status is not None:
        for test, kind in _KINDS:
            if test(status.st_mode):
                raise WriteRefused(f"will not write {what} to {path}: it is {kind}")
        if not stat.S_ISREG(status.st_mode):
            raise WriteRefused(f"will not write {what} to {path}: it is not a regular file")
        if not replace:
            raise WriteRefused(f"{path} already exists; the doctor does not replace it without --force")
    check_folder(path, what)
    return status


def check_folder(path: Path, what: str = "the file") -> None:
    folder = Path(os.path.abspath(path)).parent
    if not folder.is_dir():
        raise WriteRefused(f"cannot write {what} to {path}: the folder {folder} does not exist")
    # access() knows read-only mounts and permissions; root passes it wherever the kernel allows.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteRefused(f"cannot write {what} to {path}: the folder {folder} is not writable for this user")


def write_file(
    path: Path,
    content: bytes | Callable[[BinaryIO], None],
    *,
    keep: Keep | None = None,
    new_mode: int | None = None,
    what: str = "the file",
) -> None:
    """Write ``content`` (bytes, or a function that writes to the open binary file) to a
    temporary file beside ``path`` and rename it over ``path``. With ``keep`` the result gets
    that owner, group and mode; else ``new_mode`` (default ``0o666`` less the umask)."""
    folder = Path(os.path.abspath(path)).parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise WriteRefused(_why(exc, what, path, folder)) from None
    try:
        with os.fdopen(fd, "wb") as stream:
            if keep is not None:
                _own(stream.fileno(), keep)
            else:
                os.fchmod(stream.fileno(), _default_mode() if new_mode is None else new_mode)
            if isinstance(content, bytes):
                stream.write(content)
            else:
                content(stream)
            stream.flush()
            os.fsync(stream.fileno())
        # The target may have changed since it was checked: never rename over a device or link.
        status = existing(path)
        if status is not None and not stat.S_ISREG(status.st_mode):
            raise WriteRefused(f"will not write {what} to {path}: it is no longer a regular file")
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise WriteRefused(_why(exc, what, path, folder)) from None
        raise
    _sync_folder(folder)


def _own(fd: int, keep: Keep) -> None:
    try:
        os.fchown(fd, keep.uid, keep.gid)
    except PermissionError:
        # Callers check ownership first (see can_keep_owner); should it still fail, the file
        # must not end up readable by a group it was never shared with.
        os.fchmod(fd, keep.mode & 0o700)
        raise WriteRefused(f"cannot give the new file the owner {keep.uid}:{keep.gid} of the one it replaces") from None
    os.fchmod(fd, keep.mode)


def can_keep_owner(status: os.stat_result) -> bool:
    """Whether a replacement of this file can get its owner and group back (root can; anyone
    else only for a file they own, in a group they belong to)."""
    if os.geteuid() == 0:
        return True
    groups = {os.getegid(), *os.getgroups()}
    return status.st_uid == os.geteuid() and status.st_gid in groups


def reserve(path: Path, content: bytes, keep: Keep) -> None:
    """Create ``path``, which must not exist (O_EXCL: an earlier file is never overwritten),
    holding ``content``, with ``keep``'s owner, group and mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            _own(stream.fileno(), keep)
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _why(exc: OSError, what: str, path: Path, folder: Path) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {what} to {path}: the folder {folder} is not writable ({exc.strerror})"
    return f"cannot write {what} to {path}: {exc.strerror or exc}"


def _sync_folder(folder: Path) -> None:
    """Make the rename durable; not every filesystem lets a folder be opened or synced."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
