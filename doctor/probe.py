"""A socket probe from this machine: the file system first (is there a socket?), then a raw
connect (does anything listen?), then a real psycopg connection (does PostgreSQL answer?).
Each step is bounded by the timeout; psycopg is imported only here."""

from __future__ import annotations

import enum
import errno
import math
import os
import re
import socket
import stat
import time
from dataclasses import dataclass

from doctor.postgres import socket_file

_AUTH = re.compile(
    r"password authentication failed|authentication failed|role \S+ does not exist|"
    r"database \S+ does not exist|no pg_hba\.conf entry|password is required|no password supplied",
    re.IGNORECASE,
)


class Outcome(str, enum.Enum):
    CONNECTED = "connected"  # a real login worked (probe_socket)
    ANSWERED = "answered"  # the server answered the SSLRequest (ping_socket)
    MISSING = "missing"
    NOT_A_SOCKET = "not-a-socket"
    REFUSED = "refused"
    PERMISSION = "permission"
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth-failed"
    FAILED = "failed"
    TOO_LONG = "too-long"


@dataclass(frozen=True)
class ProbeResult:
    outcome: Outcome
    path: str
    message: str = ""
    server_version: str = ""
    round_trip_ms: float | None = None


@dataclass(frozen=True)
class Credentials:
    user: str
    dbname: str
    password: str | None = None


def probe_socket(directory: str, port: int, credentials: Credentials, *, timeout: float, limit: int) -> ProbeResult:
    path = socket_file(directory, port)
    if len(path.encode()) > limit:
        return ProbeResult(Outcome.TOO_LONG, path, f"{len(path.encode())} bytes, over the limit of {limit}")
    found = _inspect(directory, path)
    if found is not None:
        return found
    raw = _raw_connect(path, timeout)
    if raw is not None:
        return raw
    return _psycopg_connect(directory, port, credentials, timeout, path)


SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")


def ping_socket(directory: str, port: int, *, timeout: float, limit: int) -> ProbeResult:
    """Does a PostgreSQL server answer on this socket? The first message of every libpq session
    (SSLRequest) gets one byte, ``S`` or ``N``, from any live server, starting up or not, before
    any login: what pg_isready learns, without importing psycopg (about 0.2 s of a live run)."""
    path = socket_file(directory, port)
    if len(path.encode()) > limit:
        return ProbeResult(Outcome.TOO_LONG, path, f"{len(path.encode())} bytes, over the limit of {limit}")
    found = _inspect(directory, path)
    if found is not None:
        return found
    started = time.perf_counter()
    answer = _connect(path, timeout, SSL_REQUEST)
    if isinstance(answer, ProbeResult):
        return answer
    if answer in (b"S", b"N"):
        return ProbeResult(
            Outcome.ANSWERED, path, "PostgreSQL answered", "", round((time.perf_counter() - started) * 1000, 2)
        )
    return ProbeResult(Outcome.FAILED, path, f"something listens but does not speak PostgreSQL (answered {answer!r})")


def _inspect(directory: str, path: str) -> ProbeResult | None:
    try:
        if not stat.S_ISDIR(os.stat(directory).st_mode):
            return ProbeResult(Outcome.FAILED, path, f"{directory} is not a directory")
    except FileNotFoundError:
        return ProbeResult(Outcome.MISSING, path, f"the directory {directory} does not exist")
    except PermissionError:
        return ProbeResult(Outcome.PERMISSION, path, f"no permission to enter {directory}")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return ProbeResult(Outcome.MISSING, path, f"no socket file in {directory}")
    except PermissionError:
        return ProbeResult(Outcome.PERMISSION, path, f"no permission to enter {directory}")
    if not stat.S_ISSOCK(mode):
        return ProbeResult(Outcome.NOT_A_SOCKET, path, f"{path} exists but is not a socket ({_kind(mode)})")
    return None


def _raw_connect(path: str, timeout: float) -> ProbeResult | None:
    answer = _connect(path, timeout)
    return answer if isinstance(answer, ProbeResult) else None


def _connect(path: str, timeout: float, request: bytes = b"") -> ProbeResult | bytes:
    """Connect to the socket, and with ``request`` send it and read one byte back; what went
    wrong as a ProbeResult, else the byte (empty without a request)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        if not request:
            return b""
        sock.sendall(request)
        return sock.recv(1)
    except ConnectionRefusedError:
        return ProbeResult(Outcome.REFUSED, path, "a socket file exists but nothing listens on it")
    except PermissionError:
        return ProbeResult(Outcome.PERMISSION, path, "no permission to connect to the socket")
    except TimeoutError:
        waited = "no answer within" if request else "connecting took longer than"
        return ProbeResult(Outcome.TIMEOUT, path, f"{waited} {timeout:g} s")
    except OSError as exc:
        outcome = Outcome.MISSING if exc.errno == errno.ENOENT else Outcome.FAILED
        return ProbeResult(outcome, path, exc.strerror or str(exc))
    finally:
        sock.close()


def _psycopg_connect(directory: str, port: int, credentials: Credentials, timeout: float, path: str) -> ProbeResult:
    import psycopg  # only when a probe runs, to keep start-up fast

    started = time.perf_counter()
    params: dict[str, str | int] = {
        "host": directory,
        "port": port,
        "user": credentials.user,
        "dbname": credentials.dbname,
        # libpq counts whole seconds and treats anything under 2 as 2.
        "connect_timeout": max(2, math.ceil(timeout)),
        "application_name": "cultivate-doctor",
    }
    if credentials.password:
        params["password"] = credentials.password
    try:
        with psycopg.connect(**params) as conn:  # type: ignore[arg-type]
            version = conn.info.server_version
            query_started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            round_trip = (time.perf_counter() - query_started) * 1000
    except psycopg.OperationalError as exc:
        message = str(exc).strip()
        if isinstance(exc, psycopg.errors.ConnectionTimeout) or "timeout expired" in message:
            waited = time.perf_counter() - started
            return ProbeResult(Outcome.TIMEOUT, path, f"the server accepted but did not answer within {waited:.1f} s")
        if _AUTH.search(message):
            return ProbeResult(Outcome.AUTH_FAILED, path, message)
        if "Connection refused" in message:
            return ProbeResult(Outcome.REFUSED, path, message)
        return ProbeResult(Outcome.FAILED, path, message)
    except psycopg.Error as exc:
        return ProbeResult(Outcome.FAILED, path, str(exc).strip())
    major, minor = divmod(version, 10000)
    return ProbeResult(Outcome.CONNECTED, path, "", f"{major}.{minor}", round(round_trip, 2))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a socket"
