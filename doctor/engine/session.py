"""One connection to the engine, made once per run and bounded by the timeout in every call."""

from __future__ import annotations

import collections
import io
import re
import socket
from dataclasses import dataclass, field
from typing import Any

from doctor.engine.api import Container, EngineAPI, NotFound
from doctor.engine.composetool import is_oneoff
from doctor.engine.endpoint import Endpoint
from doctor.engine.pool import bounded_map
from doctor.engine.runtime import Runtime, identify
from doctor.engine.swarm import STACK_LABEL, current_containers

PROBE_LABEL = "dev.cultivate.doctor.probe"

CAUSES = {
    "no-socket": ("there is no engine socket at {where}", "Start the engine: `finch vm start`, Docker Desktop, `colima start`, `systemctl start docker`, or for Podman `podman machine start` (macOS, Windows), `systemctl --user start podman.socket` (rootless) or `systemctl start podman.socket` (rootful); or point --docker-host/DOCKER_HOST at it."),
    "permission": ("permission denied on {where}", "Run as a user in the engine's group (`sudo usermod -aG docker $USER`, then log in again), or with sudo; rootless Podman's socket belongs to its user."),
    "refused": ("nothing accepts connections on {where}", "The socket is left over from an engine that stopped: start it again (`finch vm start`, Docker Desktop, `colima start`, `podman machine start`, or `systemctl --user start podman.socket`)."),
    "timeout": ("the engine at {where} did not answer within the timeout", "The engine or its VM is hung or overloaded: restart it (`finch vm stop && finch vm start`, `podman machine stop && podman machine start`, or restart Docker Desktop)."),
    "api-version": ("the engine refused the API version", "Upgrade the engine or the doctor; finch-daemon speaks API 1.35 to 1.43."),
    "ssh": ("ssh:// engines need the paramiko package", "pip install paramiko (docker-py's SSH support), or forward the socket with ssh -L."),
    "other": ("the engine at {where} could not be reached", "Check --docker-host / DOCKER_HOST and that the engine runs."),
}  # fmt: skip


class EngineUnreachable(Exception):
    def __init__(self, endpoint: Endpoint, cause: str, detail: str) -> None:
        super().__init__(detail)
        self.endpoint = endpoint
        self.cause = cause
        self.detail = detail

    @property
    def explanation(self) -> str:
        return CAUSES[self.cause][0].format(where=self.endpoint.url)

    @property
    def remedy(self) -> str:
        return CAUSES[self.cause][1]


def classify(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    if "paramiko" in text or ("ssh" in text.lower() and "install" in text.lower()):
        return "ssh"
    checks = (
        ("no-socket", ("FileNotFoundError", "No such file or directory")),
        ("permission", ("PermissionError", "Permission denied")),
        ("refused", ("ConnectionRefusedError", "Connection refused")),
        ("timeout", ("timed out", "Timeout", "timeout")),
        ("api-version", ("minimum supported", "is too new", "newer than the server", "client version")),
    )
    for cause, needles in checks:
        if any(needle in text for needle in needles):
            return cause
    return "other"


@dataclass
class EngineSession:
    api: EngineAPI
    endpoint: Endpoint
    version: dict[str, Any]
    info: dict[str, Any]
    runtime: Runtime
    timeout: float
    _containers: dict[str, list[Container]] = field(default_factory=dict)

    def volumes(self) -> list[dict[str, Any]]:
        # Finch drops label filters on volume lists and omits Driver/Options: read with .get().
        answer = self.api.get("/volumes") or {}
        return [v for v in answer.get("Volumes") or [] if isinstance(v, dict)]

    def all_project_containers(self, project: str) -> list[Container]:
        """Every container with the project's label, one-off containers of `compose run` included.
        One list call, then the inspects on the bounded pool."""
        if project not in self._containers:
            found = self.labelled(f"com.docker.compose.project={project}")
            if not found:  # a Swarm stack: its task containers on this node
                found = current_containers(self.labelled(f"{STACK_LABEL}={project}"))
            self._containers[project] = found
        return self._containers[project]

    def labelled(self, label: str) -> list[Container]:
        """The containers that carry ``label`` (``key=value``), each inspected. The label is
        checked again here: an engine that ignores list filters (as Finch does for volumes)
        would otherwise hand over every container it has."""
        key, _, value = label.partition("=")
        listed = [Container(self.api, c) for c in self.api.containers({"label": [label]})]
        mine = [c for c in listed if c.labels.get(key) == value]
        return [c for c in bounded_map(_inspected, mine) if c is not None]

    def project_containers(self, project: str) -> list[Container]:
        """The service containers: a one-off container (`compose run`) is not the service, and an
        exited one is no sign that the service is down."""
        return service_containers(self.all_project_containers(project))

    def oneoff_containers(self, project: str) -> list[Container]:
        return [c for c in self.all_project_containers(project) if is_oneoff(c.labels)]

    def log_stream(self, container: Any, *, tail: int, since: int | None) -> io.BufferedReader:
        """The container's log as a byte stream, read in large chunks: demultiplexing megabyte
        chunks, not a socket read per frame (one log line), is what keeps the scan close to
        `docker logs | grep` speed."""
        # Podman 4.3 counts a partial write (k8s-file "P" record) as a line for `tail` and may
        # return only its last part ("…: Operation not permitted" without "chown:"): read the
        # whole log from Podman and keep the last ``tail`` lines here.
        podman = self.runtime.name == "podman"
        params: dict[str, Any] = {
            "stdout": 1, "stderr": 1, "timestamps": 1, "follow": 0, "tail": "all" if podman else str(tail),
        }  # fmt: skip
        if since is not None:
            params["since"] = int(since)  # finch-daemon parses since as an integer
        response = self.api.send("GET", f"/containers/{container.id}/logs", params)
        tty = bool((container.attrs.get("Config") or {}).get("Tty"))
        raw = _RawReader(response) if tty else _FrameReader(response)
        stream: io.BufferedReader[Any] = io.BufferedReader(raw, buffer_size=1024 * 1024)
        return last_lines(stream, tail) if podman else stream

    def close(self) -> None:
        self.api.close()


def last_lines(stream: io.BufferedReader[Any], count: int) -> io.BufferedReader[Any]:
    """The last ``count`` lines of ``stream`` (which is closed), held in memory: a tail kept on
    this side for an engine whose own tail cannot be trusted."""
    kept: collections.deque[bytes] = collections.deque(maxlen=count)
    try:
        for line in stream:
            kept.append(line)
    finally:
        stream.close()
    return io.BufferedReader(io.BytesIO(b"".join(kept)))


def _inspected(container: Container) -> Container | None:
    """The container with its full inspect, or None when it went away since the list."""
    try:
        container.reload()
    except NotFound:
        return None
    return container


def service_containers(containers: list[Any]) -> list[Any]:
    return [c for c in containers if not is_oneoff(c.labels)]


class _RawReader(io.RawIOBase):
    """The HTTP body of a log request, for containers with a TTY (no multiplexing)."""

    def __init__(self, response: Any) -> None:
        self.response = response

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.response.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.response.close()
        super().close()


# The engine's own timestamp at the head of each frame (`timestamps=1`), RFC 3339 with nanoseconds.
_FRAME_STAMP = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}) ?")


