"""Placement, the sharing rule of a Swarm stack. A named volume is local to the node that runs the
task, so the database and a socket client share the socket only when Swarm can place them on no
node but the same one. Pure functions: the check feeds them the files' ``deploy:`` keys, and the
services, tasks and nodes the engine reported."""

from __future__ import annotations

from dataclasses import dataclass

from doctor import catalog
from doctor.compose.deploy import Constraint, Deploy
from doctor.compose.model import ComposeProject
from doctor.engine.swarm import Node, Stack
from doctor.models import Evidence, Facts, Finding, Remedy, Status
from doctor.postgres import database_services
from doctor.topology import client_uses

SOCKET_LABEL = "db_socket"  # the node label suggested when nothing names a node yet


@dataclass(frozen=True)
class Together:
    """Whether two services are bound to one node, and why."""

    together: bool
    reason: str
    shared: Constraint | None = None
    eligible: tuple[str, ...] = ()  # hostnames of nodes both may run on (when the nodes are known)


def _pins(deploy: Deploy) -> list[Constraint]:
    return [c for c in deploy.constraints if c.pins and (c.key in ("node.hostname", "node.id") or c.key.startswith("node.labels."))]  # fmt: skip


def eligible_nodes(deploy: Deploy, nodes: list[Node]) -> list[Node]:
    """The nodes whose attributes satisfy every constraint Swarm can judge; drained nodes excluded."""
    result = []
    for node in nodes:
        if node.availability not in ("", "active"):
            continue
        ok = True
        for c in deploy.constraints:
            judged = c.key in ("node.hostname", "node.id", "node.role") or c.key.startswith("node.labels.")
            if judged and node.matches(c.key, c.value) != (c.op == "=="):
                ok = False
        if ok:
            result.append(node)
    return result


def together(db: Deploy, client: Deploy, nodes: list[Node] | None) -> Together:
    """Can Swarm place ``db`` and ``client`` only on the same node?

    Without the nodes (offline), an equal ``node.hostname``/``node.id`` pin is enough, and an equal
    node-label pin is taken on trust (one node must carry the label). With the nodes, the sets of
    nodes each may run on must be the same single node."""
    shared = next((c for c in _pins(db) for d in _pins(client) if (c.key, c.value) == (d.key, d.value)), None)
    if nodes is None:
        if shared is None:
            return Together(False, "no placement constraint pins both to the same node")
        if shared.key.startswith("node.labels."):
            return Together(
                True, f"both are pinned by {shared.written} (together if exactly one node carries it)", shared
            )
        return Together(True, f"both are pinned by {shared.written}", shared)
    db_nodes = {n.hostname for n in eligible_nodes(db, nodes)}
    client_nodes = {n.hostname for n in eligible_nodes(client, nodes)}
    union = tuple(sorted(db_nodes | client_nodes))
    if len(db_nodes) == 1 and db_nodes == client_nodes:
        why = f"both are pinned by {shared.written}" if shared else "the constraints leave both only the node"
        return Together(True, f"{why} ({union[0]})", shared, union)
    if not db_nodes or not client_nodes:
        empty = "the database" if not db_nodes else "the client"
        return Together(False, f"no node satisfies the constraints of {empty}", shared, union)
    if shared is not None and shared.key.startswith("node.labels."):
        carriers = sorted(n.hostname for n in nodes if n.matches(shared.key, shared.value))
        return Together(False, f"{shared.written} is carried by {len(carriers)} nodes ({', '.join(carriers)})", shared, union)  # fmt: skip
    return Together(False, f"the database may run on {_list(db_nodes)}, the client on {_list(client_nodes)}", shared, union)  # fmt: skip


def _list(names: set[str]) -> str:
    return ", ".join(sorted(names))


def suggested_constraint(db: Deploy, stack: Stack | None, db_service: str) -> tuple[str, tuple[str, ...]]:
    """The constraint to add to both, and the commands it needs: the database's own pin when it
    has one, else the node its task runs on, else a node label to put on the chosen node."""
    pins = [c for c in _pins(db) if not c.key.startswith("node.labels.")] or _pins(db)
    if pins:
        return pins[0].written, ()
    if stack is not None:
        running = stack.running(db_service)
        if running:
            return f"node.hostname == {stack.node_name(running[0].node_id)}", ()
    return (
        f"node.labels.{SOCKET_LABEL} == true",
        (f"docker node update --label-add {SOCKET_LABEL}=true <the database's node>",),
    )


def file_verdict(db: Deploy, client: Deploy, stack: Stack | None) -> tuple[Together, bool]:
    """Whether the file binds the two to one node, and whether the swarm has a single node. On a
    one-node swarm every task meets on that node; the file is judged by itself then, so a second
    node joining does not silently break the socket."""
    nodes = list(stack.nodes.values()) if stack is not None and stack.manager else None
    single = nodes is not None and len([n for n in nodes if n.availability in ("", "active")]) == 1
    return together(db, client, None if single else nodes), single


def stack_start_order(project: ComposeProject, deploys: dict[str, Deploy]) -> list[Finding]:
    """For a stack: ``depends_on`` is ignored by Swarm (info); the client must instead keep
    restarting until the database is up, which a ``restart_policy`` of ``none`` prevents (warn)."""
    findings = []
    databases = [d.name for d in database_services(project)]
    for name in dict.fromkeys(use.service.name for use in client_uses(project)):
        service = project.services[name]
        deploy = deploys.get(name, Deploy(name))
        waits = [d for d in databases if d in service.depends_on]
        stops = deploy.restart_condition == "none"
        if not waits and not stops:
            continue
        said = f"depends_on {', '.join(waits)}" if waits else "no depends_on"
        findings.append(
            Finding(
                catalog.STACK_DEPENDS_ON_IGNORED,
                Status.WARN if stops else Status.INFO,
                f"{name}: Swarm ignores depends_on in a stack "
                f"({said}; restart_policy: {deploy.restart_condition or 'any (default)'})",
                "docker stack deploy starts every service at once. Until the database has created its socket the "
                "client gets 'No such file or directory'; it recovers only by restarting"
                + (", and restart_policy condition none stops it for good." if stops else "."),
                (Evidence(str(deploy.origin or service.origin), f"{name}: {said}"),),
                Remedy(
                    "Give the database a healthcheck (pg_isready -h <socket dir>) and let the client restart until it "
                    "connects (deploy: restart_policy: condition: any, the default), or retry in the client."
                ),
                facts=Facts(service=name),
            )
        )
    return findings
