"""A Docker Swarm stack as the engine shows it: its services, their tasks and the nodes they run
on, read through the Engine API's Swarm endpoints (``/services``, ``/tasks``, ``/nodes``). Only
reads; every call goes through the session's client, so it has the session's timeout.

A stack is recognised by the label ``com.docker.stack.namespace`` that ``docker stack deploy``
puts on services, tasks, containers, volumes and networks. Only a manager answers the Swarm
API; on a worker the stack is seen through its containers alone (``manager`` is False)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from doctor.engine.session import EngineSession

STACK_LABEL = "com.docker.stack.namespace"
SWARM_SERVICE_LABEL = "com.docker.swarm.service.name"
SWARM_NODE_LABEL = "com.docker.swarm.node.id"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True)
class Node:
    id: str
    hostname: str
    role: str
    state: str
    availability: str
    labels: dict[str, str] = field(default_factory=dict)
    addr: str = ""

    def matches(self, key: str, value: str) -> bool:
        """Does this node satisfy ``key == value`` (Swarm's constraint attributes)?"""
        if key == "node.hostname":
            return self.hostname == value
        if key == "node.id":
            return self.id == value
        if key == "node.role":
            return self.role == value
        if key.startswith("node.labels."):
            return self.labels.get(key[len("node.labels.") :]) == value
        return False  # engine.labels and platform: not judged here


@dataclass(frozen=True)
class Task:
    id: str
    service: str  # the stack's service key (``database``), without the stack prefix
    slot: int | None
    node_id: str
    state: str  # Status.State: running, failed, rejected, shutdown, ...
    desired: str  # DesiredState
    message: str
    error: str
    container_id: str
    exit_code: int | None
    timestamp: str


@dataclass(frozen=True)
class StackService:
    id: str
    key: str  # without the stack prefix
    name: str  # ``<stack>_<key>``
    mode: str  # replicated | global
    replicas: int | None
    constraints: tuple[str, ...]
    preferences: tuple[str, ...]
    restart_condition: str | None
    mounts: tuple[tuple[str, str, str], ...]  # (type, source, target)
    image: str = ""  # the image reference, without the digest Swarm may pin


@dataclass
class Stack:
    name: str
    manager: bool
    services: dict[str, StackService] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    nodes: dict[str, Node] = field(default_factory=dict)
    error: str = ""  # why part of the picture is missing (a worker, an API error)

    def node_name(self, node_id: str) -> str:
        node = self.nodes.get(node_id)
        return node.hostname if node else node_id[:12]

    def running(self, service: str) -> list[Task]:
        return [t for t in self.tasks if t.service == service and t.state == "running"]

    def current(self, service: str) -> list[Task]:
        """The tasks Swarm wants running (desired state running), in whatever state they reached."""
        return [t for t in self.tasks if t.service == service and t.desired == "running"]


def service_key(stack: str, full_name: str) -> str:
    prefix = f"{stack}_"
    return full_name[len(prefix) :] if full_name.startswith(prefix) else full_name


def service_of(container: Any) -> str | None:
    """The Compose service of a container, whether Compose or ``docker stack deploy`` made it."""
    labels = container.labels or {}
    if COMPOSE_SERVICE_LABEL in labels:
        return str(labels[COMPOSE_SERVICE_LABEL])
    stack = labels.get(STACK_LABEL)
    full = labels.get(SWARM_SERVICE_LABEL)
    if stack and full:
        return service_key(str(stack), str(full))
    return None


def current_containers(containers: list[Any]) -> list[Any]:
    """Per service, the running task containers, else the newest one: Swarm keeps the containers
    of earlier tasks (its task history), which say nothing about the deployment now."""
    by_service: dict[str | None, list[Any]] = {}
    for container in containers:
        by_service.setdefault(service_of(container), []).append(container)
    result = []
    for group in by_service.values():
        running = [c for c in group if (c.attrs.get("State") or {}).get("Status") == "running"]
        newest = sorted(group, key=lambda c: str(c.attrs.get("Created", "")))[-1:]
        result.extend(running or newest)
    return result


def swarm_active(info: dict[str, Any]) -> tuple[bool, bool]:
    """(this engine is in a swarm, it is a manager) from /info."""
    swarm = info.get("Swarm") or {}
    return swarm.get("LocalNodeState") == "active", bool(swarm.get("ControlAvailable"))


def _node(attrs: dict[str, Any]) -> Node:
    spec = attrs.get("Spec") or {}
    desc = attrs.get("Description") or {}
    status = attrs.get("Status") or {}
    return Node(
        id=str(attrs.get("ID", "")),
        hostname=str(desc.get("Hostname", "")),
        role=str(spec.get("Role", "")),
        state=str(status.get("State", "")),
        availability=str(spec.get("Availability", "")),
        labels={str(k): str(v) for k, v in (spec.get("Labels") or {}).items()},
        addr=str(status.get("Addr", "")),
    )


def _service(stack: str, attrs: dict[str, Any]) -> StackService:
    spec = attrs.get("Spec") or {}
    template = spec.get("TaskTemplate") or {}
    placement = template.get("Placement") or {}
    mode = spec.get("Mode") or {}
    container = template.get("ContainerSpec") or {}
    restart = template.get("RestartPolicy") or {}
    preferences = tuple(
        f"spread={(p.get('Spread') or {}).get('SpreadDescriptor', '')}" for p in placement.get("Preferences") or []
    )
    name = str(spec.get("Name", ""))
    return StackService(
        id=str(attrs.get("ID", "")),
        key=service_key(stack, name),
        name=name,
        mode="global" if "Global" in mode else "replicated",
        replicas=(mode.get("Replicated") or {}).get("Replicas"),
        constraints=tuple(str(c) for c in placement.get("Constraints") or []),
        preferences=preferences,
        restart_condition=restart.get("Condition"),
        mounts=tuple(
            (str(m.get("Type", "")), str(m.get("Source", "")), str(m.get("Target", "")))
            for m in container.get("Mounts") or []
        ),
        image=str(container.get("Image", "")).split("@")[0],
    )


def _task(stack: str, attrs: dict[str, Any], names: dict[str, str]) -> Task:
    status = attrs.get("Status") or {}
    container = status.get("ContainerStatus") or {}
    return Task(
        id=str(attrs.get("ID", "")),
        service=names.get(str(attrs.get("ServiceID", "")), ""),
        slot=attrs.get("Slot"),
        node_id=str(attrs.get("NodeID", "")),
        state=str(status.get("State", "")),
        desired=str(attrs.get("DesiredState", "")),
        message=str(status.get("Message", "")),
        error=str(status.get("Err", "")),
        container_id=str(container.get("ContainerID", "")),
        exit_code=container.get("ExitCode"),
        timestamp=str(status.get("Timestamp", "")),
    )


def read_stack(session: EngineSession, name: str) -> Stack | None:
    """The stack ``name`` on this swarm, or None when the engine holds no such stack. Raises only
    what the engine client raises for an unreachable engine; a Swarm API refusal becomes ``error``."""
    active, manager = swarm_active(session.info)
    if not active:
        return None
    if not manager:
        if not session.labelled(f"{STACK_LABEL}={name}"):
            return None
        return Stack(name, False, error="this engine is a Swarm worker: only a manager lists services, tasks and nodes")
    api = session.api
    services = api.listed("/services", {"label": [f"{STACK_LABEL}={name}"]})
    services = [s for s in services if ((s.get("Spec") or {}).get("Labels") or {}).get(STACK_LABEL) == name]
    if not services:
        return None
    stack = Stack(name, True)
    for attrs in services:
        service = _service(name, attrs)
        stack.services[service.key] = service
    names = {s.id: s.key for s in stack.services.values()}
    for service in stack.services.values():
        for attrs in api.listed("/tasks", {"service": [service.id]}):
            stack.tasks.append(_task(name, attrs, names))
    for attrs in api.listed("/nodes"):
        node = _node(attrs)
        stack.nodes[node.id] = node
    return stack


def stack_document(stack: Stack) -> dict[str, Any]:
    """The stack for a support bundle: nodes, services' placement and each task's node."""
    return {
        "stack": stack.name,
        "manager": stack.manager,
        "note": stack.error or None,
        "nodes": [
            {
                "id": n.id,
                "hostname": n.hostname,
                "role": n.role,
                "state": n.state,
                "availability": n.availability,
                "address": n.addr,
                "labels": n.labels,
            }
            for n in stack.nodes.values()
        ],
        "services": [
            {
                "service": s.key,
                "name": s.name,
                "mode": s.mode,
                "replicas": s.replicas,
                "constraints": list(s.constraints),
                "preferences": list(s.preferences),
                "restart_condition": s.restart_condition,
            }
            for s in stack.services.values()
        ],
        "tasks": [
            {
                "id": t.id,
                "service": t.service,
                "slot": t.slot,
                "node": stack.node_name(t.node_id),
                "state": t.state,
                "desired": t.desired,
                "error": t.error,
                "message": t.message,
                "at": t.timestamp,
            }
            for t in stack.tasks
        ],
    }
