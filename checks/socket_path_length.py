"""Check: every socket path fits in sun_path (107 bytes on Linux, where containers run)."""

from __future__ import annotations

from collections.abc import Iterator

from checks._common import requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject
from doctor.context import Context
from doctor.models import Evidence, Facts, Finding, Remedy, Status, TargetOS
from doctor.postgres import MAX_SOCKET_PATH, socket_file
from doctor.topology import SocketUse, client_uses, server_uses

ID = catalog.SOCKET_PATH_LENGTH
SUMMARY = "Socket paths fit the kernel's limit"


def find_too_long(project: ComposeProject, limit: int = MAX_SOCKET_PATH[TargetOS.LINUX]) -> list[SocketUse]:
    return [
        use
        for use in [*server_uses(project), *client_uses(project)]
        if len(socket_file(use.directory, use.port).encode()) > limit
    ]


@requires_project(ID)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    limit = MAX_SOCKET_PATH[TargetOS.LINUX]
    too_long = find_too_long(project, limit)
    for use in too_long:
        path = socket_file(use.directory, use.port)
        yield Finding(
            catalog.SOCKET_PATH_TOO_LONG,
            Status.FAIL,
            account := f"The socket path of {use.service.name} is {len(path.encode())} bytes; the limit is {limit}",
            "PostgreSQL refuses it with 'Unix-domain socket path ... is too long', and libpq cannot "
            "connect to it either.",
            (Evidence(str(use.service.origin), path),),
            Remedy("Use a shorter socket directory, such as /var/run/postgresql."),
            facts=Facts(service=use.service.name, path=path, origin=str(use.service.origin), account=account),
        )
    if not too_long and (server_uses(project) or client_uses(project)):
        yield Finding(ID, Status.OK, f"Every socket path is within {limit} bytes")
