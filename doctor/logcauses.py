"""What a log line's failure means: one record per cause the log classifier can find (its
finding id, the label in the finding's title, the explanation, the remedy), read by the log
checks to build findings and by the root cause to phrase them. The patterns that find each
cause are the classifier's (checks/log_signatures.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from doctor import catalog
from doctor.models import Errno
from doctor.remedies import GUIDE

SOCKET, DATA = catalog.LOG_SOCKET_CREATE_FAILED, catalog.LOG_DATA_DIR_PERMISSIONS
CONNECT, NOT_READY = catalog.LOG_BACKEND_CANNOT_CONNECT, catalog.LOG_SERVER_NOT_READY


@dataclass(frozen=True)
class LogCause:
    name: str  # the stable value in Facts.cause
    finding: str  # the finding id it belongs to
    label: str  # after the finding's title: "PostgreSQL could not create its Unix socket: <label>"
    explanation: str
    remedy: str
    errno: Errno | None = None  # for a failed connection: what the kernel said
    statement: str = ""  # the root cause's phrase, where it says more than the title's words


_CAUSES = (
    LogCause(
        "reverse-sshfs",
        SOCKET,
        "its directory is a reverse-sshfs host share (Finch with vmType: qemu)",
        "the socket directory is a host folder mounted into the VM over reverse-sshfs, where bind() of a Unix socket is refused (EPERM): Finch with vmType: qemu, or another Lima VM on QEMU with reverse-sshfs mounts",
        f"Make the socket directory a named volume shared by the database and the backend ({GUIDE}).",
        statement="PostgreSQL could not create its socket: bind() is refused on a reverse-sshfs host share "
        "(Finch with vmType: qemu)",
    ),
    LogCause(
        "unsupported-fs",
        SOCKET,
        "its directory cannot hold sockets (a host folder shared into the VM)",
        "the socket directory is on a filesystem that cannot hold Unix sockets: a host folder shared into the VM over virtiofs, 9p or sshfs (macOS with Finch, Docker Desktop or Colima)",
        f"Make the socket directory a named volume shared by the database and the backend ({GUIDE}).",
    ),
    LogCause(
        "too-long",
        SOCKET,
        "the socket path is too long",
        "the socket path is longer than the kernel allows (107 bytes on Linux)",
        "Use a shorter socket directory, such as /var/run/postgresql.",
    ),
    LogCause(
        "in-use",
        SOCKET,
        "the socket is in use or a stale lock file remains",
        "another server already uses this socket directory and port, or a lock file was left by a server that crashed in an earlier container (the same PID reused in a new container)",
        "Give each server its own socket volume or port; when no other server runs, recreate the containers (`compose down` then `up -d`).",
    ),
    LogCause(
        "permission",
        SOCKET,
        "permission denied in the socket directory",
        "the server may not write in the socket directory (ownership or AppArmor)",
        "Let the postgres user own the socket directory (the official image does this for a named volume).",
    ),
    LogCause(
        "missing-dir",
        SOCKET,
        "the socket directory does not exist",
        "the socket directory does not exist in the container",
        "Mount the socket volume at the directory named in unix_socket_directories.",
    ),
    LogCause(
        "anchor",
        SOCKET,
        "the cause is not in this excerpt",
        "the cause line before the FATAL is not in this excerpt",
        f"Look for the LOG line just before the FATAL; most often the socket directory is a host folder ({GUIDE}).",
    ),
    LogCause(
        "ownership",
        DATA,
        "the data directory has the wrong owner",
        "the data directory belongs to another user, as on a host folder shared into a VM",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    LogCause(
        "mode",
        DATA,
        "the data directory has the wrong permissions",
        "the data directory's permissions cannot be set as PostgreSQL requires (0700 or 0750)",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    LogCause(
        "chmod",
        DATA,
        "chmod of the data directory was refused",
        "permissions of the data directory cannot be changed: a host share that refuses chmod",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    LogCause(
        "chown",
        DATA,
        "chown of the data directory was refused",
        "ownership of the data directory cannot be changed: a host share (sshfs, 9p) that refuses chown",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    LogCause(
        "enoent",
        CONNECT,
        "no socket file where it looks",
        "no socket file where the client looks: the socket directory is not shared with this container, or the server is down",
        "Mount the database's socket volume in the backend at the directory in DATABASE_URL, and check that the database container is running.",
        errno=Errno.ENOENT,
    ),
    LogCause(
        "econnrefused",
        CONNECT,
        "connection refused (a stale socket)",
        "a socket file exists but nothing listens: a stale socket left by a server that was killed, or a socket created by another kernel across a host share",
        "Restart the database; keep the socket directory on a named volume.",
        errno=Errno.ECONNREFUSED,
    ),
    LogCause(
        "eacces",
        CONNECT,
        "permission denied on the socket",
        "the client may not open the socket (directory or socket permissions)",
        "Mount the socket volume read-write or readable by the client's user; check unix_socket_permissions.",
        errno=Errno.EACCES,
    ),
    LogCause(
        "prisma",
        CONNECT,
        "Prisma P1001",
        "Prisma cannot reach the server (P1001); over a socket that means the socket file is missing or nothing answers on it",
        "Check that the database is up and that the backend mounts the database's socket volume at the directory in DATABASE_URL's host= parameter.",
    ),
    LogCause(
        "other",
        CONNECT,
        "the connection failed",
        "the client's connection over the socket failed",
        "Read the evidence lines; compare the socket directory in DATABASE_URL with the mounts.",
    ),
    LogCause(
        "not-ready",
        NOT_READY,
        "the server was not ready yet (transient)",
        "the socket answered, but the server was starting up, shutting down or recovering from a crash; a client that retries connects once it is ready. Frequent lines late in the log mean the server keeps restarting, or clients start before it is ready",
        "Nothing, if the client connected afterwards. Otherwise let clients wait for a healthy database (depends_on with condition: service_healthy), with a health check that only the final server passes (pg_isready -h 127.0.0.1; the image's initialisation server listens on the socket only).",
    ),
)

CAUSES: Final[Mapping[str, LogCause]] = MappingProxyType({cause.name: cause for cause in _CAUSES})


def log_cause(name: str) -> LogCause:
    """The record of a cause; an unknown name is a bug in the classifier and raises KeyError."""
    return CAUSES[name]
