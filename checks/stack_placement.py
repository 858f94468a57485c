"""Check: in a Swarm stack, the database and each socket client can run only on the same node,
the database has one replica, and the running tasks are where the file says. A named volume is
local to each node, so a client placed elsewhere mounts an empty socket volume of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from checks._common import requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject
from doctor.context import Context
from doctor.models import Evidence, Facts, Finding, Remedy, Status, skipped
from doctor.postgres import database_services
from doctor.topology import client_uses, socket_volume_name

# Most projects are no stack: the deploy reader and the placement rules load when one is judged.
if TYPE_CHECKING:
    from doctor.compose.deploy import Deploy
    from doctor.engine.swarm import Stack, Task

ID = catalog.STACK_PLACEMENT
SUMMARY = "Swarm stacks: the database and each socket client are bound to one node, with one database replica"
TCP_NOTE = "or, to run them on different nodes, connect the client over TCP instead of the socket"


def stack_commands(stack: str, services: list[str], compose_file: str) -> tuple[str, ...]:
    return (
        f"docker stack deploy -c {compose_file} {stack}",
        *(f"docker service ps --no-trunc {stack}_{s}" for s in services),
        "docker node ls",
    )


def task_evidence(stack: Stack, task: Task) -> Evidence:
    where = stack.node_name(task.node_id)
    slot = f".{task.slot}" if task.slot is not None else ""
    said = task.error or task.message
    return Evidence(
        f"task {task.id[:12]}",
        f"{stack.name}_{task.service}{slot} on node {where}: {task.state}" + (f" ({said})" if said else ""),
    )


def find_replicas(db: Deploy, stack: Stack | None, stack_name: str, engine_volume: str) -> Iterator[Finding]:
    running = stack.running(db.service) if stack is not None else []
    nodes = sorted({stack.node_name(t.node_id) for t in running}) if stack is not None else []
    many_in_file = db.mode == "global" or db.replicas > 1
    if not many_in_file and len(running) <= 1:
        return
    evidence: list[Evidence] = []
    if many_in_file:
        written = "mode: global" if db.mode == "global" else f"replicas: {db.replicas}"
        evidence.append(Evidence(str(db.replicas_origin or db.origin or db.service), f"{db.service}: {written}"))
    if stack is not None:
        evidence.extend(task_evidence(stack, t) for t in running)
    on = f" on nodes {', '.join(nodes)}" if len(nodes) > 1 else ""
    yield Finding(
        catalog.STACK_DATABASE_REPLICAS,
        Status.FAIL,
        f"{db.service} runs more than one replica sharing the socket volume name {engine_volume}{on}",
        "Each replica on another node gets its own empty volume of that name, each with its own data "
        "directory: clients reach whichever server runs on their node, or none. Two replicas on one "
        "node would share one socket directory and one data directory.",
        tuple(evidence),
        Remedy(
            f"Run one replica of {db.service} (deploy: replicas: 1) pinned to one node; for more servers, "
            "use PostgreSQL replication with separate volumes and TCP.",
            commands=(f"docker service scale {stack_name}_{db.service}=1",),
        ),
        facts=Facts(service=db.service, volume=engine_volume, count=len(running) or None),
    )


def find_apart_in_file(
    project: ComposeProject, db: Deploy, client: Deploy, stack: Stack | None, diff: str = ""
) -> Iterator[Finding]:
    """``diff`` is the planner's slice for this pair (``plan_for(ctx).diff``), shown as the remedy."""
    from doctor.placement import file_verdict, suggested_constraint

    verdict, single = file_verdict(db, client, stack)
    if verdict.together:
        return
    constraint, extra = suggested_constraint(db, stack, db.service)
    by_hand = [d.service for d in (db, client) if not d.has_constraint(constraint) and not d.constraints_editable]
    detail = (
        "A named volume is local to the node that runs the task. Placed on different nodes, the client mounts "
        "an empty socket volume of the same name and gets 'No such file or directory'."
    )
    if single:
        detail += " The swarm has one node today, so they meet by chance; a second node breaks it."
    if by_hand:
        detail += f" Add the constraint by hand to {', '.join(by_hand)} (flow-style constraints)."
    evidence = [Evidence(_where(d), f"{d.service}: " + (", ".join(c.written for c in d.constraints) or "no placement constraints")) for d in (db, client)]  # fmt: skip
    yield Finding(
        catalog.STACK_PLACEMENT_APART,
        Status.WARN if single else Status.FAIL,
        f"{db.service} and {client.service} may be placed on different nodes: {verdict.reason}",
        detail,
        tuple(evidence),
        Remedy(
            f"Add the placement constraint `{constraint}` to both {db.service} and {client.service}, {TCP_NOTE}.",
            diff,
            (*extra, *stack_commands(project.name, [db.service, client.service], _first_file(project))),
        ),
        facts=Facts(services=(db.service, client.service), origin=_where(client)),
    )


