"""The log scanner's core (doctor/logs.py's CandidateLines): the lines that hold a keyword, their
numbers and the line count, over chunk boundaries, CRLF, unterminated and huge lines, with the
one-pass automaton and with the standard library's bytes.find alike, and against the real
`grep -n -F -f` on a generated log."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from doctor.logs import MAX_LINE_BYTES, CandidateLines, Finder, automaton_finder, find_finder
from doctor.logscan import KEYWORD_BYTES, KEYWORDS, SOCKET_FAILED, scan_stream

Make = Callable[[tuple[bytes, ...]], Finder]
FINDERS = [pytest.param(automaton_finder, id="automaton"), pytest.param(find_finder, id="bytes.find")]
FATAL = "FATAL:  could not create any Unix-domain sockets"
LONG = MAX_LINE_BYTES + 100


def candidates(data: bytes, make: Make, chunk: int = 0) -> tuple[list[tuple[int, str]], int]:
    lines = CandidateLines(io.BytesIO(data), KEYWORD_BYTES, make(KEYWORD_BYTES), chunk)
    return list(lines), lines.lines


CASES = [
    pytest.param(b"", [], 0, id="empty"),
    pytest.param(b"\n", [], 1, id="one-empty-line"),
    pytest.param(b"a\nb\n", [], 2, id="no-keyword"),
    pytest.param(f"a\n{FATAL}\nb\n".encode(), [(2, FATAL)], 3, id="middle"),
    pytest.param(f"{FATAL}\n".encode(), [(1, FATAL)], 1, id="first-line"),
    pytest.param(f"a\r\n{FATAL}\r\nb\r\n".encode(), [(2, FATAL)], 3, id="crlf"),
    pytest.param(b"a\nchown: /d: Permission denied", [(2, "chown: /d: Permission denied")], 2, id="no-final-newline"),
    pytest.param(b"a\n\nUnix P1001 chown\n\n", [(3, "Unix P1001 chown")], 4, id="several-keywords-one-line"),
    pytest.param(
        b"Unix\nchmod\nlock file\n", [(1, "Unix"), (2, "chmod"), (3, "lock file")], 3, id="consecutive-lines"
    ),
    pytest.param(b"\xff\xfe Unix \x80\n", [(1, "\ufffd\ufffd Unix \ufffd")], 1, id="bad-utf-8"),
    pytest.param(b"x" * LONG + b" Unix\nok\n", [], 2, id="keyword-past-the-head"),
    pytest.param(b"Unix" + b"y" * LONG + b"\nP1001\n", [(1, "Unix" + "y" * (MAX_LINE_BYTES - 4)), (2, "P1001")], 2,
                 id="huge-line-kept-to-its-head"),
    pytest.param(b"a\n" + b"z" * LONG, [], 2, id="huge-unterminated-line"),
]  # fmt: skip


@pytest.mark.parametrize("make", FINDERS)
@pytest.mark.parametrize(("data", "expected", "lines"), CASES)
def test_candidate_lines(make: Make, data: bytes, expected: list[tuple[int, str]], lines: int) -> None:
    for chunk in (0, 1, 3, 7, 64, 1000, MAX_LINE_BYTES + 1):  # 0: the default chunk
        assert candidates(data, make, chunk) == (expected, lines), f"chunk {chunk}"


@pytest.mark.parametrize("make", FINDERS)
@pytest.mark.parametrize("keyword", KEYWORD_BYTES)
def test_a_keyword_straddling_every_chunk_boundary_is_found(make: Make, keyword: bytes) -> None:
    data = b"ordinary line\nsome " + keyword + b" here\nlast\n"
    start = data.index(keyword)
    for chunk in range(start + 1, start + len(keyword)):  # the first chunk ends inside the keyword
        found, lines = candidates(data, make, chunk)
        assert (found, lines) == ([(2, f"some {keyword.decode()} here")], 3), f"chunk {chunk}"


class Endless(io.RawIOBase):
    """A stream of ``size`` bytes of one line, made as it is read: the test holds none of it."""

    def __init__(self, head: bytes, size: int) -> None:
        self.head, self.left = head, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        piece = (self.head + b"q" * count)[:count]
        self.head = self.head[count:]
        buffer[:count] = piece
        self.left -= count
        return count


@pytest.mark.parametrize("make", FINDERS)
def test_a_huge_line_costs_a_chunk_not_the_line(make: Make) -> None:
    size, chunk = 64 * 1024 * 1024, 1024 * 1024
    stream = io.BufferedReader(Endless(FATAL.encode(), size), buffer_size=chunk)
    tracemalloc.start()
    try:
        lines = CandidateLines(stream, KEYWORD_BYTES, make(KEYWORD_BYTES), chunk)
        found = list(lines)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(n, len(text)) for n, text in found] == [(1, MAX_LINE_BYTES)]
    assert found[0][1].startswith(FATAL)
    assert lines.lines == 1
    assert peak < 4 * chunk, f"peak {peak} bytes for a {size}-byte line"


def generated_log(rnd: random.Random, count: int) -> bytes:
    """Ordinary lines, keywords anywhere in some, CRLF endings in some, no final newline."""
    words = ["LOG:", "statement:", "SELECT", "connection", "authorized", "database=app", "data", "socket", "file"]
    lines = []
    for _ in range(count):
        line = [rnd.choice(words) for _ in range(rnd.randint(0, 12))]
        if rnd.random() < 0.05:
            line.insert(rnd.randint(0, len(line)), rnd.choice(KEYWORDS))
        lines.append(" ".join(line) + ("\r" if rnd.random() < 0.1 else ""))
    return "\n".join(lines).encode()


@pytest.mark.skipif(shutil.which("grep") is None, reason="needs grep")
@pytest.mark.parametrize("make", FINDERS)
@pytest.mark.parametrize("chunk", [0, 4096, 65536])
def test_line_numbers_and_count_are_greps(tmp_path: Path, make: Make, chunk: int) -> None:
    log, keywords = tmp_path / "postgres.log", tmp_path / "keywords"
    log.write_bytes(generated_log(random.Random(chunk), 20_000))
    keywords.write_text("\n".join(KEYWORDS) + "\n")
    grep = subprocess.run(
        ["grep", "-n", "-F", "-f", str(keywords), str(log)], capture_output=True, check=True, env={"LC_ALL": "C"}
    )
    expected = [int(line.split(b":", 1)[0]) for line in grep.stdout.splitlines()]
    found, lines = candidates(log.read_bytes(), make, chunk)
    assert len(expected) > 500
    assert [number for number, _ in found] == expected
    count = subprocess.run(["grep", "-c", "", str(log)], capture_output=True, check=True)
    assert lines == int(count.stdout)


@pytest.mark.parametrize("make", FINDERS)
def test_the_scan_is_the_same_with_either_finder(make: Make) -> None:
    data = b"".join(f"2026-03-02 09:12:{second:02d}.000 UTC [1] {FATAL}\nok\r\n".encode() for second in range(30))
    scan = scan_stream(io.BytesIO(data), "db", make(KEYWORD_BYTES))
    hits = scan.hits[SOCKET_FAILED]
    assert (scan.lines, hits.count, hits.events) == (60, 30, 30)
    assert (hits.first, hits.last) == ("2026-03-02 09:12:00.000 UTC", "2026-03-02 09:12:29.000 UTC")
    assert [e.source for e in hits.examples] == ["db:1", "db:3", "db:5", "db:7"]


@pytest.mark.parametrize(
    ("blocked", "finder"),
    [(False, "automaton_finder.<locals>.find"), (True, "find_finder.<locals>.find")],
)
def test_without_the_automaton_the_scan_falls_back_to_bytes_find(blocked: bool, finder: str) -> None:
    # A fresh interpreter where the package cannot be imported, as on a platform without its wheel.
    program = (
        "import io, sys\n"
        f"if {blocked}: sys.modules['ahocorasick_rs'] = None\n"
        "from doctor.logs import default_finder\n"
        "from doctor.logscan import KEYWORD_BYTES, scan_stream\n"
        "print(default_finder(KEYWORD_BYTES).__qualname__)\n"
        f"scan = scan_stream(io.BytesIO(b'a\\r\\n{FATAL}\\nb'), 'db')\n"
        "print(scan.lines, {k: h.count for k, h in scan.hits.items()})\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == [finder, f"3 {{'{SOCKET_FAILED}': 1}}"]
