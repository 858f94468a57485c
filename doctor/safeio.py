"""Every file the doctor reads because a Compose file or a flag points at it goes through here.

A path from the user's files may name anything: a FIFO (an ``open`` for reading blocks until a
writer comes, which may be never), a device (``/dev/zero`` never ends, ``/dev/tty`` waits for a
key), a directory, a path with a NUL byte. So the doctor reads regular files only, and never
more than a cap: ``stat`` first (no side effect), then ``open`` with ``O_NONBLOCK`` (a FIFO that
appeared in between cannot block the open) and ``fstat`` on what was really opened, then a
bounded read.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

MiB = 1024 * 1024


class UnsafeInput(Exception):
    """Why a path was not read, as one sentence fragment ("is a FIFO, not a regular file")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as a regular file ("it is a FIFO (named pipe), not a regular
    file"), or None when it can be tried."""
    try:
        mode = os.stat(path).st_mode
    except ValueError:  # os.stat refuses a NUL byte in the path with ValueError, not OSError
        return "its name has a NUL byte"
    except OSError as exc:
        return _os_reason(exc)
    if not stat.S_ISREG(mode):
        return f"it is {kind_of(mode)}, not a regular file"
    return None


def too_large(path: str | os.PathLike[str], max_bytes: int) -> str | None:
    """Why a regular file would be refused for its size, or None."""
    try:
        size = os.stat(path).st_size
    except (OSError, ValueError):
        return None
    return f"it is {_size(size)}, over the limit of {_size(max_bytes)}" if size > max_bytes else None


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading, or raise UnsafeInput; never blocks, never opens a device
    for reading (the ``fstat`` after the non-blocking open decides on what was really opened)."""
    reason = problem(path)
    if reason is not None:
        raise UnsafeInput(reason)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except ValueError:
        raise UnsafeInput("its name has a NUL byte") from None
    except OSError as exc:
        raise UnsafeInput(_os_reason(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the stat and the open
            raise UnsafeInput(f"it is {kind_of(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file never blocks; plain reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The whole file, at most ``max_bytes``; UnsafeInput when it is larger or not regular."""
    with open_regular(path) as stream:
        try:
            size = os.fstat(stream.fileno()).st_size
            if size > max_bytes:
                raise UnsafeInput(f"it is {_size(size)}, over the limit of {_size(max_bytes)}")
            # Read one byte past the cap: a file that grows while read is still refused.
            data = stream.read(max_bytes + 1)
        except OSError as exc:
            raise UnsafeInput(_os_reason(exc)) from None
    if len(data) > max_bytes:
        raise UnsafeInput(f"it is over the limit of {_size(max_bytes)}")
    return data


def read_text(path: str | os.PathLike[str], max_bytes: int) -> str:
    """UTF-8 text (a BOM dropped, bad bytes replaced), bounded as ``read_bytes``."""
    return read_bytes(path, max_bytes).decode("utf-8-sig", errors="replace")


def _os_reason(exc: OSError) -> str:
    return f"cannot be read: {exc.strerror or exc}"


def _size(count: int) -> str:
    if count >= MiB:
        return f"{count / MiB:.1f} MiB"
    return f"{count:,} bytes"
