"""Check: PostgreSQL and backend logs for the socket failure signatures, with their causes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from doctor.context import Context
from doctor.logs import LogUnreadable, open_log
from doctor.logscan import (  # the classifier and its finding ids live in the core
    CANNOT_CONNECT,
    DATA_DIR,
    NOT_READY,
    SOCKET_FAILED,
    LogScan,
    failures,
    scan_stream,
)
from doctor.models import Finding, Remedy, Status
from doctor.remedies import GUIDE

ID = "log-signatures"
SUMMARY = "Logs show no socket-creation, data-directory or connection failure"

CAUSES = {
    "reverse-sshfs": (
        "the socket directory is a host folder mounted into the VM over reverse-sshfs, where bind() of a "
        "Unix socket is refused (EPERM): Finch with vmType: qemu, or another Lima VM on QEMU with "
        "reverse-sshfs mounts",
        f"Make the socket directory a named volume shared by the database and the backend ({GUIDE}).",
    ),
    "unsupported-fs": (
        "the socket directory is on a filesystem that cannot hold Unix sockets: a host folder shared "
        "into the VM over virtiofs, 9p or sshfs (macOS with Finch, Docker Desktop or Colima)",
        f"Make the socket directory a named volume shared by the database and the backend ({GUIDE}).",
    ),
    "too-long": (
        "the socket path is longer than the kernel allows (107 bytes on Linux)",
        "Use a shorter socket directory, such as /var/run/postgresql.",
    ),
    "in-use": (
        "another server already uses this socket directory and port, or a lock file was left by a "
        "server that crashed in an earlier container (the same PID reused in a new container)",
        "Give each server its own socket volume or port; when no other server runs, recreate the "
        "containers (`compose down` then `up -d`).",
    ),
    "permission": (
        "the server may not write in the socket directory (ownership or AppArmor)",
        "Let the postgres user own the socket directory (the official image does this for a named volume).",
    ),
    "missing-dir": (
        "the socket directory does not exist in the container",
        "Mount the socket volume at the directory named in unix_socket_directories.",
    ),
    "anchor": (
        "the cause line before the FATAL is not in this excerpt",
        f"Look for the LOG line just before the FATAL; most often the socket directory is a host folder ({GUIDE}).",
    ),
    "ownership": (
        "the data directory belongs to another user, as on a host folder shared into a VM",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    "mode": (
        "the data directory's permissions cannot be set as PostgreSQL requires (0700 or 0750)",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    "chmod": (
        "permissions of the data directory cannot be changed: a host share that refuses chmod",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    "chown": (
        "ownership of the data directory cannot be changed: a host share (sshfs, 9p) that refuses chown",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    "enoent": (
        "no socket file where the client looks: the socket directory is not shared with this "
        "container, or the server is down",
        "Mount the database's socket volume in the backend at the directory in DATABASE_URL, and "
        "check that the database container is running.",
    ),
    "econnrefused": (
        "a socket file exists but nothing listens: a stale socket left by a server that was "
        "killed, or a socket created by another kernel across a host share",
        "Restart the database; keep the socket directory on a named volume.",
    ),
    "eacces": (
        "the client may not open the socket (directory or socket permissions)",
        "Mount the socket volume read-write or readable by the client's user; check unix_socket_permissions.",
    ),
    "prisma": (
        "Prisma cannot reach the server (P1001); over a socket that means the socket file is "
        "missing or nothing answers on it",
        "Check that the database is up and that the backend mounts the database's socket volume "
        "at the directory in DATABASE_URL's host= parameter.",
    ),
    "other": (
        "the client's connection over the socket failed",
        "Read the evidence lines; compare the socket directory in DATABASE_URL with the mounts.",
    ),
    "not-ready": (
        "the socket answered, but the server was starting up, shutting down or recovering from a "
        "crash; a client that retries connects once it is ready. Frequent lines late in the log mean "
        "the server keeps restarting, or clients start before it is ready",
        "Nothing, if the client connected afterwards. Otherwise let clients wait for a healthy "
        "database (depends_on with condition: service_healthy), with a health check that only the "
        "final server passes (pg_isready -h 127.0.0.1; the image's initialisation server listens on "
        "the socket only).",
    ),
}

LABELS = {
    "reverse-sshfs": "its directory is a reverse-sshfs host share (Finch with vmType: qemu)",
    "unsupported-fs": "its directory cannot hold sockets (a host folder shared into the VM)",
    "too-long": "the socket path is too long",
    "in-use": "the socket is in use or a stale lock file remains",
    "permission": "permission denied in the socket directory",
    "missing-dir": "the socket directory does not exist",
    "anchor": "the cause is not in this excerpt",
    "ownership": "the data directory has the wrong owner",
    "mode": "the data directory has the wrong permissions",
    "chmod": "chmod of the data directory was refused",
    "chown": "chown of the data directory was refused",
    "enoent": "no socket file where it looks",
    "econnrefused": "connection refused (a stale socket)",
    "eacces": "permission denied on the socket",
    "prisma": "Prisma P1001",
    "other": "the connection failed",
    "not-ready": "the server was not ready yet (transient)",
}

TITLES = {
    SOCKET_FAILED: "PostgreSQL could not create its Unix socket",
    DATA_DIR: "PostgreSQL could not use its data directory",
    CANNOT_CONNECT: "The backend cannot connect to PostgreSQL over the socket",
    NOT_READY: "A client met a server that was starting up or shutting down",
}


_EVENTS = {True: "event", False: "events"}


def findings_for(scan: LogScan) -> Iterator[Finding]:
    for finding_id in (SOCKET_FAILED, DATA_DIR, CANNOT_CONNECT, NOT_READY):
        hits = scan.hits.get(finding_id)
        if hits is None:
            continue
        cause = hits.main_cause()
        explanation, remedy = CAUSES[cause]
        span = (
            f", {hits.first} to {hits.last}"
            if hits.first and hits.first != hits.last
            else (f", at {hits.first}" if hits.first else "")
        )
        yield Finding(
            finding_id,
            Status.INFO if finding_id == NOT_READY else Status.FAIL,
            f"{TITLES[finding_id]}: {LABELS[cause]} ({hits.events} {_EVENTS[hits.events == 1]} in {scan.source}{span})",
            f"Cause ({cause}): {explanation}. Seen in {hits.count} log line(s).",
            tuple(hits.examples),
            Remedy(remedy),
            cause=cause,
        )


def run(ctx: Context) -> Iterator[Finding]:
    if not ctx.options.log_files:
        yield Finding(ID, Status.SKIP, "No --log-file given")
        return
    for path in ctx.options.log_files:
        source = "stdin" if path == "-" else Path(path).name
        try:
            stream = open_log(path)
            try:
                scan = scan_stream(stream, source)
            finally:
                if path != "-":
                    stream.close()
        except (LogUnreadable, OSError) as exc:
            yield Finding("log-file-unreadable", Status.ERROR, f"Cannot read the log {path}: {exc}")
            continue
        produced = list(findings_for(scan))
        yield from produced
        if not failures(produced):
            yield Finding(ID, Status.OK, f"No known failure signature in {scan.lines} line(s) of {source}")
