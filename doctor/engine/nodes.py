"""The engines of a swarm's other nodes. A stack's task containers live on the node that runs
them, and only that node's engine can exec into them or read their logs. The manager does not
know how to reach a node's engine, so the operator says so: ``--node-engine NODE=URL``
(repeatable; NODE is the node's hostname as ``docker node ls`` shows it). Each is connected
lazily, once, with the same timeout; a node that cannot be reached is reported, never fatal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from doctor.engine.endpoint import Endpoint
from doctor.engine.session import EngineSession, EngineUnreachable, connect
from doctor.engine.swarm import STACK_LABEL, SWARM_NODE_LABEL, Stack, current_containers, service_of


def parse_node_engine(text: str) -> tuple[str, str]:
    """``NODE=URL`` → (node, url); raises ValueError with the sentence for the usage error."""
    node, sep, url = text.partition("=")
    if not sep or not node.strip() or "://" not in url:
        raise ValueError(f"--node-engine wants NODE=URL (for example lab-n2=unix:///run/n2/docker.sock), not {text!r}")
    return node.strip(), url.strip()


@dataclass
class NodeEngines:
    urls: dict[str, str]
    timeout: float
    host_os: str
    sessions: dict[str, EngineSession] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def session(self, node: str) -> EngineSession | None:
        if node in self.sessions:
            return self.sessions[node]
        if node in self.errors or node not in self.urls:
            return None
        endpoint = Endpoint(self.urls[node], f"--node-engine {node}")
        try:
            self.sessions[node] = connect(endpoint, self.timeout, self.host_os)
        except EngineUnreachable as exc:
            self.errors[node] = f"{exc.explanation} ({exc.detail[:120]})"
            return None
        return self.sessions[node]

    def stack_containers(self, node: str, stack: str) -> list[Any]:
        """The stack's current task containers on ``node``, through that node's engine."""
        session = self.session(node)
        if session is None:
            return []
        return current_containers(session.labelled(f"{STACK_LABEL}={stack}"))

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


def containers_by_service(local: list[Any], remote: list[Any]) -> dict[str | None, Any]:
    """One container per service, this engine's first: the running one when there is one."""
    result: dict[str | None, Any] = {}
    for container in [*remote, *local]:
        running = (container.attrs.get("State") or {}).get("Status") == "running"
        key = service_of(container)
        if key not in result or running:
            result[key] = container
    return result


def stack_view(stack: Stack | None, nodes: NodeEngines | None, local_node: str, local: list[Any]) -> tuple[dict[str | None, Any], list[tuple[str, str, str]]]:  # fmt: skip
    """The stack's containers per service across every node this machine can reach, and for each
    task on a node it cannot reach, (service, node, why)."""
    if stack is None or not stack.manager:
        return containers_by_service(local, []), []
    remote: list[Any] = []
    blind: list[tuple[str, str, str]] = []
    for node_id in sorted({t.node_id for t in stack.tasks if t.desired == "running" and t.node_id != local_node}):
        name = stack.node_name(node_id)
        found = nodes.stack_containers(name, stack.name) if nodes is not None else []
        if found:
            remote.extend(found)
            continue
        why = (nodes.errors.get(name) if nodes is not None else None) or "its engine is not reachable from here (--node-engine NODE=URL)"  # fmt: skip
        blind.extend((t.service, name, why) for t in stack.tasks if t.node_id == node_id and t.desired == "running")
    return containers_by_service(local, remote), blind


def node_of(container: Any, stack: Stack | None) -> str | None:
    node_id = (container.labels or {}).get(SWARM_NODE_LABEL)
    if not node_id:
        return None
    return stack.node_name(str(node_id)) if stack is not None else str(node_id)[:12]


def stack_containers(engine: EngineSession, nodes: NodeEngines | None, stack: Stack | None, name: str) -> list[Any]:
    """Every current container of the stack on the nodes this machine reaches (this engine's first)."""
    local_node = str((engine.info.get("Swarm") or {}).get("NodeID", ""))
    by_service, _blind = stack_view(stack, nodes, local_node, engine.project_containers(name))
    return list(by_service.values())


def session_for(engine: EngineSession, nodes: NodeEngines | None, container: Any) -> EngineSession:
    """The session whose engine holds ``container`` (a node's, for a remote task container)."""
    api = getattr(container, "api", None)
    for session in nodes.sessions.values() if nodes is not None else []:
        if session.api is api:
            return session
    return engine


def ready_since(container: Any) -> int | None:
    """Epoch seconds from which a running database container is known to accept connections:
    the oldest passing health check on record (the engine keeps the last few), else its start.
    Swarm starts a stack's services together, so a client's failures before then are the start
    race (stack-depends-on-ignored), not the socket."""
    state = container.attrs.get("State") or {}
    if state.get("Status") != "running":
        return None
    health = state.get("Health") or {}
    passed = [str(e.get("Start", "")) for e in health.get("Log") or [] if e.get("ExitCode") == 0]
    stamp = min(passed) if passed and health.get("Status") == "healthy" else str(state.get("StartedAt", ""))
    if health and not passed:
        return None
    return _epoch(stamp)


def _epoch(stamp: str) -> int | None:
    from datetime import datetime

    try:
        whole = stamp.split(".", maxsplit=1)[0].rstrip("Z")
        return int(datetime.fromisoformat(whole + "+00:00").timestamp()) + 1
    except ValueError:
        return None


def stack_since(containers: list[Any], databases: set[str], since: int | None) -> dict[int, int | None]:
    """For each client container of a stack: read its log from when the database was ready."""
    ready = [r for c in containers if service_of(c) in databases for r in [ready_since(c)] if r is not None]
    if not ready:
        return {}
    start = max(ready) if since is None else max([*ready, since])
    return {id(c): start for c in containers if service_of(c) not in databases}


def stack_volumes(engine: EngineSession, nodes: NodeEngines | None, stack: Stack | None) -> list[dict[str, Any]]:
    """The volumes of this engine and of every node that runs a task of the stack and is reachable:
    a stack volume exists only on the nodes whose tasks mount it."""
    volumes = list(engine.volumes())
    if stack is None or nodes is None:
        return volumes
    local = str((engine.info.get("Swarm") or {}).get("NodeID", ""))
    for node_id in sorted({t.node_id for t in stack.tasks if t.desired == "running" and t.node_id != local}):
        session = nodes.session(stack.node_name(node_id))
        if session is not None:
            volumes.extend(session.volumes())
    return volumes
