"""Check: every socket directory sits on a named volume inside the VM, never on a host folder."""

from __future__ import annotations

from collections.abc import Iterator

from checks._common import mount_evidence, requires_project, severity
from doctor import catalog
from doctor.compose.model import ComposeProject, Mount, MountType, VolumeDecl
from doctor.context import Context
from doctor.models import Evidence, Facts, Finding, Remedy, Status, TargetOS
from doctor.remedies import GUIDE, recreate_volume_commands, verify_commands
from doctor.topology import (
    HostPathSocket,
    SocketUse,
    find_bind_device_volumes,
    find_host_path_sockets,
    find_undeclared_socket_volumes,
    socket_mounts,
    socket_volume_name,
)

ID = catalog.SOCKET_MOUNTS
SUMMARY = "Socket directories are named volumes, not host folders or device binds"


@requires_project(ID)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    problems = [
        *(host_path_finding(ctx, project, group) for group in find_host_path_sockets(project)),
        *(undeclared_finding(ctx, project, key, uses) for key, uses in find_undeclared_socket_volumes(project).items()),
        *(bind_device_finding(ctx, project, decl) for decl in find_bind_device_volumes(project)),
    ]
    yield from problems
    if not problems and socket_mounts(project):
        # A tmpfs is no host folder (it lives where the container runs), so this check has nothing
        # against it; it cannot be shared, which socket-sharing reports as socket-volume-mismatch.
        private = sorted(
            {f"{use.service.name} ({m.target})" for use, m in socket_mounts(project) if m.type == MountType.TMPFS}
        )
        if private:
            title = f"No socket directory is on a host folder; a private tmpfs holds it in {', '.join(private)}"
            yield Finding(ID, Status.OK, title)
        else:
            yield Finding(ID, Status.OK, "Every socket directory is on a named volume")


def host_path_finding(ctx: Context, project: ComposeProject, group: HostPathSocket) -> Finding:
    volume = socket_volume_name(project)
    services = list(dict.fromkeys(use.service.name for use, _ in group.uses))
    targets = ", ".join(sorted({m.target for _, m in group.uses}))
    status = severity(ctx, catalog.SOCKET_HOST_PATH)
    why = (
        "On macOS, Finch (and Docker Desktop, Colima) run containers in a Linux VM and reach this "
        "folder over virtiofs, 9p or sshfs, where a Unix socket cannot be created: PostgreSQL dies "
        "with 'FATAL: could not create any Unix-domain sockets' and the backend reports P1001."
    )
    if ctx.target_os is not TargetOS.MACOS:
        why += " On Linux it works, but the same file breaks the moment it runs on macOS."
    # Only a failing file needs a diff: the planner and its YAML editor load then.
    from doctor.plan import plan_for

    return Finding(
        catalog.SOCKET_HOST_PATH,
        status,
        f"The socket directory {targets} is the host folder {group.host_path} ({', '.join(services)})",
        why,
        tuple(mount_evidence(mount, use.service.name) for use, mount in group.uses),
        Remedy(
            f"Mount the named volume {volume} ({project.engine_volume_name(volume)} on the engine) at "
            f"{targets} in every service, declared under top-level volumes: with driver: local ({GUIDE}).",
            plan_for(ctx).diff(catalog.SOCKET_HOST_PATH, group.host_path),
            verify_commands(
                ctx.runtime,
                project.name,
                project.engine_volume_name(volume),
                services,
                tool=ctx.compose_command,
                stack=ctx.is_stack,
            ),
        ),
        facts=Facts(
            services=tuple(services),
            path=group.host_path,
            volume=volume,
            origin=str(group.uses[0][1].origin) if group.uses else None,
        ),
    )


def undeclared_finding(ctx: Context, project: ComposeProject, key: str, uses: list[tuple[SocketUse, Mount]]) -> Finding:
    # Only a failing file needs a diff: the planner and its YAML editor load then.
    from doctor.plan import plan_for

    return Finding(
        catalog.SOCKET_VOLUME_UNDECLARED,
        Status.FAIL,
        f"The socket volume {key} is not declared under top-level volumes:",
        "docker compose refuses a service that refers to an undefined volume.",
        tuple(mount_evidence(mount, use.service.name) for use, mount in uses),
        Remedy(
            f"Declare {key} under top-level volumes: with driver: local.",
            plan_for(ctx).diff(catalog.SOCKET_VOLUME_UNDECLARED, key),
        ),
        facts=Facts(volume=key, origin=str(uses[0][1].origin)),
    )


def bind_device_finding(ctx: Context, project: ComposeProject, decl: VolumeDecl) -> Finding:
    device = decl.driver_opts.get("device", "?")
    status = severity(ctx, catalog.SOCKET_VOLUME_BIND_DEVICE)
    if ctx.engine is not None and ctx.engine.runtime.ignores_driver_opts:
        status = Status.WARN  # Finch drops driver_opts, so the volume is an ordinary VM volume there
    # Only a failing file needs a diff: the planner and its YAML editor load then.
    from doctor.plan import plan_for

    return Finding(
        catalog.SOCKET_VOLUME_BIND_DEVICE,
        status,
        f"The socket volume {decl.key} binds the host folder {device} through driver_opts",
        "A local volume with type: none, o: bind and a device is a host folder under another name: "
        "on Docker Desktop for macOS the socket cannot be created there. Finch ignores driver_opts "
        "entirely, so there it works only by accident, as an ordinary VM volume.",
        (Evidence(str(decl.origin), f"{decl.key}: driver_opts {decl.driver_opts}"),),
        Remedy(
            f"Remove driver_opts from {decl.key} so it is an ordinary named volume, then replace the "
            f"engine's {decl.engine_name}: Compose keeps an existing volume with its old options.",
            plan_for(ctx).diff(catalog.SOCKET_VOLUME_BIND_DEVICE, decl.key),
            recreate_volume_commands(ctx.runtime, project.name, decl.engine_name, ctx.compose_command),
        ),
        facts=Facts(volume=decl.key, path=device, origin=str(decl.origin)),
    )
