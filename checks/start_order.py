"""Check: socket clients start only once the database is healthy."""

from __future__ import annotations

from collections.abc import Iterator

from checks._common import requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject, Service
from doctor.context import Context
from doctor.models import Evidence, Facts, Finding, Remedy, Status, skipped
from doctor.postgres import database_services
from doctor.topology import client_uses

ID = catalog.BACKEND_START_ORDER
SUMMARY = "Socket clients wait for a healthy database (depends_on: service_healthy)"


def find_unordered(project: ComposeProject) -> list[tuple[Service, Service, str]]:
    """(client, database, what is missing) for each client that may start too early."""
    problems = []
    clients = {use.service.name: use.service for use in client_uses(project)}
    for client in clients.values():
        for database in database_services(project):
            condition = client.depends_on.get(database.name)
            if condition is None:
                problems.append((client, database, f"no depends_on on {database.name}"))
            elif condition != "service_healthy":
                problems.append((client, database, f"depends_on {database.name} with condition {condition}"))
            elif not database.healthcheck:
                problems.append((client, database, f"{database.name} has no healthcheck, so it never becomes healthy"))
    return problems


@requires_project(ID)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    if not client_uses(project) or not database_services(project):
        yield skipped(ID, "no socket client and database pair in the Compose files")
        return
    if ctx.is_stack:  # Swarm ignores depends_on: say so instead of advising it
        # Here, not at the top: most projects are no stack, and these readers load only for one.
        from doctor.compose.deploy import read_deploy
        from doctor.placement import stack_start_order

        yield from stack_start_order(project, read_deploy(project, dict(ctx.environ)))
        return
    problems = find_unordered(project)
    for client, database, missing in problems:
        yield Finding(
            ID,
            Status.WARN,
            f"{client.name} may start before {database.name} accepts connections ({missing})",
            "Until the server has created its socket, the client gets 'No such file or directory' "
            "or P1001, which looks like the socket problem this tool hunts for.",
            (Evidence(str(client.origin), f"{client.name}: {missing}"),),
            Remedy(
                f'Give {database.name} a healthcheck (test: ["CMD-SHELL", "pg_isready -h 127.0.0.1"]; over TCP '
                "loopback because the image's temporary initialisation server answers on the socket only) "
                f"and add to {client.name}: depends_on: {{{database.name}: {{condition: service_healthy}}}}."
            ),
            facts=Facts(
                service=client.name,
                origin=str(client.origin),
                account=f"{client.name} may start before {database.name} accepts connections",
            ),
        )
    if not problems:
        yield Finding(ID, Status.OK, "Socket clients wait for a healthy database")
