"""Check: every client that points libpq at a socket directory sees the server's socket there."""

from __future__ import annotations

from collections.abc import Iterator

from checks._common import describe_mount, mount_evidence, requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject, MountType
from doctor.context import Context
from doctor.models import Evidence, Facts, Finding, Remedy, Status, skipped
from doctor.postgres import socket_file
from doctor.remedies import verify_commands
from doctor.topology import (
    SHARING_FINDINGS,
    Sharing,
    SharingKind,
    client_uses,
    find_bind_device_volumes,
    find_host_path_sockets,
    server_uses,
    sharing,
    socket_volume_name,
)

ID = catalog.SOCKET_SHARING
SUMMARY = "The database and every socket client share the socket directory"

FINDING_IDS = SHARING_FINDINGS


def find_sharing_problems(verdicts: list[Sharing]) -> list[Sharing]:
    return [verdict for verdict in verdicts if verdict.kind != SharingKind.OK]


@requires_project(ID)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    servers = server_uses(project)
    if not servers:
        yield skipped(ID, "no PostgreSQL service with a Unix socket directory in the Compose files")
        return
    if not client_uses(project):
        yield Finding(
            catalog.SOCKET_NO_CLIENTS,
            Status.INFO,
            "No service points libpq at a socket directory",
            "Clients that connect over TCP need no socket mount. A client is recognised by "
            "DATABASE_URL (or *_DATABASE_URL, *_DSN) with ?host=/dir or a percent-encoded path, a "
            "key=value DSN with host=/dir, or PGHOST=/dir.",
        )
        return
    verdicts = sharing(project)
    problems = find_sharing_problems(verdicts)
    for verdict in problems:
        yield sharing_finding(ctx, project, verdict)
    if problems:
        return
    clean = not find_host_path_sockets(project) and not find_bind_device_volumes(project)
    mounts = {v.server_mount.source for v in verdicts if v.server_mount is not None}
    names = ", ".join(f"{m} ({project.engine_volume_name(m)})" for m in sorted(s for s in mounts if s))
    clients = ", ".join(sorted({v.client.service.name for v in verdicts}))
    if clean and all(v.server_mount is not None and v.server_mount.type == MountType.VOLUME for v in verdicts):
        yield Finding(
            catalog.SOCKET_VOLUME_OK,
            Status.OK,
            f"The socket directory is the named volume {names}, shared by the database and {clients}",
            "A named volume lives on the VM's own Linux filesystem, where Unix sockets work on "
            "every platform, and each client looks for the socket where the server creates it.",
            tuple(
                Evidence(
                    str(v.client.mount.origin), f"{v.client.service.name}: {v.client.variable} -> {v.client.directory}"
                )
                for v in verdicts
                if v.client.mount is not None
            ),
        )
    else:
        yield Finding(ID, Status.OK, f"The database and {clients} share the socket directory")


def sharing_finding(ctx: Context, project: ComposeProject, verdict: Sharing) -> Finding:
    client = verdict.client
    server = verdict.server
    socket_path = socket_file(client.directory, client.port)
    finding_id = FINDING_IDS[verdict.kind]
    evidence = [Evidence(str(server.origin), f"{server.name} (PostgreSQL)")]
    env_entry = client.service.environment.get(client.variable or "")
    if env_entry is not None:
        evidence.append(Evidence(str(env_entry.origin), f"{client.service.name}: {client.variable}={env_entry.value}"))
    if client.mount is not None:
        evidence.append(mount_evidence(client.mount, client.service.name))
    if verdict.server_mount is not None:
        evidence.append(mount_evidence(verdict.server_mount, server.name))
    volume = socket_volume_name(project)
    # The server's socket directory is the operator's choice (mount it, or move the setting), so
    # that finding shows no diff; --fix takes the first choice and mounts it.
    shown = verdict.kind != SharingKind.SERVER_DIR_NOT_MOUNTED
    diff = ""
    if shown:
        # Only a failing file needs a diff: the planner and its YAML editor load then.
        from doctor.plan import client_subject, plan_for

        diff = plan_for(ctx).diff(finding_id, client_subject(client))
    account = None  # the title, unless a shorter clause reads better in the root cause's chain
    if verdict.kind == SharingKind.NOT_MOUNTED:
        title = f"{client.service.name} looks for the socket in {client.directory} but mounts nothing of the database's there"
        detail = (
            f"libpq will try {socket_path}, which exists only inside {server.name}'s container. "
            "The backend fails with 'No such file or directory' (Prisma: P1001)."
        )
        summary = f"Mount {volume} in {client.service.name} at {client.directory}, the same volume the database uses."
    elif verdict.kind == SharingKind.VOLUME_MISMATCH:
        title = (
            f"{client.service.name} mounts {describe_mount(client.mount)} at {client.directory}, "
            f"but {server.name} keeps its socket on {describe_mount(verdict.server_mount)}"
        )
        detail = "Two different storages: the socket the server creates never appears where the client looks."
        summary = f"Mount the same named volume ({volume}) in both services."
    elif verdict.kind in (SharingKind.URL_MISMATCH, SharingKind.PORT_MISMATCH):
        if verdict.kind == SharingKind.PORT_MISMATCH:
            title = f"{client.service.name} asks for port {client.port}, so libpq looks for {socket_path}, which the server never creates"
            detail = "The port selects the socket file name (.s.PGSQL.<port>) even over a Unix socket."
            summary = f"Use the server's port in {client.variable}."
        else:
            title = (
                f"{client.service.name}'s {client.variable} names {client.directory}, but the database's "
                f"socket appears at {verdict.suggested_dir} in that container"
            )
            detail = f"libpq will try {socket_path}, which does not exist."
            summary = f"Set host={verdict.suggested_dir} in {client.variable}."
    else:
        mount = verdict.server_mount
        where = mount.target if mount is not None else "no shared volume"
        title = (
            f"{server.name} creates its socket outside the shared volume "
            f"(unix_socket_directories does not include {where})"
        )
        account = f"{server.name} creates its socket outside the shared volume"
        detail = (
            f"{client.service.name} looks in {client.directory}; the server writes its socket only in "
            "its own socket directories, none of which is on the storage the client mounts."
        )
        summary = f"Mount {volume} in {server.name} at its socket directory, or set unix_socket_directories to {where}."
    return Finding(
        finding_id,
        Status.FAIL,
        title,
        detail,
        tuple(evidence),
        Remedy(
            summary,
            diff,
            verify_commands(
                ctx.runtime,
                project.name,
                project.engine_volume_name(volume),
                [client.service.name],
                tool=ctx.compose_command,
                stack=ctx.is_stack,
            ),
        ),
        facts=Facts(
            service=client.service.name,
            volume=volume,
            path=socket_path,
            origin=str(client.mount.origin) if client.mount is not None else str(client.service.origin),
            account=account or title,
        ),
    )
