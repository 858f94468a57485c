"""Streaming log input: one line at a time, long lines cut, bad UTF-8 replaced, never the whole
file in memory."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import BinaryIO

from doctor import safeio

MAX_LINE_BYTES = 16 * 1024
CHUNK_BYTES = 4 * 1024 * 1024

# Where the keywords occur in block[start:end], in ascending order (at least the leftmost
# occurrence on each line that holds one).
Finder = Callable[[bytes, int, int], list[int]]


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


def automaton_finder(keywords: tuple[bytes, ...]) -> Finder:
    """One pass over the block for all the keywords (Aho-Corasick with a SIMD prefilter, in
    Rust): about ten times the speed of one ``bytes.find`` pass per keyword."""
    import ahocorasick_rs

    # Leftmost-first, not overlapping: every line holding a keyword still gets its leftmost
    # match, since no keyword spans a newline.
    automaton = ahocorasick_rs.BytesAhoCorasick(list(keywords), matchkind=ahocorasick_rs.MatchKind.LeftmostFirst)

    def find(block: bytes, start: int, end: int) -> list[int]:
        return [start + at for _, at, _ in automaton.find_matches_as_indexes(memoryview(block)[start:end])]

    return find


def find_finder(keywords: tuple[bytes, ...]) -> Finder:
    """The standard library's way: a ``bytes.find`` pass per keyword, the first hit of each on a line."""

    def find(block: bytes, start: int, end: int) -> list[int]:
        hits: list[int] = []
        for keyword in keywords:
            position = block.find(keyword, start, end)
            while position != -1:
                hits.append(position)
                position = block.find(keyword, block.find(b"\n", position, end) + 1, end)
        hits.sort()
        return hits

    return find


def default_finder(keywords: tuple[bytes, ...]) -> Finder:
    try:
        return automaton_finder(keywords)
    except ImportError:  # a dependency, with wheels for Linux and macOS; kept working without it
        return find_finder(keywords)


class CandidateLines:
    """The lines of a stream that contain one of the keywords, with their line numbers.

    The stream is read in large chunks, the keywords are searched for over each chunk in one
    pass, and only the lines around a hit are cut out and decoded; newlines are counted with
    ``bytes.count`` between hits. A line is its first MAX_LINE_BYTES bytes: a keyword further
    on does not make it a candidate. A line that runs over a chunk's end is carried (its head
    only) and tested when it ends. Memory stays at a chunk plus one line head however large
    the log or its lines. ``lines`` holds the line count once iteration is done.
    """

    def __init__(
        self, stream: BinaryIO, keywords: tuple[bytes, ...], finder: Finder | None = None, chunk_bytes: int = 0
    ) -> None:
        self.stream = stream
        self.keywords = keywords
        self.find = finder or default_finder(keywords)
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES
        self.lines = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        carry = b""  # the head of the line the last chunk ended in
        while True:
            chunk = self.stream.read(self.chunk_bytes)
            if not chunk:
                break
            first = chunk.find(b"\n")
            if first == -1:
                carry += chunk[: MAX_LINE_BYTES - len(carry)]
                continue
            yield from self._line(carry + chunk[: min(first, MAX_LINE_BYTES - len(carry))])
            last = chunk.rfind(b"\n")
            yield from self._candidates(chunk, first + 1, last + 1)
            carry = chunk[last + 1 : last + 1 + MAX_LINE_BYTES]
        if carry:
            yield from self._line(carry)

    def _line(self, head: bytes) -> Iterator[tuple[int, str]]:
        """One line that is already cut to its head."""
        self.lines += 1
        if any(keyword in head for keyword in self.keywords):
            yield self.lines, head.decode("utf-8", errors="replace").rstrip("\r")

    def _candidates(self, block: bytes, start: int, end: int) -> Iterator[tuple[int, str]]:
        """The complete lines of block[start:end], which ends in a newline."""
        counted_to, previous = start, -1
        for hit in self.find(block, start, end):
            line_start = block.rfind(b"\n", start, hit) + 1 or start
            if line_start == previous:
                continue
            previous = line_start
            self.lines += block.count(b"\n", counted_to, line_start)
            counted_to = line_start
            head = block[line_start : min(block.find(b"\n", line_start, end), line_start + MAX_LINE_BYTES)]
            if any(keyword in head for keyword in self.keywords):
                yield self.lines + 1, head.decode("utf-8", errors="replace").rstrip("\r")
        self.lines += block.count(b"\n", counted_to, end)
