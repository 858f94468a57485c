"""Check: the socket and data volumes of the Compose model exist on the engine as Compose made them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from checks._common import requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject, MountType
from doctor.context import Context
from doctor.engine.nodes import stack_volumes
from doctor.models import Evidence, Facts, Finding, Remedy, Status, TargetOS, skipped
from doctor.postgres import data_dir, database_services
from doctor.topology import client_uses, server_uses

ID = catalog.ENGINE_VOLUMES
SUMMARY = "The socket and data volumes exist on the engine, made by Compose for this project"
PROJECT_LABEL = "com.docker.compose.project"
VOLUME_LABEL = "com.docker.compose.volume"
STACK_LABEL = "com.docker.stack.namespace"  # docker stack deploy labels its volumes with this only


@dataclass(frozen=True)
class WantedVolume:
    key: str
    engine_name: str
    role: str  # "socket" | "data"
    external: bool


def wanted_volumes(project: ComposeProject) -> list[WantedVolume]:
    roles: dict[str, str] = {}
    for use in [*server_uses(project), *client_uses(project)]:
        if use.mount is not None and use.mount.type == MountType.VOLUME and use.mount.source:
            roles.setdefault(use.mount.source, "socket")
    for database in database_services(project):
        mount = database.mount_covering(data_dir(database))
        if mount is not None and mount.type == MountType.VOLUME and mount.source:
            roles.setdefault(mount.source, "data")
    return [
        WantedVolume(
            key, project.engine_volume_name(key), role, bool(project.volumes.get(key) and project.volumes[key].external)
        )
        for key, role in roles.items()
    ]


def binds_host_folder(volume: dict[str, Any]) -> str | None:
    options = {str(k).lower(): str(v) for k, v in (volume.get("Options") or {}).items()}
    if "bind" in options.get("o", "").split(",") and options.get("device"):
        return options["device"]
    return None


def find_volume_problems(
    wanted: list[WantedVolume],
    on_engine: list[dict[str, Any]],
    project: str,
    deployed: bool,
    target_os: TargetOS,
    *,
    compose: str = "docker compose",
    runtime: str = "docker",
    stack: bool = False,
) -> Iterator[Finding]:
    """``compose`` and ``runtime``: the commands of the tool that deployed the project;
    ``stack``: a Swarm stack, whose volume exists only on the nodes that ran a task mounting it."""
    by_name = {str(v.get("Name")): v for v in on_engine}
    for volume in wanted:
        found = by_name.get(volume.engine_name)
        if found is None and stack:
            yield Finding(
                catalog.VOLUME_MISSING,
                Status.INFO,
                f"The {volume.role} volume {volume.engine_name} ({volume.key}) does not exist on this engine's node",
                "In a Swarm stack each node makes the volume when it first runs a task that mounts it; "
                "stack-placement judges where the tasks run.",
                facts=Facts(volume=volume.engine_name),
            )
            continue
        if found is None:
            yield Finding(
                catalog.VOLUME_MISSING,
                Status.FAIL if deployed else Status.WARN,
                f"The {volume.role} volume {volume.engine_name} ({volume.key}) does not exist on the engine",
                "The project's containers exist, so they use other storage than the file says."
                if deployed
                else "Nothing has been deployed yet; `compose up` creates it.",
                remedy=Remedy(
                    f"`{compose} -p {project} up -d` creates it"
                    + ("; an external volume must be created by hand" if volume.external else "")
                ),
                facts=Facts(volume=volume.engine_name),
            )
            continue
        labels = found.get("Labels") or {}
        device = binds_host_folder(found)
        if device is not None:
            yield Finding(
                catalog.VOLUME_BIND_DEVICE,
                catalog.get(catalog.VOLUME_BIND_DEVICE).status_on(target_os),
                f"The live volume {volume.engine_name} binds the host folder {device}",
                "Its options mount a host folder (o=bind, device=...), which on macOS is a share into the VM "
                "where sockets cannot be created. The volume keeps these options until it is removed.",
                (Evidence(volume.engine_name, f"Options: {found.get('Options')}"),),
                Remedy(
                    f"Remove driver_opts from the file, then `{compose} -p {project} down` and "
                    f"`{runtime} volume rm {volume.engine_name}` so it is made again."
                ),
                facts=Facts(volume=volume.engine_name, path=device),
            )
        owner = labels.get(PROJECT_LABEL, labels.get(STACK_LABEL))
        if not volume.external and owner != project:
            made = f"for project {owner!r}" if owner else "outside Compose"
            yield Finding(
                catalog.VOLUME_FOREIGN_PROJECT,
                Status.WARN,
                f"The volume {volume.engine_name} exists but was created {made}",
                "Docker Compose v2 uses it anyway and only warns ('already exists but was not created by "
                "Docker Compose' / 'was created for project ...'; use `external: true`): the project shares "
                "storage it does not own, and `compose down -v` will not remove it.",
                (Evidence(volume.engine_name, f"Labels: {labels}"),),
                Remedy(
                    f"Declare {volume.key} with `external: true` and `name: {volume.engine_name}`, or remove the volume."
                ),
                facts=Facts(volume=volume.engine_name),
            )
    yield from _other_projects(wanted, on_engine, project)


def _other_projects(wanted: list[WantedVolume], on_engine: list[dict[str, Any]], project: str) -> Iterator[Finding]:
    for volume in wanted:
        others = sorted(
            str(v.get("Name"))
            for v in on_engine
            if (v.get("Labels") or {}).get(VOLUME_LABEL) == volume.key
            and (v.get("Labels") or {}).get(PROJECT_LABEL) not in (None, project)
            and v.get("Name") != volume.engine_name  # that one is volume-foreign-project
        )
        if others:
            yield Finding(
                catalog.VOLUME_OTHER_PROJECTS,
                Status.INFO,
                f"Volumes for {volume.key} also exist under other project names: {', '.join(others)}",
                "After a directory rename or a -p change the data may be in one of these, while the "
                "project now uses an empty new volume.",
                facts=Facts(volume=volume.key),
            )


@requires_project(ID, engine=True)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    engine = ctx.engine
    assert engine is not None  # requires_project(engine=True) has checked
    wanted = wanted_volumes(project)
    if not wanted:
        yield skipped(ID, "the Compose files name no socket or data volume")
        return
    deployed = bool(engine.project_containers(project.name))
    volumes = stack_volumes(engine, ctx.nodes, ctx.stack) if ctx.stack is not None else engine.volumes()
    problems = list(
        find_volume_problems(
            wanted,
            volumes,
            project.name,
            deployed,
            ctx.target_os,
            compose=ctx.compose_command,
            runtime=ctx.runtime,
            stack=ctx.is_stack,
        )
    )
    yield from problems
    if not [f for f in problems if f.status.is_problem]:
        listed = ", ".join(f"{v.key} → {v.engine_name}" for v in wanted)
        yield Finding(ID, Status.OK, f"The volumes exist on the engine as Compose made them: {listed}")
