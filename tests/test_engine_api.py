"""The engine client's HTTP: what it makes of the answers an engine gives, served by a real
Unix-socket server that writes them byte for byte (the lab's tests run it against dockerd,
Podman and the finch-daemon proxy). Here: error statuses, a hijacked exec stream that ends
with the connection, a kept-alive connection the engine closed while idle, and the timeout."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from doctor.engine.api import APIError, EngineAPI, NotFound, demultiplex


def frame(payload: bytes, stream: int = 1) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def json_answer(status: str, body: bytes, *, close: bool = False) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body


Reply = Callable[[bytes], tuple[bytes, bool]]  # request -> (bytes to write, close afterwards)


class Engine:
    """Answers each request on a connection with ``reply``; counts connections and requests."""

    def __init__(self, path: Path, reply: Reply) -> None:
        self.path, self.reply = path, reply
        self.connections = 0
        self.requests: list[bytes] = []
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(path))
        self.server.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    data = connection.recv(65536)
                    if not data:
                        return
                    pending += data
                head, _, pending = pending.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
                )  # fmt: skip
                while len(pending) < length:
                    pending += connection.recv(65536)
                pending = pending[length:]
                self.requests.append(head.split(b"\r\n")[0])
                answer, close = self.reply(head)
                connection.sendall(answer)
                if close:
                    return

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder whose socket paths fit in sun_path (pytest's tmp_path can be too long)."""
    import shutil

    from tests.conftest import public_tempdir

    path = public_tempdir("cd-api-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def serve(short_dir: Path) -> Iterator[Callable[[Reply], tuple[Engine, EngineAPI]]]:
    made: list[tuple[Engine, EngineAPI]] = []

    def start(reply: Reply) -> tuple[Engine, EngineAPI]:
        engine = Engine(short_dir / f"e{len(made)}.sock", reply)
        api = EngineAPI(f"unix://{engine.path}", timeout=2)
        made.append((engine, api))
        return engine, api

    yield start
    for engine, api in made:
        api.close()
        engine.close()


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        pytest.param("404 Not Found", b'{"message": "No such container: gone"}', NotFound, "No such container: gone", id="not-found"),
        pytest.param("500 Internal Server Error", b'{"message": "driver failed"}', APIError, "driver failed", id="json-message"),
        pytest.param("400 Bad Request", b"client version 1.45 is too new", APIError, "client version 1.45 is too new", id="plain-text"),
        pytest.param("503 Service Unavailable", b"", APIError, "Service Unavailable", id="no-body"),
    ],
)  # fmt: skip
def test_an_error_status_is_raised_with_the_engines_words(
    serve: Callable[[Reply], tuple[Engine, EngineAPI]], status: str, body: bytes, kind: type[APIError], message: str
) -> None:
    _, api = serve(lambda _request: (json_answer(status, body), False))
    with pytest.raises(kind) as raised:
        api.get("/containers/gone/json")
    assert type(raised.value) is kind
    assert (raised.value.message, raised.value.path) == (message, "/containers/gone/json")


def test_a_kept_alive_connection_is_reused(serve: Callable[[Reply], tuple[Engine, EngineAPI]]) -> None:
    def reply(request: bytes) -> tuple[bytes, bool]:
        if request.startswith(b"DELETE"):  # an empty answer: the connection goes on all the same
            return b"HTTP/1.1 204 No Content\r\n\r\n", False
        return json_answer("200 OK", b'{"ok": true}'), False

    engine, api = serve(reply)
    assert [api.get("/info"), api.get("/info"), api.get("/volumes")] == [{"ok": True}] * 3
    api.delete("/containers/probe", {"force": 1})
    api.delete("/containers/probe", {"force": 1})
    assert api.get("/info") == {"ok": True}
    assert engine.connections == 1


def test_a_connection_the_engine_closed_while_idle_is_replaced(
    serve: Callable[[Reply], tuple[Engine, EngineAPI]],
) -> None:
    # The engine keeps the connection open after answering, then drops it unannounced.
    engine, api = serve(lambda _request: (json_answer("200 OK", b"[]"), True))
    assert api.get("/containers/json") == []
    time.sleep(0.05)  # the close reaches this side
    assert api.get("/containers/json") == []
    assert engine.connections == 2


def test_an_exec_stream_ends_with_the_connection(serve: Callable[[Reply], tuple[Engine, EngineAPI]]) -> None:
    """Not detached, the engine hijacks the connection: 200 with no length, frames, then close."""

    def reply(request: bytes) -> tuple[bytes, bool]:
        if request.startswith(b"POST /v1.35/containers/c1/exec "):
            return json_answer("201 Created", b'{"Id": "e1"}'), False
        if request.startswith(b"POST /v1.35/exec/e1/start "):
            stream = frame(b"/var/run/postgresql:5432 - ") + frame(b"accepting connections\n", 2)
            return b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n" + stream, True
        return json_answer("200 OK", b'{"ExitCode": 0, "Running": false}'), False

    engine, api = serve(reply)
    assert api.exec_run("c1", ["pg_isready"]) == (0, b"/var/run/postgresql:5432 - accepting connections\n")
    assert [line.split(b" ")[1] for line in engine.requests] == [
        b"/v1.35/containers/c1/exec", b"/v1.35/exec/e1/start", b"/v1.35/exec/e1/json",
    ]  # fmt: skip


def test_an_engine_that_accepts_and_never_answers_times_out(short_dir: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(short_dir / "silent.sock"))
    server.listen()
    api = EngineAPI(f"unix://{short_dir / 'silent.sock'}", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        api.get("/version", versioned=False)
    assert time.monotonic() - started < 2
    api.close()
    server.close()


@pytest.mark.parametrize(
    ("stream", "text"),
    [
        pytest.param(frame(b"out\n") + frame(b"err\n", 2), b"out\nerr\n", id="both-streams-in-order"),
        pytest.param(frame(b""), b"", id="empty-frame"),
        pytest.param(frame(b"whole\n") + frame(b"cut short")[:10], b"whole\n" + b"cu", id="truncated-last-frame"),
    ],
)
def test_demultiplex(stream: bytes, text: bytes) -> None:
    assert demultiplex(stream) == text


@pytest.mark.parametrize("url", ["ssh+tls://host", "fd://3"])
def test_a_scheme_neither_client_speaks_is_an_error_not_a_crash(url: str) -> None:
    from doctor.engine.endpoint import Endpoint
    from doctor.engine.session import EngineUnreachable, connect

    with pytest.raises(EngineUnreachable) as raised:
        connect(Endpoint(url, "--docker-host"), 1, "linux")
    assert raised.value.cause in ("other", "ssh")
