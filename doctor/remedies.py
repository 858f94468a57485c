"""Remedy text shared by checks: verification commands per runtime and the guide's backup steps."""

from __future__ import annotations

GUIDE = "the deployment guide, unix-socket-volumes.md"


def compose_cmd(runtime: str) -> str:
    return "finch compose" if runtime == "finch" else "docker compose"


def redeploy_command(runtime: str, project: str, stack: bool = False, file: str = "compose.yaml") -> str:
    """Recreate the deployment from the current file: ``docker stack deploy`` for a Swarm stack."""
    if stack:
        return f"docker stack deploy -c {file} {project}"
    return f"{compose_cmd(runtime)} -p {project} up -d --force-recreate"


def verify_commands(
    runtime: str, project: str, volume: str | None, services: list[str], stack: bool = False
) -> tuple[str, ...]:
    if stack:  # a Swarm stack: the volume lives on each node, so look at where the tasks run
        return (
            redeploy_command(runtime, project, stack=True),
            *(f"docker service ps --no-trunc {project}_{service}" for service in services),
            *(f"docker service logs --tail 50 {project}_{service}" for service in services),
            "docker node ls",
        )
    commands = []
    if volume:
        commands.append(f"{runtime} volume inspect {volume}")
    compose = compose_cmd(runtime)
    commands.append(f"{compose} -p {project} up -d --force-recreate")
    commands.extend(f"{compose} -p {project} logs --tail 50 {service}" for service in services)
    return tuple(commands)


def data_move_commands(runtime: str, host_path: str, volume: str) -> tuple[str, ...]:
    """The guide's backup-and-restore, in order. The doctor prints these; it never runs them."""
    return (
        f"{runtime} compose down",
        f"tar czf db_data.tar.gz -C {host_path} .",
        f"{runtime} volume create {volume}",
        f"{runtime} run --rm -v {volume}:/data -v $(pwd):/backup alpine tar xzf /backup/db_data.tar.gz -C /data",
        f"{runtime} compose up -d",
    )