def find_apart_live(stack: Stack, db: Deploy, client: Deploy, pinned_in_file: bool) -> Iterator[Finding]:
    db_tasks = stack.running(db.service)
    db_nodes = {t.node_id for t in db_tasks}
    client_tasks = stack.current(client.service) or stack.running(client.service)
    apart = [t for t in client_tasks if db_nodes and t.node_id not in db_nodes]
    if not apart:
        return
    db_where = ", ".join(sorted({stack.node_name(n) for n in db_nodes}))
    client_where = ", ".join(sorted({stack.node_name(t.node_id) for t in apart}))
    detail = (
        f"Server up on node {db_where}; {client.service} on node {client_where} mounts that node's own, empty "
        f"socket volume, so it sees no socket (ENOENT)."
    )
    if pinned_in_file:
        live = {s: ", ".join(stack.services[s].constraints) or "none" for s in (db.service, client.service) if s in stack.services}  # fmt: skip
        detail += (
            " The file on disk pins them together, but the running services were deployed with other constraints ("
            + "; ".join(f"{s}: {c}" for s, c in live.items())
            + "): they come from an older or another file."
        )
    yield Finding(
        catalog.STACK_TASKS_APART,
        Status.FAIL,
        f"{db.service} runs on node {db_where}, {client.service} on node {client_where}: "
        "they do not share the socket volume",
        detail,
        tuple(task_evidence(stack, t) for t in [*db_tasks, *apart]),
        Remedy(
            "Deploy the stack again from the file that pins both to one node"
            if pinned_in_file
            else f"Pin {db.service} and {client.service} to the same node (see stack-placement-apart), {TCP_NOTE}.",
            commands=stack_commands(stack.name, [db.service, client.service], "compose.yaml"),
        ),
        facts=Facts(service=client.service, services=(db.service, client.service), node=client_where),
    )


def _where(deploy: Deploy) -> str:
    if deploy.origin is not None:
        return str(deploy.origin)
    return f"{deploy.service_file}:{deploy.service_line}" if deploy.service_file else deploy.service


def _first_file(project: ComposeProject) -> str:
    return next(iter(project.texts), "compose.yaml")


@requires_project(ID)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    if not ctx.is_stack:
        yield skipped(ID, "not a Swarm stack", "no --stack, and the engine runs no stack of this name")
        return
    stack = ctx.stack
    partial = ctx.stack_error or (stack.error if stack is not None else "")
    if partial:  # a worker, or a Swarm API that stopped answering: the files are still judged
        yield Finding(ID, Status.INFO, f"Placement judged from the files only: {partial}")
    databases = database_services(project)
    clients = list(dict.fromkeys(use.service.name for use in client_uses(project)))
    if not databases:
        yield skipped(ID, "no database service in the Compose files")
        return
    from doctor.compose.deploy import read_deploy
    from doctor.plan import pair_subject, plan_for

    deploys = read_deploy(project, dict(ctx.environ))
    engine_volume = project.engine_volume_name(socket_volume_name(project))
    problems: list[Finding] = []
    for database in databases:
        db = deploys[database.name]
        problems += find_replicas(db, stack, project.name, engine_volume)
        for name in clients:
            client = deploys[name]
            diff = plan_for(ctx).diff(catalog.STACK_PLACEMENT_APART, pair_subject(db.service, name), partial=True)
            file_findings = list(find_apart_in_file(project, db, client, stack, diff))
            problems += file_findings
            if stack is not None and stack.manager:
                problems += find_apart_live(stack, db, client, pinned_in_file=not file_findings)
    yield from problems
    if not problems and clients:
        pairs = ", ".join(f"{d.name} + {c}" for d in databases for c in clients)
        nodes = f" on a swarm of {len(stack.nodes)} node(s)" if stack is not None and stack.nodes else ""
        yield Finding(catalog.STACK_PLACEMENT_OK, Status.OK, f"Bound to one node, one database replica{nodes}: {pairs}")
    elif not clients:
        yield skipped(ID, "no socket client in the Compose files")
