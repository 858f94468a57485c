"""A small client for the Engine API that Docker, Podman and finch-daemon serve: the calls a run
makes (version, info, containers, volumes, logs, exec, Swarm lists) and the few objects it
creates (a probe container, a probe service), over ``http.client``.

Why not docker-py for these: importing docker-py (requests, urllib3, charset_normalizer, email,
ssl) costs about 80 ms of CPU in every run, as much as the engine's own answers to a two-container
deployment. docker-py stays for the transports this module does not speak (``ssh://``, which
needs paramiko, and Windows' ``npipe://``): :class:`DockerPyTransport` carries the same requests
over it.

Every request has the run's timeout on each socket operation, as docker-py's had. Each request
uses a connection of its own from a small pool, so the bounded pool's threads never share one."""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Protocol

MINIMUM_API = "1.35"  # finch-daemon speaks 1.35 to 1.43
MAXIMUM_API = "1.45"  # the newest this client was checked against (docker-py 7.1's default)
SCHEMES_SPOKEN = ("unix://", "http+unix://", "tcp://", "http://", "https://")


class APIError(Exception):
    """The engine answered with an error status; ``message`` is its own words."""

    def __init__(self, status: int, message: str, path: str) -> None:
        super().__init__(f"{status} {message} ({path})")
        self.status = status
        self.message = message
        self.path = path


class NotFound(APIError):
    """404: the container, exec or volume went away (or never was)."""


class Body(Protocol):
    """An answer being read: its status, then its bytes until the end or ``close``."""

    status: int

    def read(self, size: int = -1) -> bytes: ...

    def close(self) -> None: ...


class Transport(Protocol):
    def send(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str], timeout: float | None = None
    ) -> Body: ...

    def close(self) -> None: ...


def version_lt(left: str, right: str) -> bool:
    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split(".") if p.isdigit())

    return parts(left) < parts(right)


