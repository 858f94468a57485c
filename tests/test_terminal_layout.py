"""The terminal report as a person sees it: the CLI on a real pseudo-terminal of 80 and 120
columns. Prose wraps with a hanging indent, diffs and commands never wrap, the verdict is the
last thing on the screen, and a progress line shows only on a terminal."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios

import pytest

from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "macos-host-socket"
ARGS = [
    "--project-directory", str(EXAMPLE), "--target-os", "macos", "--offline",
    "--log-file", str(EXAMPLE / "logs" / "database.log"), "--log-file", str(EXAMPLE / "logs" / "backend.log"),
]  # fmt: skip
PROGRAM = "import sys; from doctor.cli import main; sys.exit(main())"
_STEP_NOTE = re.compile(r"  # (stops the service|moves data|stops the service, moves data)$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def on_terminal(columns: int, *args: str, stderr_on_terminal: bool = False) -> tuple[str, str]:
    """Run the CLI with stdout (or stderr) on a pty of the given width; (pty text, other stream)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "CI")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, "doctor", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if stderr_on_terminal else slave,
        stderr=slave if stderr_on_terminal else subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    stream = proc.stdout if stderr_on_terminal else proc.stderr
    assert stream is not None
    with stream:
        other = stream.read()
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode(), other.decode()


def verbatim_lines() -> set[str]:
    """Every diff and command line of the report: these may run past the width, never wrapped."""
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, "doctor", *ARGS, "--format", "json"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    report = json.loads(done.stdout)
    lines: set[str] = set()
    for finding in report["findings"]:
        remedy = finding["remedy"] or {}
        lines |= set((remedy.get("diff") or "").splitlines())
        lines |= {f"$ {step['command']}" for step in remedy.get("steps") or []}
    return lines


def without_step_note(line: str) -> str:
    """A command line as the report has it, without the note the screen adds after it."""
    return _STEP_NOTE.sub("", line.strip())


@pytest.mark.parametrize("columns", [80, 120])
def test_prose_wraps_with_hanging_indent_and_diffs_never_wrap(columns: int) -> None:
    raw, _ = on_terminal(columns, *ARGS, "--color", "never")
    lines = [_ANSI.sub("", line) for line in raw.replace("\r\n", "\n").split("\n")]
    verbatim = {line.strip() for line in verbatim_lines()}
    for line in lines:
        if len(line) > columns:
            assert without_step_note(line) in verbatim, line
    # every diff line is there whole, on one line
    for diff_line in (v for v in verbatim if len(v) > 20):
        assert any(without_step_note(line) == diff_line for line in lines), diff_line
    # a title that wraps continues under its text, not at column 0
    title = next(i for i, line in enumerate(lines) if line.startswith("✗ The socket directory"))
    assert lines[title + 1].startswith("  ") and not lines[title + 1].startswith("    fix")
    # words are not broken: no line ends inside "volumes:"
    assert not any(line.endswith("volume") for line in lines)
    # the verdict is the last thing on the screen
    tail = [line for line in lines if line.strip()][-14:]  # the verdict block is 11 lines at 80 columns
    assert any(line.startswith("Status: FAIL") for line in tail)
    assert any(line.startswith("Next step: Mount the named volume db_socket") for line in tail)


def test_not_a_terminal_does_not_wrap() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, "doctor", *ARGS], capture_output=True, text=True, timeout=60, check=False
    )
    assert any(len(line) > 150 for line in done.stdout.splitlines())  # one line per item, for grep
    assert done.stderr == ""  # no progress line off a terminal


def test_progress_line_on_a_terminal_only() -> None:
    raw, report = on_terminal(80, *ARGS, stderr_on_terminal=True)
    # rich shows the latest message at each refresh; a fast run may show only the last check's
    assert re.search(r"cultivate doctor: (reading the Compose files|[a-z-]+ \(\d+/\d+\))", _ANSI.sub("", raw))
    assert "reading the Compose files" not in report
