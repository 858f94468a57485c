"""Check: the project's containers (found by Compose labels, never by name) run, stay up, are
healthy, and mount at the socket directory what the Compose file on disk says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks._common import requires_project
from doctor.compose.model import ComposeProject, Mount, canonical_dir
from doctor.context import Context
from doctor.engine.nodes import stack_containers
from doctor.engine.swarm import service_of
from doctor.models import Evidence, Finding, Remedy, Status
from doctor.remedies import redeploy_command
from doctor.topology import SocketUse, client_uses, server_uses

ID = "containers"
SUMMARY = "The project's containers run, are healthy, and mount the socket as the file says"
SERVICE_LABEL = "com.docker.compose.service"


def state_findings(container: Any) -> Iterator[Finding]:
    state = container.attrs.get("State") or {}
    name = container.name
    service = service_of(container) or "?"
    status = state.get("Status", "unknown")
    if state.get("OOMKilled"):
        yield Finding("container-oom-killed", Status.FAIL, f"{service} ({name}) was killed for using too much memory",
                      "The kernel's OOM killer ended it.", (Evidence(name, f"OOMKilled, exit code {state.get('ExitCode')}"),),
                      Remedy("Raise the memory limit (mem_limit, or the VM's memory: `finch.yaml` memory)."))  # fmt: skip
    if status in ("exited", "dead", "created"):
        code = state.get("ExitCode")
        finished = state.get("FinishedAt", "")
        yield Finding(
            "container-not-running",
            Status.FAIL,
            f"{service} ({name}) is not running: {status}, exit code {code}",
            f"It stopped at {finished}." if finished and not finished.startswith("0001") else "It never ran.",
            (Evidence(name, f"State {status}, ExitCode {code}, FinishedAt {finished}"),),
            Remedy(f"Read its log (`logs {service}`); the container-logs check classifies it."),
        )
    elif state.get("Restarting") or status == "restarting":
        count = container.attrs.get("RestartCount", 0)
        yield Finding("container-restarting", Status.FAIL, f"{service} ({name}) keeps restarting ({count} restarts)",
                      "It exits soon after each start; its log says why.", (Evidence(name, f"RestartCount {count}"),),
                      Remedy(f"Read its log (`logs {service}`)."))  # fmt: skip
    health = state.get("Health") or {}
    if health.get("Status") == "unhealthy":
        last = (health.get("Log") or [{}])[-1]
        output = str(last.get("Output", "")).strip()
        yield Finding("container-unhealthy", Status.FAIL, f"{service} ({name}) is unhealthy",
                      f"Its health check fails ({health.get('FailingStreak', '?')} times in a row).",
                      (Evidence(name, output[-500:] or "(no output)"),), Remedy("Read the health check's output above."))  # fmt: skip


def actual_mount(container: Any, directory: str) -> dict[str, Any] | None:
    wanted = canonical_dir(directory)
    best: dict[str, Any] | None = None
    for mount in container.attrs.get("Mounts") or []:
        target = canonical_dir(str(mount.get("Destination", "")))
        if (wanted == target or wanted.startswith(target.rstrip("/") + "/")) and (
            best is None or len(target) > len(canonical_dir(str(best.get("Destination", ""))))
        ):
            best = mount
    return best


def identity(mount: dict[str, Any] | None) -> str:
    if mount is None:
        return "nothing (the container's own filesystem)"
    if mount.get("Type") == "volume":
        return f"volume {mount.get('Name')}"
    return f"{mount.get('Type')} {mount.get('Source')}"


def expected_identity(project: ComposeProject, mount: Mount | None) -> str:
    if mount is None:
        return identity(None)
    if mount.type == "volume" and mount.source:
        return f"volume {project.engine_volume_name(mount.source)}"
    if mount.type == "bind":
        return f"bind {mount.source}"
    return mount.type


def find_drift(
    project: ComposeProject, containers: dict[str, Any], runtime: str, stack: bool = False
) -> Iterator[Finding]:
    uses: list[SocketUse] = [*server_uses(project), *client_uses(project)]
    seen: dict[str, str] = {}
    for use in uses:
        container = containers.get(use.service.name)
        if container is None:
            continue
        running = identity(actual_mount(container, use.directory))
        on_disk = expected_identity(project, use.mount)
        seen[f"{use.role}:{use.service.name}"] = running
        if running != on_disk:
            yield Finding(
                "container-socket-mount-drift",
                Status.FAIL,
                f"{use.service.name} runs with {running} at {use.directory}, but the file on disk says {on_disk}",
                "The container was created from an older version of the Compose file.",
                (
                    Evidence(container.name, f"mounted: {running}"),
                    Evidence(str(use.mount.origin) if use.mount else use.service.name, f"file: {on_disk}"),
                ),
                Remedy(
                    "Recreate the containers from the current file.",
                    commands=(redeploy_command(runtime, project.name, stack),),
                ),
            )
    servers = {k: v for k, v in seen.items() if k.startswith("server:")}
    for key, running in seen.items():
        if key.startswith("client:") and servers and running not in servers.values():
            service = key.split(":", 1)[1]
            yield Finding(
                "container-socket-mount-drift",
                Status.FAIL,
                f"{service} runs with {running} at its socket directory, the database with {', '.join(sorted(set(servers.values())))}",
                "What is actually mounted differs between the database and the client, so the client cannot see the socket.",
                (Evidence(containers[service].name, f"mounted: {running}"),),
                Remedy(
                    "Mount the database's socket volume in the client, then recreate it.",
                    commands=(redeploy_command(runtime, project.name, stack),),
                ),
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
    problems = [f for c in found for f in state_findings(c)]
    problems += list(find_drift(project, by_service, ctx.runtime, ctx.is_stack))
    yield from problems
    if not problems:
        yield Finding(
            ID,
            Status.OK,
            f"{len(found)} container(s) of {project.name} run as the file says: {', '.join(sorted(by_service))}",
        )