class EngineAPI:
    """One engine, at ``url``; ``version`` is the API version spoken (see :meth:`negotiate`)."""

    def __init__(self, url: str, timeout: float, transport: Transport | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.version = MINIMUM_API
        self.transport = transport or transport_for(url, timeout)

    def negotiate(self, server_api: str | None) -> None:
        """Speak the server's version, up to the newest this client knows (as docker-py's auto)."""
        server = server_api or MINIMUM_API
        self.version = server if version_lt(server, MAXIMUM_API) else MAXIMUM_API

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, versioned: bool = True) -> Any:
        return self._json(self.send("GET", path, params, versioned=versioned))

    def post(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        return self._json(self.send("POST", path, params, body, timeout=timeout, headers=headers))

    def delete(self, path: str, params: Mapping[str, Any] | None = None) -> None:
        self.send("DELETE", path, params).close()

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        *,
        versioned: bool = True,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Body:
        """The answer to one request, its status checked (APIError), its body not yet read;
        ``timeout`` replaces the run's for a request that waits on purpose (a container's exit)."""
        query = {key: _param(value) for key, value in (params or {}).items() if value is not None}
        target = (f"/v{self.version}" if versioned else "") + path
        if query:
            target += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        sent = {**(headers or {}), **({"Content-Type": "application/json"} if data is not None else {})}
        answer = self.transport.send(method, target, data, sent, timeout)
        if answer.status >= 400:
            raise _error(answer, path)
        return answer

    @staticmethod
    def _json(answer: Body) -> Any:
        try:
            data = answer.read()
        finally:
            answer.close()
        return json.loads(data) if data.strip() else None

    # What a run reads

    def listed(self, path: str, filters: Mapping[str, list[str]] | None = None, **params: Any) -> list[dict[str, Any]]:
        """A list endpoint's entries (``/containers/json``, ``/services``, ``/tasks``, ``/nodes``),
        the filters JSON-encoded as the API takes them."""
        query = {**params, "filters": json.dumps(filters) if filters else None}
        return [entry for entry in self.get(path, query) or [] if isinstance(entry, dict)]

    def containers(self, filters: Mapping[str, list[str]], *, all: bool = True) -> list[dict[str, Any]]:
        return self.listed("/containers/json", filters, all=int(all))

    def inspect(self, container_id: str) -> Container:
        return Container(self, self.get(f"/containers/{container_id}/json"))

    def exec_run(
        self, container_id: str, command: list[str], *, timeout: float | None = None
    ) -> tuple[int | None, bytes]:
        """Run ``command`` in the container and wait: (exit code, stdout and stderr as written).
        ``timeout`` bounds the wait for the command's output, for a command with a wait of its own."""
        created = self.post(
            f"/containers/{container_id}/exec", body={"AttachStdout": True, "AttachStderr": True, "Cmd": command}
        )
        exec_id = created["Id"]
        # Not detached: the engine hijacks the connection and sends multiplexed frames until the
        # command ends, then closes it. No Upgrade header is sent, so Docker, Podman and
        # finch-daemon all answer 200 with no length (a 101 would leave http.client no body).
        answer = self.send("POST", f"/exec/{exec_id}/start", body={"Detach": False, "Tty": False}, timeout=timeout)
        try:
            output = demultiplex(answer.read())
        finally:
            answer.close()
        code = (self.get(f"/exec/{exec_id}/json") or {}).get("ExitCode")
        return code, output

    def close(self) -> None:
        self.transport.close()


class Container:
    """A container as the engine describes it: ``attrs`` is its inspect document (or, before
    :meth:`reload`, its entry in the container list). The names match docker-py's model, so the
    checks' pure functions read either."""

    def __init__(self, api: EngineAPI, attrs: dict[str, Any]) -> None:
        self.api = api
        self.attrs = attrs

    @property
    def id(self) -> str:
        return str(self.attrs.get("Id", ""))

    @property
    def name(self) -> str:
        name = self.attrs.get("Name") or (self.attrs.get("Names") or [""])[0]
        return str(name).lstrip("/")

    @property
    def labels(self) -> dict[str, str]:
        config = self.attrs.get("Config")
        labels = config.get("Labels") if isinstance(config, dict) else self.attrs.get("Labels")
        return dict(labels or {})

    @property
    def image_id(self) -> str:
        return str(self.attrs.get("Image") or self.attrs.get("ImageID") or "")

    def reload(self) -> None:
        self.attrs = self.api.get(f"/containers/{self.id}/json")

    def exec_run(self, command: list[str], *, timeout: float | None = None) -> tuple[int | None, bytes]:
        return self.api.exec_run(self.id, command, timeout=timeout)

    def start(self) -> None:
        self.api.send("POST", f"/containers/{self.id}/start").close()

    def wait(self, timeout: float) -> dict[str, Any]:
        answer: dict[str, Any] = self.api.post(f"/containers/{self.id}/wait", timeout=timeout) or {}
        return answer

    def logs(self) -> bytes:
        answer = self.api.send("GET", f"/containers/{self.id}/logs", {"stdout": 1, "stderr": 1})
        try:
            return demultiplex(answer.read())
        finally:
            answer.close()

    def remove(self) -> None:
        self.api.delete(f"/containers/{self.id}", {"force": 1, "v": 0})


def demultiplex(data: bytes) -> bytes:
    """The bytes of stdout and stderr from a multiplexed stream (8-byte header per frame:
    stream, three zero bytes, big-endian size), in the order they were written."""
    pieces, position = [], 0
    while len(data) - position >= 8:
        size = int.from_bytes(data[position + 4 : position + 8], "big")
        pieces.append(data[position + 8 : position + 8 + size])
        position += 8 + size
    return b"".join(pieces)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _error(answer: Body, path: str) -> APIError:
    try:
        raw = answer.read(65536)
    finally:
        answer.close()
    try:
        message = str(json.loads(raw).get("message", ""))
    except (ValueError, AttributeError):
        message = raw.decode(errors="replace").strip()
    kind = NotFound if answer.status == 404 else APIError
    return kind(answer.status, message or http.client.responses.get(answer.status, ""), path)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _Answer:
    """An http.client response that gives its connection back to the pool once read to the end,
    and closes it otherwise (a stream abandoned half-way, a hijacked exec)."""

    def __init__(self, response: http.client.HTTPResponse, release: Callable[[bool], None]) -> None:
        self.response = response
        self.status = response.status
        self._release: Callable[[bool], None] | None = release

    def read(self, size: int = -1) -> bytes:
        return self.response.read() if size < 0 else self.response.read(size)

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            if self.status >= 200 and self.response.length == 0 and not self.response.isclosed():
                self.response.read()  # an empty answer (204, a start, a delete) is read to its end
            release(self.response.isclosed() and not self.response.will_close)
            self.response.close()


class HTTPTransport:
    """HTTP/1.1 over a Unix socket or TCP, a kept-alive connection per request in flight."""

    def __init__(self, url: str, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(url.replace("http+unix://", "unix://", 1))
        self.scheme = parsed.scheme
        self.timeout = timeout
        if self.scheme == "unix":
            self.socket_path = urllib.parse.unquote(parsed.path or parsed.netloc)
        elif self.scheme in ("tcp", "http", "https"):
            self.host = parsed.hostname or "localhost"
            self.port = parsed.port or (2376 if self.scheme == "https" else 2375)
        else:
            raise ValueError(f"the engine address {url} uses a scheme this client does not speak")
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection (True) or a new one (False). An idle connection that has something
        to read has been closed by the engine (or is out of step): it is dropped, never reused."""
        while True:
            with self._lock:
                idle = self._idle.pop() if self._idle else None
            if idle is None:
                break
            if idle.sock is not None and not select.select([idle.sock], [], [], 0)[0]:
                return idle, True
            idle.close()
        if self.scheme == "unix":
            return _UnixConnection(self.socket_path, self.timeout), False
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout), False
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout), False

    def send(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str], timeout: float | None = None
    ) -> Body:
        connection, reused = self._connection()
        connection.timeout = self.timeout if timeout is None else timeout
        if connection.sock is not None:
            connection.sock.settimeout(connection.timeout)
        try:
            try:
                connection.request(method, path, body=body, headers=dict(headers))
                response = connection.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if not reused or method != "GET":
                    raise  # a POST may have been acted on: never sent twice
                # A kept-alive connection the engine closed as it was taken: a read, once more.
                connection.close()
                connection.request(method, path, body=body, headers=dict(headers))
                response = connection.getresponse()
        except BaseException:
            connection.close()
            raise

        def release(reusable: bool) -> None:
            if not reusable:
                connection.close()
                return
            with self._lock:
                self._idle.append(connection)

        return _Answer(response, release)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class DockerPyTransport:
    """The same requests over docker-py's transports, for the schemes this module does not speak
    (``ssh://`` with paramiko, ``npipe://``). Imported only for such an engine."""

    def __init__(self, url: str, timeout: float) -> None:
        import docker

        self.client = docker.APIClient(base_url=url, version=MINIMUM_API, timeout=timeout)
        self.timeout = timeout

    def send(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str], timeout: float | None = None
    ) -> Body:
        response = self.client._session.request(
            method,
            self.client.base_url + path,
            data=body,
            headers=dict(headers),
            stream=True,
            timeout=self.timeout if timeout is None else timeout,
        )
        return _RequestsAnswer(response)

    def close(self) -> None:
        self.client.close()


class _RequestsAnswer:
    def __init__(self, response: Any) -> None:
        self.response = response
        self.status = int(response.status_code)

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.response.raw.read(None if size < 0 else size)
        return data

    def close(self) -> None:
        self.response.close()


def transport_for(url: str, timeout: float) -> Transport:
    if url.startswith(SCHEMES_SPOKEN):
        return HTTPTransport(url, timeout)
    return DockerPyTransport(url, timeout)
