"""One connection to the engine, made once per run and bounded by the timeout in every call."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from doctor.engine.endpoint import Endpoint
from doctor.engine.runtime import Runtime, identify

PROBE_LABEL = "dev.cultivate.doctor.probe"
MINIMUM_API = "1.35"

CAUSES = {
    "no-socket": ("there is no engine socket at {where}", "Start the engine: `finch vm start`, Docker Desktop, `colima start`, or `systemctl start docker`; or point --docker-host/DOCKER_HOST at it."),
    "permission": ("permission denied on {where}", "Run as a user in the engine's group (`sudo usermod -aG docker $USER`, then log in again), or with sudo."),
    "refused": ("nothing accepts connections on {where}", "The socket is left over from an engine that stopped: start it again (`finch vm start`, Docker Desktop, `colima start`)."),
    "timeout": ("the engine at {where} did not answer within the timeout", "The engine or its VM is hung or overloaded: restart it (`finch vm stop && finch vm start`, or restart Docker Desktop)."),
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
    client: Any
    endpoint: Endpoint
    version: dict[str, Any]
    info: dict[str, Any]
    runtime: Runtime
    timeout: float
    _containers: dict[str, list[Any]] = field(default_factory=dict)

    def volumes(self) -> list[dict[str, Any]]:
        # Finch drops label filters on volume lists and omits Driver/Options: read with .get().
        answer = self.client.api.volumes() or {}
        return [v for v in answer.get("Volumes") or [] if isinstance(v, dict)]

    def project_containers(self, project: str) -> list[Any]:
        if project not in self._containers:
            found = self.client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
            self._containers[project] = [c for c in found if c.labels.get("com.docker.compose.project") == project]
        return self._containers[project]

    def log_stream(self, container: Any, *, tail: int, since: int | None) -> io.BufferedReader:
        chunks = container.logs(
            stdout=True, stderr=True, stream=True, follow=False, timestamps=True, tail=tail, since=since
        )
        return io.BufferedReader(_ChunkReader(iter(chunks)), buffer_size=1024 * 1024)

    def close(self) -> None:
        self.client.close()


class _ChunkReader(io.RawIOBase):
    """A file-like view of docker-py's log chunks, so the log scanner reads them like a file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def _unversioned(api: Any, path: str) -> dict[str, Any]:
    answer: dict[str, Any] = api._result(api._get(api._url(path, versioned_api=False)), json=True)
    return answer


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
    client = None
    try:
        import docker

        # A fixed version makes the constructor do no I/O, so a failure below leaves a client to
        # close; then negotiate as version="auto" would (finch-daemon speaks 1.35 to 1.43).
        client = docker.DockerClient(base_url=endpoint.url, version=MINIMUM_API, timeout=timeout)
        version = _unversioned(client.api, "/version")
        server_api = str(version.get("ApiVersion") or MINIMUM_API)
        default_api = docker.constants.DEFAULT_DOCKER_API_VERSION
        client.api._version = server_api if docker.utils.version_lt(server_api, default_api) else default_api
        info = client.info()
    except Exception as exc:  # docker-py wraps some errors and not others; classify them all
        if client is not None:
            client.close()
        raise EngineUnreachable(endpoint, classify(exc), str(exc)) from None
    runtime = identify(version, info, endpoint.url, host_os)
    return EngineSession(client, endpoint, version, info, runtime, timeout)
