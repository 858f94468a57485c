"""Streaming log input: one line at a time, long lines cut, bad UTF-8 replaced, never the whole
file in memory."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import BinaryIO

from doctor import safeio

MAX_LINE_BYTES = 16 * 1024
CHUNK_BYTES = 1024 * 1024


class LogUnreadable(Exception):
    pass


def open_log(path: str) -> BinaryIO:
    """A log is streamed (constant memory, however large), so no size cap: but it must be a
    regular file, opened so that a FIFO or a device can neither block nor be read."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return safeio.open_regular(path)
    except safeio.UnsafeInput as exc:
        raise LogUnreadable(f"cannot read {path}: {exc.reason.removeprefix('cannot be read: ')}") from None


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


class CandidateLines:
    """The lines of a stream that contain one of the keywords, with their line numbers.

    Most lines of a log match nothing, so each keyword is searched for over megabyte chunks
    with ``bytes.find`` (CPython's fast substring search; a regex alternation would step
    through every byte) and only the lines it hits are decoded. Memory stays at a chunk plus
    one line however large the log. ``lines`` holds the line count once iteration is done.
    """

    def __init__(self, stream: BinaryIO, keywords: tuple[bytes, ...]) -> None:
        self.stream = stream
        self.keywords = keywords
        self.lines = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        carry = b""
        skipping = False  # inside an over-long line whose head was already taken
        while True:
            chunk = self.stream.read(CHUNK_BYTES)
            if not chunk:
                break
            if skipping:
                newline = chunk.find(b"\n")
                if newline == -1:
                    continue
                chunk, skipping = chunk[newline + 1 :], False
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            complete, carry = data[:cut], data[cut:]
            if complete:
                yield from self._candidates(complete)
                self.lines += complete.count(b"\n")
            if len(carry) > MAX_LINE_BYTES:
                yield from self._candidates(carry[:MAX_LINE_BYTES] + b"\n")
                self.lines += 1
                carry, skipping = b"", True
        if carry:
            yield from self._candidates(carry + b"\n")
            self.lines += 1

    def _candidates(self, block: bytes) -> Iterator[tuple[int, str]]:
        starts: set[int] = set()
        for keyword in self.keywords:
            position = block.find(keyword)
            while position != -1:
                start = block.rfind(b"\n", 0, position) + 1
                starts.add(start)
                position = block.find(keyword, block.find(b"\n", position) + 1)
        line_number, counted_to = self.lines, 0
        for start in sorted(starts):
            line_number += block.count(b"\n", counted_to, start)
            counted_to = start
            end = block.find(b"\n", start)
            line = block[start : min(end, start + MAX_LINE_BYTES)]
            yield line_number + 1, line.decode("utf-8", errors="replace").rstrip("\r")


def iter_log_lines(path: str) -> Iterator[str]:
    stream = open_log(path)
    try:
        yield from iter_lines(stream)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
