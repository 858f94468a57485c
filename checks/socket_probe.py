"""Check: a real PostgreSQL connection over the socket directory given with --socket-dir."""

from __future__ import annotations

import getpass
from collections.abc import Iterator

from doctor import catalog
from doctor.context import Context, host_os
from doctor.models import Errno, Evidence, Facts, Finding, Remedy, Status, skipped
from doctor.postgres import MAX_SOCKET_PATH, client_targets
from doctor.probe import Credentials, Outcome, ProbeResult, probe_socket
from doctor.remedies import GUIDE

ID = catalog.SOCKET_PROBE
SUMMARY = "PostgreSQL answers a real connection over the socket"

# outcome -> (finding id, status, title, remedy)
VERDICTS: dict[Outcome, tuple[str, Status, str, str]] = {
    Outcome.MISSING: (
        catalog.SOCKET_MISSING,
        Status.FAIL,
        "No PostgreSQL socket at {path}",
        "Start the database, or mount its socket volume here; the socket appears only where the server creates it.",
    ),
    Outcome.NOT_A_SOCKET: (
        catalog.SOCKET_NOT_A_SOCKET,
        Status.FAIL,
        "{path} is not a socket",
        "Something else was written at the socket's path; stop the server, remove that file, start it again.",
    ),
    Outcome.REFUSED: (
        catalog.SOCKET_REFUSED,
        Status.FAIL,
        "Nothing listens on {path} (a stale socket)",
        f"The server was killed and left its socket behind, or the socket came across a host share. Restart the database; keep the socket directory on a named volume ({GUIDE}).",
    ),
    Outcome.PERMISSION: (
        catalog.SOCKET_PERMISSION_DENIED,
        Status.FAIL,
        "Permission denied on {path}",
        "Run the doctor as a user that may enter the socket directory, or fix its permissions (unix_socket_permissions, directory mode).",
    ),
    Outcome.TIMEOUT: (
        catalog.SOCKET_TIMEOUT,
        Status.FAIL,
        "The server at {path} accepted the connection but never answered",
        "The server is hung or overloaded, or something other than PostgreSQL holds the socket; look at the database's log.",
    ),
    Outcome.AUTH_FAILED: (
        catalog.SOCKET_AUTH_FAILED,
        Status.WARN,
        "The socket works, but the server refused the login on {path}",
        "The role, password or database name is wrong (or pg_hba.conf refuses it); the socket itself is fine.",
    ),
    Outcome.FAILED: (
        catalog.SOCKET_CONNECT_FAILED,
        Status.FAIL,
        "Connecting over {path} failed",
        "Read the evidence for libpq's message.",
    ),
    Outcome.TOO_LONG: (
        catalog.SOCKET_PATH_TOO_LONG,
        Status.FAIL,
        "The socket path {path} is too long",
        "Use a shorter socket directory, such as /var/run/postgresql.",
    ),
}


ERRNO = {
    Outcome.MISSING: Errno.ENOENT,
    Outcome.REFUSED: Errno.ECONNREFUSED,
    Outcome.PERMISSION: Errno.EACCES,
    Outcome.TIMEOUT: Errno.ETIMEDOUT,
}


def credentials(ctx: Context) -> Credentials:
    """--db-user/--db-name first, then a client's URL from the Compose file, then libpq's defaults."""
    user, dbname, password = ctx.options.db_user, ctx.options.db_name, None
    if ctx.project is not None:
        for service in ctx.project.services.values():
            for target in client_targets(service):
                user = user or target.user
                dbname = dbname or target.dbname
                password = password or target.password
    user = user or ctx.environ.get("PGUSER") or _login_name()
    return Credentials(user, dbname or ctx.environ.get("PGDATABASE") or user, password)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "postgres"


def finding_for(result: ProbeResult, creds: Credentials, timeout: float) -> Finding:
    evidence = (Evidence(result.path, result.message),) if result.message else ()
    facts = Facts(path=result.path, errno_class=ERRNO.get(result.outcome))
    if result.outcome is Outcome.CONNECTED:
        return Finding(
            catalog.SOCKET_CONNECT_OK,
            Status.OK,
            f"Connected over {result.path} as {creds.user} to {creds.dbname}: PostgreSQL "
            f"{result.server_version}, round trip {result.round_trip_ms} ms",
            facts=facts,
        )
    finding_id, status, title, remedy = VERDICTS[result.outcome]
    return Finding(
        finding_id, status, title.format(path=result.path), result.message, evidence, Remedy(remedy), facts=facts
    )


def run(ctx: Context) -> Iterator[Finding]:
    directory = ctx.options.socket_dir
    if not directory:
        yield skipped(ID, "no --socket-dir given", "the engine's volumes are probed by socket-vantage")
        return
    creds = credentials(ctx)
    limit = MAX_SOCKET_PATH[host_os()]
    result = probe_socket(directory, ctx.options.port, creds, timeout=ctx.options.timeout, limit=limit)
    yield finding_for(result, creds, ctx.options.timeout)