class _FrameReader(_RawReader):
    """Docker's multiplexed log stream (8-byte header: stream, 3 zero bytes, big-endian size)
    turned back into the plain bytes of stdout and stderr, a megabyte at a time.

    A frame that does not end a line is a partial write: Podman sends each write() as its own
    frame (coreutils' chown writes "chown: ", the path, then ": Permission denied"), and Docker
    splits lines over 16 KiB. Each such frame carries its own timestamp; the ones that continue
    a line are dropped, so the line reads as the program wrote it, under its first timestamp."""

    CHUNK = 1024 * 1024

    def __init__(self, response: Any) -> None:
        super().__init__(response)
        self.pending = bytearray()
        self.out = bytearray()
        self.done = False
        self.mid_line = False  # the last frame written out left its line open

    def readinto(self, buffer: Any) -> int:
        while not self.out and not self.done:
            chunk = self.response.read(self.CHUNK)
            if not chunk:
                self.done = True
                break
            self.pending += chunk
            self._demux()
        size = min(len(buffer), len(self.out))
        buffer[:size] = self.out[:size]
        del self.out[:size]
        return size

    def _demux(self) -> None:
        data, position, end = self.pending, 0, len(self.pending)
        pieces = []
        while end - position >= 8:
            size = int.from_bytes(data[position + 4 : position + 8], "big")
            if end - position - 8 < size:
                break
            piece = bytes(data[position + 8 : position + 8 + size])
            if self.mid_line:
                stamp = _FRAME_STAMP.match(piece)
                if stamp:
                    piece = piece[stamp.end() :]
            if piece:
                self.mid_line = not piece.endswith(b"\n")
            pieces.append(piece)
            position += 8 + size
        self.out += b"".join(pieces)
        del self.pending[:position]


def _preflight(endpoint: Endpoint, timeout: float) -> None:
    """For a Unix socket, try it ourselves first: a plain, bounded connect tells a missing socket,
    a permission problem and a dead engine apart, and (unlike docker-py's transport, which leaks
    the socket when connect fails) always closes what it opened."""
    if not endpoint.url.startswith(("unix://", "http+unix://")):
        return
    path = endpoint.url.split("://", 1)[1]
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(path)
    except OSError as exc:
        raise EngineUnreachable(endpoint, classify(exc), f"{type(exc).__name__}: {exc.strerror or exc}") from None
    finally:
        probe.close()


def connect(endpoint: Endpoint, timeout: float, host_os: str) -> EngineSession:
    """Connect, negotiate the API version and read /version and /info; raise EngineUnreachable."""
    _preflight(endpoint, timeout)
    api = None
    try:
        api = EngineAPI(endpoint.url, timeout)
        version = api.get("/version", versioned=False) or {}
        api.negotiate(str(version.get("ApiVersion") or "") or None)
        info = api.get("/info") or {}
    except Exception as exc:  # every transport's errors, classified by what they say
        if api is not None:
            api.close()
        raise EngineUnreachable(endpoint, classify(exc), str(exc)) from None
    runtime = identify(version, info, endpoint.url, host_os)
    return EngineSession(api, endpoint, version, info, runtime, timeout)
