"""Remedy text shared by checks: verification commands per runtime and the guide's backup steps.

Every command list is meant to be run as printed, in order, in the project directory, and each
command must succeed there with Docker Compose v2: Compose creates a project's named volumes only
when a service uses them, at ``up``/``create``, so nothing inspects a volume before Compose made
it, and volumes are made by Compose (labelled as the project's), never by hand."""

from __future__ import annotations

GUIDE = "the deployment guide, unix-socket-volumes.md"


def compose_cmd(runtime: str) -> str:
    return "finch compose" if runtime == "finch" else "docker compose"


def _compose(runtime: str, project: str | None) -> str:
    return f"{compose_cmd(runtime)} -p {project}" if project else compose_cmd(runtime)


def redeploy_command(runtime: str, project: str, stack: bool = False, file: str = "compose.yaml") -> str:
    """Recreate the deployment from the current file: ``docker stack deploy`` for a Swarm stack."""
    if stack:
        return f"docker stack deploy -c {file} {project}"
    return f"{_compose(runtime, project)} up -d --force-recreate"


def verify_commands(
    runtime: str, project: str, volume: str | None, services: list[str], stack: bool = False
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
    compose = _compose(runtime, project)
    commands = [redeploy_command(runtime, project)]
    if volume:
        commands.append(f"{runtime} volume inspect {volume}")
    commands.extend(f"{compose} logs --tail 50 {service}" for service in services)
    return tuple(commands)


def recreate_volume_commands(runtime: str, project: str, volume: str) -> tuple[str, ...]:
    """Replace an existing volume whose options the fixed file no longer has. Compose keeps a
    volume that exists, options and all, so it must go first; only a volume that holds nothing
    to keep (a socket directory) may be replaced like this."""
    compose = _compose(runtime, project)
    return (
        f"{compose} down",
        f"{runtime} volume rm {volume}",
        f"{compose} up -d",
        f"{runtime} volume inspect {volume}",
    )


def data_move_commands(runtime: str, host_path: str, volume: str, project: str | None = None) -> tuple[str, ...]:
    """The guide's backup-and-restore, in order. The doctor prints these; it never runs them.

    The diff goes in after the backup (the first two commands). ``create`` then makes the data
    volume through Compose, labelled as the project's, before the guide's restore writes into it:
    a volume made with ``volume create`` would belong to no project, and Compose warns about it."""
    compose = _compose(runtime, project)
    return (
        f"{compose} down",
        f"tar czf db_data.tar.gz -C {host_path} .",
        f"{compose} create",
        f"{runtime} run --rm -v {volume}:/data -v $(pwd):/backup alpine tar xzf /backup/db_data.tar.gz -C /data",
        f"{compose} up -d",
    )
