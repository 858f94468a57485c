"""Streaming log input: one line at a time, long lines cut, bad UTF-8 replaced, never the whole
file in memory."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO

MAX_LINE_BYTES = 16 * 1024


class LogUnreadable(Exception):
    pass


def open_log(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            # A FIFO or device could block forever; the doctor reads files only.
            raise LogUnreadable(f"{path} is not a regular file")
        return open(path, "rb")
    except OSError as exc:
        raise LogUnreadable(f"cannot read {path}: {exc.strerror or exc}") from None


def iter_lines(stream: BinaryIO) -> Iterator[str]:
    while True:
        chunk = stream.readline(MAX_LINE_BYTES)
        if not chunk:
            return
        if not chunk.endswith(b"\n") and len(chunk) == MAX_LINE_BYTES:
            while True:  # Drop the rest of an over-long line; no signature is that long.
                rest = stream.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
        yield chunk.decode("utf-8", errors="replace").rstrip("\r\n")


def iter_log_lines(path: str) -> Iterator[str]:
    stream = open_log(path)
    try:
        yield from iter_lines(stream)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
