"""Remedy text shared by checks: verification commands per runtime and the guide's backup steps.

Every command list is meant to be run as printed, in order, in the project directory, and each
command must succeed there with Docker Compose v2: Compose creates a project's named volumes only
when a service uses them, at ``up``/``create``, so nothing inspects a volume before Compose made
it, and volumes are made by Compose (labelled as the project's), never by hand."""

from __future__ import annotations

GUIDE = "the deployment guide, unix-socket-volumes.md"


def compose_cmd(runtime: str) -> str:
    """The runtime's own Compose, for when no deployed container tells which tool made it."""
    return "finch compose" if runtime == "finch" else "docker compose"


def _compose(runtime: str, project: str | None, tool: str | None = None) -> str:
    """``tool`` is the Compose command that deployed the project (Context.compose_command): a
    project made by podman-compose must be handled by podman-compose, whose networks Compose v2
    refuses (`network … has incorrect label com.docker.compose.network`)."""
    command = tool or compose_cmd(runtime)
    return f"{command} -p {project}" if project else command


def redeploy_command(
    runtime: str, project: str, stack: bool = False, file: str = "compose.yaml", tool: str | None = None
) -> str:
    """Recreate the deployment from the current file: ``docker stack deploy`` for a Swarm stack,
    else the Compose tool that deployed it."""
    if stack:
        return f"docker stack deploy -c {file} {project}"
    return f"{_compose(runtime, project, tool)} up -d --force-recreate"


def restart_commands(runtime: str, project: str, service: str, tool: str | None = None) -> tuple[str, ...]:
    """Start a stopped service again from the file as it is, and read its first lines."""
    compose = _compose(runtime, project, tool)
    return (f"{compose} up -d {service}", f"{compose} logs --tail 50 {service}")


def verify_commands(
    runtime: str,
    project: str,
    volume: str | None,
    services: list[str],
    *,
    tool: str | None = None,
    stack: bool = False,
) -> tuple[str, ...]:
    """Recreate the containers from the fixed file, then look at the volume they now share and
    at the clients' logs. ``up`` comes first: before it, Compose has not made the volume."""
    if stack:  # a Swarm stack: the volume lives on each node, so look at where the tasks run
        return (
            redeploy_command(runtime, project, stack=True),
            *(f"docker service ps --no-trunc {project}_{service}" for service in services),
            *(f"docker service logs --tail 50 {project}_{service}" for service in services),
            "docker node ls",
        )
    compose = _compose(runtime, project, tool)
    commands = [redeploy_command(runtime, project, tool=tool)]
    if volume:
        commands.append(f"{runtime} volume inspect {volume}")
    commands.extend(f"{compose} logs --tail 50 {service}" for service in services)
    return tuple(commands)


def recreate_volume_commands(runtime: str, project: str, volume: str, tool: str | None = None) -> tuple[str, ...]:
    """Replace an existing volume whose options the fixed file no longer has. Compose keeps a
    volume that exists, options and all, so it must go first; only a volume that holds nothing
    to keep (a socket directory) may be replaced like this."""
    compose = _compose(runtime, project, tool)
    return (
        f"{compose} down",
        f"{runtime} volume rm {volume}",
        f"{compose} up -d",
        f"{runtime} volume inspect {volume}",
    )


def data_move_commands(
    runtime: str, host_path: str, volume: str, project: str | None = None, tool: str | None = None
) -> tuple[str, ...]:
    """The guide's backup-and-restore, in order. The doctor prints these; it never runs them.

    The diff goes in after the backup (the first two commands). ``create`` then makes the data
    volume through Compose, labelled as the project's, before the guide's restore writes into it:
    a volume made with ``volume create`` would belong to no project, and Compose warns about it."""
    compose = _compose(runtime, project, tool)
    # podman-compose 1.0 has no `create`; `up --no-start` makes the same containers and volumes.
    create = f"{compose} up --no-start" if (tool or "").startswith("podman-compose") else f"{compose} create"
    return (
        f"{compose} down",
        f"tar czf db_data.tar.gz -C {host_path} .",
        create,
        f"{runtime} run --rm -v {volume}:/data -v $(pwd):/backup alpine tar xzf /backup/db_data.tar.gz -C /data",
        f"{compose} up -d",
    )
