"""A Unix-socket HTTP proxy that answers as finch-daemon does, in front of the lab's dockerd.

No Finch can run here, so this is an emulation written from finch-daemon's source (runfinch/
finch-daemon: ``api/router/router.go``, ``api/handlers/system``, ``api/handlers/volume``,
``api/handlers/container/logs.go``, ``api/types``) and the fact sheet. What it changes:

- ``GET /version`` is finch-daemon's ``VersionInfo``: ``Platform.Name`` ``Finch Daemon -
  <version>``, ``ApiVersion`` 1.43, ``MinAPIVersion`` 1.35, containerd/runc components.
- ``/_ping`` sets ``API-Version: 1.43``.
- ``/v{version}/...`` below 1.35 or above 1.43 is refused with 400 and finch-daemon's words. A
  version in range is passed to dockerd lowered to what dockerd speaks (Debian's 20.10: 1.41).
- Volumes have only ``Name``, ``Mountpoint``, ``Labels``, ``Size`` (nerdctl ``native.Volume``),
  the list has no ``Warnings``; the list keeps only the filter keys finch-daemon's JSON struct
  has (``name``, ``driver``, ``labels`` → nerdctl ``label=``, ``dangling``), so Docker's ``label``
  is dropped; create ignores ``Driver`` and ``DriverOpts`` and answers 200, as nerdctl does.
- Container logs: 400 unless ``stdout`` or ``stderr`` is set; ``since``/``until`` are read as
  int64 and anything else counts as 0 (no bound); the body is delimited by closing the
  connection, because finch-daemon hijacks it.

Everything else is passed through to dockerd unchanged, streams included (exec and attach after
``101 UPGRADED``, chunked and close-delimited bodies). Every upstream call has a timeout.

By hand: ``python -m lab.finchproxy --upstream unix:///…/docker.sock --listen /…/finch.sock``."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import stat
import sys
import threading
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from lab.finchapi import (
    DEFAULT_API,
    api_compare,
    bool_value,
    finch_version,
    finch_volume,
    finch_volume_filters,
    int64_or_zero,
    version_refusal,
)
from lab.finchwire import Conn, Message, WireError, dechunk_stream, pipe, read_body, read_head, relay_body

JSON_LIMIT = 16 * 1024 * 1024
VERSIONED = re.compile(r"^/v([0-9][^/]*)(/.*)$")  # "/volumes" is not a version
VOLUME = re.compile(r"^/volumes/([^/]+)$")
LOGS = re.compile(r"^/containers/([^/]+)/logs$")


class ProxyError(RuntimeError):
    pass


class FinchProxy:
    """Serve on ``listen`` until ``stop()``; one thread per client connection, all joined on stop."""

    def __init__(self, upstream: str, listen: Path, *, timeout: float = 30.0, idle: float = 60.0) -> None:
        if not upstream.startswith(("unix://", "http+unix://")):
            raise ProxyError(f"the upstream must be a unix:// socket, not {upstream!r}")
        self.upstream_path = upstream.split("://", 1)[1]
        self.listen = Path(listen)
        self.timeout = timeout
        self.idle = idle
        self.upstream_api = DEFAULT_API
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()
        self._server: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._seen: deque[str] = deque(maxlen=5000)  # "METHOD target" as asked, for tests and debugging

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> FinchProxy:
        status, _, body = self._fetch("GET", "/version", [], b"")
        if status != 200:
            raise ProxyError(f"the upstream engine answered /version with {status}")
        self.upstream_api = str(json.loads(body).get("ApiVersion") or DEFAULT_API)
        if self.listen.exists() or self.listen.is_symlink():
            if not stat.S_ISSOCK(self.listen.lstat().st_mode):
                raise ProxyError(f"{self.listen} exists and is not a socket")
            self.listen.unlink()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.listen))
        server.listen(64)
        server.settimeout(0.2)  # the accept loop looks at the stop flag this often
        self._server = server
        self._acceptor = threading.Thread(target=self._accept, name="finchproxy-accept", daemon=True)
        self._acceptor.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        if self._server is not None:
            self._server.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:  # wakes every thread blocked in recv
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)
        try:
            if stat.S_ISSOCK(self.listen.lstat().st_mode):
                self.listen.unlink()
        except FileNotFoundError:
            pass

    def requests(self) -> list[str]:
        """The requests served so far, as ``METHOD target`` exactly as the client sent them."""
        with self._lock:
            return list(self._seen)

    @property
    def alive_threads(self) -> int:
        with self._lock:
            return sum(1 for t in self._threads if t.is_alive()) + int(
                bool(self._acceptor and self._acceptor.is_alive())
            )

    def __enter__(self) -> FinchProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(self.idle)
            thread = threading.Thread(target=self._serve, args=(client,), name="finchproxy-conn", daemon=True)
            with self._lock:
                self._threads = {t for t in self._threads if t.is_alive()}
                self._threads.add(thread)
                self._sockets.add(client)
            thread.start()

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._sockets.add if add else self._sockets.discard)(sock)

    def _serve(self, sock: socket.socket) -> None:
        client = Conn(sock)
        try:
            while not self._stop.is_set():
                request = read_head(client)
                if request is None or not self._handle(client, request):
                    return
        except (OSError, WireError, ValueError) as exc:  # ValueError: an answer that is not JSON
            if not self._stop.is_set():
                print(f"finchproxy: connection ended: {exc}", file=sys.stderr)
        finally:
            self._track(sock, False)
            sock.close()

    # upstream --------------------------------------------------------------------------------

    def _open(self) -> Conn:
        if self._stop.is_set():
            raise OSError("the proxy is stopping")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)  # connect and every read of the engine are bounded
        self._track(sock, True)
        try:
            sock.connect(self.upstream_path)
        except OSError:
            self._close(Conn(sock))
            raise
        return Conn(sock)

    def _close(self, conn: Conn) -> None:
        self._track(conn.sock, False)
        conn.sock.close()

    def _fetch(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, Message, bytes]:
        """One whole exchange with the engine, for the answers the proxy reshapes."""
        upstream = self._open()
        try:
            kept = [
                (k, v) for k, v in headers if k.lower() not in ("content-length", "transfer-encoding", "connection")
            ]
            head = Message(
                (method, target, "HTTP/1.1"), [*kept, ("Content-Length", str(len(body))), ("Connection", "close")]
            )
            if head.get("Host") is None:
                head.headers.insert(0, ("Host", "docker"))
            upstream.send(head.encode() + body)
            response = read_head(upstream)
            if response is None:
                raise WireError("the engine closed the connection without answering")
            status = int(response.start[1])
            no_body = method == "HEAD" or status in (204, 304)
            data = b"" if no_body else read_body(upstream, response, limit=JSON_LIMIT, until_close=True)
            return status, response, data
        finally:
            self._close(upstream)

    def _target(self, api: str | None, path: str, query: str) -> str:
        if api is not None:
            lowered = api if api_compare(api, self.upstream_api) <= 0 else self.upstream_api
            path = f"/v{lowered}{path}"
        return f"{path}?{query}" if query else path

    # routes ----------------------------------------------------------------------------------

    def _handle(self, client: Conn, request: Message) -> bool:
        method, raw_target, _ = request.start
        with self._lock:
            self._seen.append(f"{method} {raw_target}")
        split = urlsplit(raw_target)
        path, query, api = split.path, split.query, None
        match = VERSIONED.match(path)
        if match:
            api, path = match.group(1), match.group(2)
            refusal = version_refusal(api)
            if refusal is not None:
                read_body(client, request, limit=JSON_LIMIT, until_close=False)
                return self._reply(client, request, 400, {"message": refusal})
        if method in ("GET", "HEAD") and path == "/_ping":
            read_body(client, request, limit=JSON_LIMIT, until_close=False)
            return self._reply(client, request, 200, None, [("API-Version", DEFAULT_API)])
        if method == "GET" and path == "/version":
            read_body(client, request, limit=JSON_LIMIT, until_close=False)
            status, _, body = self._fetch("GET", "/version", [], b"")
            answer = finch_version(json.loads(body)) if status == 200 else json.loads(body or b"{}")
            return self._reply(client, request, status, answer)
        if path == "/volumes" and method == "GET":
            return self._volume_list(client, request, api, query)
        if path == "/volumes/create" and method == "POST":
            return self._volume_create(client, request, api)
        if VOLUME.match(path) and method == "GET":
            read_body(client, request, limit=JSON_LIMIT, until_close=False)
            status, _, body = self._fetch("GET", self._target(api, path, query), request.headers, b"")
            answer = json.loads(body or b"{}")
            return self._reply(client, request, status, finch_volume(answer) if status == 200 else answer)
        if LOGS.match(path) and method == "GET":
            return self._logs(client, request, api, path, query)
        return self._pass(client, request, self._target(api, path, query))

    def _volume_list(self, client: Conn, request: Message, api: str | None, query: str) -> bool:
        read_body(client, request, limit=JSON_LIMIT, until_close=False)
        params = dict(parse_qsl(query, keep_blank_values=True))
        raw = params.pop("filters", "")
        if raw:
            try:
                kept = finch_volume_filters(raw)
            except ValueError as exc:
                return self._reply(client, request, 500, {"message": str(exc)})
            if kept:
                params["filters"] = kept
        status, _, body = self._fetch("GET", self._target(api, "/volumes", urlencode(params)), request.headers, b"")
        answer = json.loads(body or b"{}")
        if status == 200:
            answer = {"Volumes": [finch_volume(v) for v in answer.get("Volumes") or [] if isinstance(v, dict)]}
        return self._reply(client, request, status, answer)

    def _volume_create(self, client: Conn, request: Message, api: str | None) -> bool:
        body = read_body(client, request, limit=JSON_LIMIT, until_close=False)
        try:
            asked = json.loads(body or b"{}")
        except ValueError as exc:
            return self._reply(client, request, 500, {"message": str(exc)})
        if asked.get("Driver") not in (None, "", "local"):
            print("finchproxy: Driver is not currently supported, ignoring", file=sys.stderr)
        if asked.get("DriverOpts"):
            print("finchproxy: Driver Options is not currently supported, ignoring", file=sys.stderr)
        made = json.dumps({"Name": asked.get("Name", ""), "Labels": asked.get("Labels") or {}}).encode()
        headers = [("Content-Type", "application/json")]
        status, _, answer = self._fetch("POST", self._target(api, "/volumes/create", ""), headers, made)
        volume = json.loads(answer or b"{}")
        ok = status in (200, 201)
        return self._reply(client, request, 200 if ok else status, finch_volume(volume) if ok else volume)

    def _logs(self, client: Conn, request: Message, api: str | None, path: str, query: str) -> bool:
        read_body(client, request, limit=JSON_LIMIT, until_close=False)
        params = parse_qsl(query, keep_blank_values=True)
        values = dict(params)
        if not any(bool_value(values.get(s, "")) for s in ("stdout", "stderr")):
            return self._reply(client, request, 400, {"message": "you must choose at least one stream"})
        kept = []
        for key, value in params:
            # httputils.Int64ValueOrZero: a non-integer is 0, and 0 means no bound
            if key in ("since", "until") and int64_or_zero(value) == 0:
                continue
            kept.append((key, value))
        upstream = self._open()
        try:
            head = Message(("GET", self._target(api, path, urlencode(kept)), "HTTP/1.1"), request.without("Connection"))
            upstream.send(head.encode())
            response = read_head(upstream)
            if response is None:
                raise WireError("the engine closed the connection without answering")
            if response.start[1] != "200":
                client.send(response.encode())
                delimited = response.chunked or response.length is not None
                relay_body(upstream, response, client, until_close=True)
                return delimited and not _closes(request, response)
            # finch-daemon hijacks the connection: no length, no chunks, the end is the close
            plain = Message(response.start, [*response.without("Transfer-Encoding", "Content-Length", "Connection"),
                                             ("Connection", "close")])  # fmt: skip
            client.send(plain.encode())
            dechunk_stream(upstream, response, client)
            return False
        finally:
            self._close(upstream)

    def _pass(self, client: Conn, request: Message, target: str) -> bool:
        upstream = self._open()
        try:
            head = Message((request.start[0], target, request.start[2]), request.headers)
            upstream.send(head.encode())
            relay_body(client, request, upstream, until_close=False)
            response = read_head(upstream)
            if response is None:
                raise WireError("the engine closed the connection without answering")
            client.send(response.encode())
            status = int(response.start[1])
            if status == 101:
                pipe(client, upstream, idle=self.timeout, stop=self._stop)
                return False
            if request.start[0] == "HEAD" or status in (204, 304) or 100 <= status < 200:
                return not _closes(request, response)
            delimited = response.chunked or response.length is not None
            relay_body(upstream, response, client, until_close=True)
            return delimited and not _closes(request, response)
        finally:
            self._close(upstream)

    def _reply(
        self,
        client: Conn,
        request: Message,
        status: int,
        answer: Any,
        extra: list[tuple[str, str]] | None = None,
    ) -> bool:
        body = b"" if answer is None else json.dumps(answer).encode() + b"\n"
        headers = [*(extra or [])]
        if answer is not None:
            headers.append(("Content-Type", "application/json"))
        headers.append(("Content-Length", str(len(body))))
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 409: "Conflict", 500: "Internal Server Error"}
        client.send(Message(("HTTP/1.1", str(status), reason.get(status, "Status")), headers).encode())
        if request.start[0] != "HEAD":
            client.send(body)
        return not _closes(request, None)


def _closes(request: Message, response: Message | None) -> bool:
    said = [(m.get("Connection") or "").lower() for m in (request, response) if m is not None]
    return any("close" in s for s in said) or request.start[2] == "HTTP/1.0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lab.finchproxy",
        description="Answer as finch-daemon does, in front of a Docker engine (an emulation; see the README).",
    )
    parser.add_argument("--upstream", required=True, help="the Docker engine, unix:///path/docker.sock")
    parser.add_argument("--listen", required=True, type=Path, help="the socket to serve, e.g. …/run/finch.sock")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for every call to the engine")
    args = parser.parse_args(argv)
    try:
        proxy = FinchProxy(args.upstream, args.listen, timeout=args.timeout).start()
    except (ProxyError, OSError, ValueError, WireError) as exc:
        print(f"finchproxy: cannot start: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print(f"finchproxy: serving on unix://{args.listen} for {args.upstream}; Ctrl-C stops", file=sys.stderr)
    done.wait()
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
