"""HTTP/1.1 on raw sockets for the finch-daemon proxy: read a head, relay a body in whatever
framing it came (Content-Length, chunked, or until close), and pipe an upgraded connection.

Written by hand rather than with http.server/http.client because the proxy must hand over a
connection after ``101 UPGRADED`` (exec, attach) with the bytes already buffered, and must relay
streams (logs) without buffering them whole."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

HEAD_LIMIT = 64 * 1024  # a Docker API request or response head is a few hundred bytes
CHUNK = 64 * 1024


class WireError(Exception):
    """The peer spoke something that is not HTTP/1.1 as the proxy understands it."""


class Conn:
    """A socket with a read buffer, so bytes read past a head stay available to whoever reads next."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(CHUNK)
        if not data:
            return False
        self.buf += data
        return True

    def read_until(self, marker: bytes, limit: int) -> bytes | None:
        """Up to and including ``marker``; None on a clean EOF before any byte."""
        while True:
            index = self.buf.find(marker)
            if index >= 0:
                end = index + len(marker)
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            if len(self.buf) > limit:
                raise WireError(f"no {marker!r} within {limit} bytes")
            if not self._fill():
                if self.buf:
                    raise WireError("connection closed in the middle of a message")
                return None

    def read_exact(self, size: int) -> bytes:
        while len(self.buf) < size:
            if not self._fill():
                raise WireError("connection closed in the middle of a body")
        out = bytes(self.buf[:size])
        del self.buf[:size]
        return out

    def read_some(self) -> bytes:
        """Whatever is buffered, else one recv; b"" at EOF."""
        if self.buf:
            out = bytes(self.buf)
            self.buf.clear()
            return out
        return self.sock.recv(CHUNK)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


@dataclass
class Message:
    """A request or response head: the first line split in three, and the headers in order."""

    start: tuple[str, str, str]
    headers: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def without(self, *names: str) -> list[tuple[str, str]]:
        drop = {n.lower() for n in names}
        return [(k, v) for k, v in self.headers if k.lower() not in drop]

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.get("Transfer-Encoding") or "").lower()

    @property
    def length(self) -> int | None:
        value = self.get("Content-Length")
        if value is None:
            return None
        if not value.strip().isdigit():
            raise WireError(f"bad Content-Length {value!r}")
        return int(value)

    def encode(self) -> bytes:
        lines = [" ".join(self.start), *(f"{k}: {v}" for k, v in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_head(conn: Conn) -> Message | None:
    raw = conn.read_until(b"\r\n\r\n", HEAD_LIMIT)
    if raw is None:
        return None
    lines = raw.decode("latin-1").split("\r\n")[:-2]
    parts = lines[0].split(" ", 2)
    if len(parts) < 2:
        raise WireError(f"bad first line {lines[0]!r}")
    start = (parts[0], parts[1], parts[2] if len(parts) > 2 else "")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise WireError(f"bad header line {line!r}")
        headers.append((name.strip(), value.strip()))
    return Message(start, headers)


def relay_body(source: Conn, head: Message, sink: Conn, *, until_close: bool) -> None:
    """Copy the body that follows ``head`` from source to sink, framing unchanged."""
    if head.chunked:
        while True:
            line = source.read_until(b"\r\n", HEAD_LIMIT)
            if line is None:
                raise WireError("connection closed inside a chunked body")
            sink.send(line)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                _relay_trailers(source, sink)
                return
            _copy(source, sink, size + 2)  # the chunk and its CRLF
        return
    length = head.length
    if length is not None:
        _copy(source, sink, length)
    elif until_close:
        while data := source.read_some():
            sink.send(data)


def read_body(source: Conn, head: Message, *, limit: int, until_close: bool) -> bytes:
    """The whole body, de-chunked, refusing more than ``limit`` bytes."""
    out = bytearray()
    if head.chunked:
        while True:
            line = source.read_until(b"\r\n", HEAD_LIMIT)
            if line is None:
                raise WireError("connection closed inside a chunked body")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                _relay_trailers(source, None)
                return bytes(out)
            if len(out) + size > limit:
                raise WireError(f"body over {limit} bytes")
            out += source.read_exact(size)
            source.read_exact(2)
    length = head.length
    if length is not None:
        if length > limit:
            raise WireError(f"body over {limit} bytes")
        return source.read_exact(length)
    if until_close:
        while data := source.read_some():
            out += data
            if len(out) > limit:
                raise WireError(f"body over {limit} bytes")
    return bytes(out)


def dechunk_stream(source: Conn, head: Message, sink: Conn) -> None:
    """Send the body to sink as plain bytes (no framing), for a response delimited by close."""
    if not head.chunked:
        relay_body(source, head, sink, until_close=True)
        return
    while True:
        line = source.read_until(b"\r\n", HEAD_LIMIT)
        if line is None:
            return
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return
        _copy(source, sink, size)
        source.read_exact(2)


def _relay_trailers(source: Conn, sink: Conn | None) -> None:
    while True:
        line = source.read_until(b"\r\n", HEAD_LIMIT)
        if line is None:
            return
        if sink is not None:
            sink.send(line)
        if line == b"\r\n":
            return


def _copy(source: Conn, sink: Conn, size: int) -> None:
    left = size
    while left:
        if source.buf:
            data = bytes(source.buf[:left])
            del source.buf[: len(data)]
        else:
            data = source.sock.recv(min(CHUNK, left))
            if not data:
                raise WireError("connection closed in the middle of a body")
        sink.send(data)
        left -= len(data)


def pipe(a: Conn, b: Conn, *, idle: float, stop: threading.Event) -> None:
    """Both directions of an upgraded connection (exec, attach) until both sides are done, the
    proxy stops, or nothing moves for ``idle`` seconds. A side's EOF is passed on as a half-close."""
    for conn, other in ((a, b), (b, a)):
        if conn.buf:
            other.send(conn.read_some())
    selector = selectors.DefaultSelector()
    open_reads: dict[socket.socket, Conn] = {a.sock: b, b.sock: a}
    for sock in open_reads:
        selector.register(sock, selectors.EVENT_READ)
    last = time.monotonic()
    try:
        while open_reads and not stop.is_set():
            events = selector.select(timeout=0.25)
            if not events:
                if time.monotonic() - last > idle:
                    return
                continue
            last = time.monotonic()
            for key, _ in events:
                ready = key.fileobj
                if not isinstance(ready, socket.socket):
                    continue
                data = ready.recv(CHUNK)
                target = open_reads[ready]
                if data:
                    target.send(data)
                    continue
                selector.unregister(ready)
                del open_reads[ready]
                with contextlib.suppress(OSError):
                    target.sock.shutdown(socket.SHUT_WR)
                if ready is b.sock:
                    return  # the engine ended the session: the client has had everything
    finally:
        selector.close()
