"""Check: the project's containers (found by Compose labels, never by name) run, stay up, are
healthy, and mount at the socket directory what the Compose file on disk says."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from checks._common import requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject, Mount, MountType
from doctor.context import Context
from doctor.engine.composetool import ONEOFF_LABEL
from doctor.engine.nodes import stack_containers
from doctor.engine.swarm import service_of
from doctor.models import Evidence, Facts, Finding, Remedy, Status, TargetOS
from doctor.remedies import compose_cmd, redeploy_command, restart_commands
from doctor.topology import Role, SocketUse, actual_mount, client_uses, server_uses

ID = catalog.CONTAINERS
SUMMARY = "The project's containers run, are healthy, and mount the socket as the file says"
SERVICE_LABEL = "com.docker.compose.service"


def state_findings(container: Any, restart: tuple[str, ...] = (), *, server: bool = False) -> Iterator[Finding]:
    """``restart``: the commands that start the service again (Compose tool's own); ``server``:
    the container is the database, whose socket other containers use."""
    state = container.attrs.get("State") or {}
    name = container.name
    service = service_of(container) or "?"
    status = state.get("Status", "unknown")
    code = state.get("ExitCode")
    facts = Facts(service=service, container=name, state=status, exit_code=code if isinstance(code, int) else None)
    if state.get("OOMKilled"):
        yield Finding(catalog.CONTAINER_OOM_KILLED, Status.FAIL, f"{service} ({name}) was killed for using too much memory",
                      "The kernel's OOM killer ended it.", (Evidence(name, f"OOMKilled, exit code {state.get('ExitCode')}"),),
                      Remedy("Raise the memory limit (mem_limit, or the VM's memory: `finch.yaml` memory)."), facts=facts)  # fmt: skip
    if status in ("exited", "dead", "created"):
        finished = state.get("FinishedAt", "")
        yield Finding(
            catalog.CONTAINER_NOT_RUNNING,
            Status.FAIL,
            f"{service} ({name}) is not running: {status}, exit code {code}",
            f"It stopped at {finished}." if finished and not finished.startswith("0001") else "It never ran.",
            (Evidence(name, f"State {status}, ExitCode {code}, FinishedAt {finished}"),),
            _stopped_remedy(service, code, bool(state.get("OOMKilled")), restart, server=server),
            facts=facts,
        )
    elif state.get("Restarting") or status == "restarting":
        count = container.attrs.get("RestartCount", 0)
        yield Finding(catalog.CONTAINER_RESTARTING, Status.FAIL, f"{service} ({name}) keeps restarting ({count} restarts)",
                      "It exits soon after each start; its log says why.", (Evidence(name, f"RestartCount {count}"),),
                      Remedy(f"Read its log (`logs {service}`)."),
                      facts=Facts(service=service, container=name, state="restarting",
                                  count=count if isinstance(count, int) else None))  # fmt: skip
    health = state.get("Health") or {}
    if health.get("Status") == "unhealthy":
        last = (health.get("Log") or [{}])[-1]
        output = str(last.get("Output", "")).strip()
        yield Finding(catalog.CONTAINER_UNHEALTHY, Status.FAIL, f"{service} ({name}) is unhealthy",
                      f"Its health check fails ({health.get('FailingStreak', '?')} times in a row).",
                      (Evidence(name, output[-500:] or "(no output)"),), Remedy("Read the health check's output above."),
                      facts=facts)  # fmt: skip


def _stopped_remedy(service: str, code: Any, oom: bool, restart: tuple[str, ...], *, server: bool) -> Remedy:
    """Exit 137 without the OOM killer is a SIGKILL (`kill -9`, `docker kill`, a stop that timed
    out): nothing in the log explains it, and the server could not remove its socket file."""
    if code == 137 and not oom:
        why = (
            " PostgreSQL had no chance to remove its socket file, so a stale socket stays in the shared volume: "
            "clients find the file and get 'Connection refused' (ECONNREFUSED) until a new server replaces it."
            if server
            else ""
        )
        how = f" (`{restart[0]}`)" if restart else ""
        return Remedy(f"Restart {service}{how}: it was killed (exit code 137, SIGKILL).{why}", commands=restart)
    return Remedy(f"Read its log (`logs {service}`); the container-logs check classifies it.")


@dataclass(frozen=True)
class Storage:
    """What holds a directory in a container: a volume, a host folder, other storage, or nothing
    but the container's own filesystem. Compared as a value; written as people read it."""

    kind: str | None  # the mount type (volume, bind, tmpfs, …); None: no mount
    source: str = ""  # the volume's engine name, the host folder

    def __str__(self) -> str:
        return "nothing (the container's own filesystem)" if self.kind is None else f"{self.kind} {self.source}"

    @property
    def host_folder(self) -> bool:
        return self.kind == MountType.BIND


NOTHING = Storage(None)


def identity(mount: dict[str, Any] | None) -> Storage:
    """The storage an engine's mount record describes (``Mounts`` of a container's inspect)."""
    if mount is None:
        return NOTHING
    if mount.get("Type") == "volume":
        return Storage(MountType.VOLUME, str(mount.get("Name")))
    return Storage(str(mount.get("Type")), str(mount.get("Source")))


def expected_identity(project: ComposeProject, mount: Mount | None) -> Storage:
    """The storage the file on disk puts at the directory."""
    if mount is None:
        return NOTHING
    if mount.type == MountType.VOLUME and mount.source:
        return Storage(MountType.VOLUME, project.engine_volume_name(mount.source))
    if mount.type == MountType.BIND:
        return Storage(MountType.BIND, mount.source or "")
    return Storage(mount.type)


Holder = tuple[Role, str]  # (server or client, service)


def _shared(identities: dict[Holder, Storage]) -> bool:
    """Every client sees the server's socket directory: one volume or host folder for all."""
    servers = {v for (role, _), v in identities.items() if role is Role.SERVER}
    clients = {v for (role, _), v in identities.items() if role is Role.CLIENT}
    return len(servers) == 1 and clients <= servers and NOTHING not in servers


def find_drift(
    project: ComposeProject,
    containers: dict[str, Any],
    runtime: str,
    tool: str | None = None,
    target_os: TargetOS = TargetOS.LINUX,
    *,
    stack: bool = False,
) -> Iterator[Finding]:
    """Where the running containers differ from the file on disk, say which side is broken: a
    side is healthy when the database and every client share one volume (a host folder does not
    count on macOS, where it cannot hold a socket). Recreating is advised only from a healthy file."""
    compose = f"{tool or compose_cmd(runtime)} -p {project.name}"
    redeploy = redeploy_command(runtime, project.name, stack, tool=tool)
    uses: list[SocketUse] = [*server_uses(project), *client_uses(project)]
    running_ids: dict[Holder, Storage] = {}
    disk_ids: dict[Holder, Storage] = {}
    drifted: list[tuple[SocketUse, Any, Storage, Storage]] = []
    for use in uses:
        container = containers.get(use.service.name)
        if container is None:
            continue
        running = identity(actual_mount(container, use.directory))
        on_disk = expected_identity(project, use.mount)
        running_ids[use.role, use.service.name] = running
        disk_ids[use.role, use.service.name] = on_disk
        if running != on_disk:
            drifted.append((use, container, running, on_disk))

    def healthy(ids: dict[Holder, Storage]) -> bool:
        return _shared(ids) and not (target_os is TargetOS.MACOS and any(v.host_folder for v in ids.values()))

    disk_ok, running_ok = healthy(disk_ids), healthy(running_ids)
    for use, container, running, on_disk in drifted:
        if running_ok and not disk_ok:
            detail = (
                "The file on disk is the broken side: the running containers share the socket, and the file, "
                "deployed, would not. The containers come from an earlier, working version of the file."
            )
            remedy = Remedy(
                f"Do not recreate from this file: it would break the running deployment. Put {running} back at "
                f"{use.directory} for {use.service.name} in the file (as it runs now), and check the merged file "
                "before any `up`.",
                commands=(f"{compose} config",),
            )
        elif not disk_ok:
            detail = "Both sides are broken: neither the running containers nor the file on disk share the socket."
            remedy = Remedy(
                "Fix the file first (the socket findings above say how); recreate the containers only from the "
                f"fixed file (`{compose} up -d --force-recreate`)."
            )
        else:
            detail = (
                "The running containers are the broken side (or the older one): they were created from an earlier "
                "version of the Compose file, and the file on disk shares the socket."
            )
            remedy = Remedy("Recreate the containers from the current file.", commands=(redeploy,))
        yield Finding(
            catalog.CONTAINER_SOCKET_MOUNT_DRIFT,
            Status.FAIL,
            f"{use.service.name} runs with {running} at {use.directory}, but the file on disk says {on_disk}",
            detail,
            (
                Evidence(container.name, f"mounted: {running}"),
                Evidence(str(use.mount.origin) if use.mount else use.service.name, f"file: {on_disk}"),
            ),
            remedy,
            facts=Facts(service=use.service.name, container=container.name, path=use.directory),
        )
    servers = {k: v for k, v in running_ids.items() if k[0] is Role.SERVER}
    for (role, service), running in running_ids.items():
        if role is Role.CLIENT and servers and running not in servers.values():
            yield Finding(
                catalog.CONTAINER_SOCKET_MOUNT_DRIFT,
                Status.FAIL,
                f"{service} runs with {running} at its socket directory, the database with {', '.join(sorted({str(s) for s in servers.values()}))}",
                "What is actually mounted differs between the database and the client, so the client cannot see the socket.",
                (Evidence(containers[service].name, f"mounted: {running}"),),
                Remedy(
                    "Recreate the client from the current file, which mounts the database's socket volume."
                    if disk_ok
                    else "Mount the database's socket volume in the client in the file, then recreate it from the fixed file.",
                    commands=(redeploy,) if disk_ok else (),
                ),
                facts=Facts(service=service, container=containers[service].name),
            )


def oneoff_findings(oneoffs: list[Any], project: ComposeProject) -> Iterator[Finding]:
    """One-off containers (`compose run`) are not the service; they matter only if they hold the
    socket volume (a stopped one keeps the volume in use; a running one may be a second server)."""
    socket_volumes = {
        Storage(MountType.VOLUME, project.engine_volume_name(use.mount.source))
        for use in [*server_uses(project), *client_uses(project)]
        if use.mount is not None and use.mount.type == MountType.VOLUME and use.mount.source
    }
    for container in oneoffs:
        held = sorted(s.source for s in socket_volumes & {identity(m) for m in container.attrs.get("Mounts") or []})
        if held:
            state = (container.attrs.get("State") or {}).get("Status", "unknown")
            yield Finding(
                catalog.CONTAINER_ONEOFF_SOCKET,
                Status.INFO,
                f"A one-off container ({container.name}, {state}) holds the socket volume: {', '.join(f'volume {v}' for v in held)}",
                "It was made by `compose run`; it is not the service and is not judged as one. While it exists "
                "the volume is in use, so `volume rm` fails until it is removed.",
                (Evidence(container.name, f"{ONEOFF_LABEL}=True, {state}"),),
                facts=Facts(container=container.name, state=state, volume=held[0]),
            )


@requires_project(ID, engine=True)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    engine = ctx.engine
    assert engine is not None  # requires_project(engine=True) has checked
    found = engine.project_containers(project.name)
    if ctx.stack is not None:  # task containers on every node this machine reaches
        found = stack_containers(engine, ctx.nodes, ctx.stack, project.name)
    if not found:
        yield Finding(
            ID,
            Status.INFO,
            f"No containers of {'stack' if ctx.is_stack else 'project'} {project.name} on the engine: it is not deployed "
            + ("on this node" if ctx.is_stack else "(or under another project name)"),
        )
        return
    by_service = {service_of(c) or c.name: c for c in found}
    servers = {use.service.name for use in server_uses(project)}
    problems = [
        f
        for c in found
        for f in state_findings(
            c,
            restart_commands(ctx.runtime, project.name, service_of(c) or c.name, ctx.compose_command),
            server=service_of(c) in servers,
        )
    ]
    problems += list(
        find_drift(project, by_service, ctx.runtime, ctx.compose_command, ctx.target_os, stack=ctx.is_stack)
    )
    yield from problems
    yield from oneoff_findings(engine.oneoff_containers(project.name), project)
    if not problems:
        yield Finding(
            ID,
            Status.OK,
            f"{len(found)} container(s) of {project.name} run as the file says: {', '.join(sorted(by_service))}",
        )
