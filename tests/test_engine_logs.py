"""The engine's multiplexed log stream back to plain lines: a line written in several pieces
(Podman sends each write() as its own frame, each with its own timestamp) reads as one line
under its first timestamp, so the classifier sees what the program wrote."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from doctor.engine.session import _FrameReader

STAMP = b"2026-11-26T23:29:33.123456789Z "


def frame(payload: bytes, stream: int = 2) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


@dataclass
class Body:
    """The HTTP answer as _FrameReader reads it: ``read(n)`` over the body's bytes."""

    data: io.BytesIO
    status: int = 200

    def read(self, size: int = -1) -> bytes:
        return self.data.read(size)

    def close(self) -> None:
        self.data.close()


def read(frames: list[bytes], chunk: int = 1024 * 1024) -> bytes:
    reader = _FrameReader(Body(io.BytesIO(b"".join(frames))))
    reader.CHUNK = chunk
    return io.BufferedReader(reader).read()


@pytest.mark.parametrize(
    ("frames", "text"),
    [
        pytest.param(  # Docker: one frame per line
            [frame(STAMP + b"LOG:  database system is ready\n"), frame(STAMP + b"FATAL:  x\n", 1)],
            STAMP + b"LOG:  database system is ready\n" + STAMP + b"FATAL:  x\n",
            id="whole-lines",
        ),
        pytest.param(  # Podman: coreutils chown's three writes, then the newline on its own
            [
                frame(STAMP + b"chown: "),
                frame(STAMP + b"changing ownership of '/var/run/postgresql'"),
                frame(STAMP + b": Permission denied"),
                frame(STAMP + b"\n"),
                frame(STAMP + b"next line\n"),
            ],
            STAMP + b"chown: changing ownership of '/var/run/postgresql': Permission denied\n" + STAMP + b"next line\n",
            id="partial-writes",
        ),
        pytest.param(  # a line that merely contains a date is not a frame's stamp to drop
            [frame(STAMP + b"started "), frame(STAMP + b"2026-01-01T00:00:00Z was the date\n")],
            STAMP + b"started 2026-01-01T00:00:00Z was the date\n",
            id="date-in-text",
        ),
    ],
)
@pytest.mark.parametrize("chunk", [1024 * 1024, 7], ids=["one-read", "split-reads"])
def test_frames_become_the_lines_the_program_wrote(frames: list[bytes], text: bytes, chunk: int) -> None:
    assert read(frames, chunk) == text
