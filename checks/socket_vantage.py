"""Check: the socket seen from every vantage point — this machine (the volume's mount point), inside
each client container (exec), and a short-lived probe container from the database's own image —
combined into one verdict: "works everywhere" differs from "server up, socket not shared" and from
"server down"."""

from __future__ import annotations

import dataclasses
import enum
import os
import posixpath
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from checks._common import requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject, canonical_dir
from doctor.context import Context, host_os
from doctor.engine.nodes import node_of, stack_view
from doctor.engine.pool import WORKERS
from doctor.engine.session import PROBE_LABEL
from doctor.engine.swarm import service_of
from doctor.models import Evidence, Facts, Finding, Remedy, Status, VantageVerdict, skipped
from doctor.postgres import MAX_SOCKET_PATH
from doctor.probe import Outcome, ping_socket
from doctor.remedies import GUIDE
from doctor.topology import actual_mount, client_uses, server_uses

ID = catalog.SOCKET_VANTAGE
SUMMARY = "The socket answers from this machine, inside each client, and from a probe container"
_NOT_FOUND = ("executable file not found", "no such file or directory", "not found")


WORKS_EVERYWHERE = "The socket works everywhere: the server answers from every vantage point"


class Vantage(str, enum.Enum):
    HOST = "host"  # this machine, through the volume's mount point
    PROBE = "probe"  # a short-lived container (or Swarm task) from the database's image
    CLIENT = "client"  # inside a client's container (exec), or a probe task on its node


@dataclass(frozen=True)
class Sight:
    vantage: Vantage
    answered: bool | None  # True: the server answered; False: no socket/no answer; None: could not look
    detail: str
    service: str | None = None  # the client's service
    node: str | None = None  # the Swarm node it looked from, when known

    @property
    def who(self) -> str:
        """The client as the title names it: ``backend`` or ``backend@node-2``."""
        return f"{self.service or '?'}" + (f"@{self.node}" if self.node else "")

    @property
    def label(self) -> str:
        """As the evidence names the vantage point: ``host``, ``probe@node-1``, ``client:backend@node-2``."""
        if self.vantage is Vantage.CLIENT:
            return f"client:{self.who}"
        return f"{self.vantage.value}" + (f"@{self.node}" if self.node else "")

    def saw(self, answered: bool | None, detail: str) -> Sight:
        return dataclasses.replace(self, answered=answered, detail=detail)


def _pg_isready_answered(code: int) -> bool:
    # 0 accepting, 1 rejecting (starting up: still a live server); 2 no response; 3 no attempt.
    return code in (0, 1)


def from_host(ctx: Context, db_container: Any, directory: str, port: int) -> Sight:
    mount = actual_mount(db_container, directory)
    if mount is None or mount.get("Type") not in ("volume", "bind"):
        return Sight(Vantage.HOST, None, "the socket directory is not on a volume this machine could see")
    relative = posixpath.relpath(canonical_dir(directory), canonical_dir(str(mount.get("Destination"))))
    host_dir = os.path.normpath(os.path.join(str(mount.get("Source")), relative))
    if not os.path.isdir(host_dir):
        return Sight(Vantage.HOST, None, f"{host_dir} is not reachable from this machine (it lives in the engine's VM)")
    limit = MAX_SOCKET_PATH.get(host_os(), 107)
    # The SSLRequest ping, not a psycopg login: whether the server answers is the question here
    # (socket-probe logs in when asked to), and psycopg's import alone costs about 0.2 s.
    result = ping_socket(host_dir, port, timeout=ctx.options.timeout, limit=limit)
    answered = result.outcome is Outcome.ANSWERED
    text = "PostgreSQL answered (SSLRequest)" if answered else f"{result.outcome.value}: {result.message}"
    return Sight(Vantage.HOST, answered, f"{result.path}: {text}")


def from_client(ctx: Context, container: Any, directory: str, port: int) -> Sight:
    service = service_of(container) or container.name
    vantage = Sight(Vantage.CLIENT, None, "", service, node_of(container, ctx.stack) or None)
    if (container.attrs.get("State") or {}).get("Status") != "running":
        return vantage.saw(None, f"{container.name} is not running")
    seconds = str(max(1, int(ctx.options.timeout)))
    # pg_isready waits up to the timeout itself: the engine's answer may take a little longer.
    wait = ctx.options.timeout + 5
    code, output = container.exec_run(["pg_isready", "-h", directory, "-p", str(port), "-t", seconds], timeout=wait)
    text = (output or b"").decode(errors="replace").strip()
    if code in (126, 127) or (any(marker in text.lower() for marker in _NOT_FOUND) and code not in (0, 1, 2)):
        script = (
            "import socket,sys;s=socket.socket(socket.AF_UNIX);s.settimeout(float(sys.argv[2]));s.connect(sys.argv[1])"
        )
        path = f"{directory.rstrip('/')}/.s.PGSQL.{port}"
        code, output = container.exec_run(["python3", "-c", script, path, seconds], timeout=wait)
        text = (output or b"").decode(errors="replace").strip().splitlines()[-1:] or ["connected"]
        if code in (126, 127):
            return vantage.saw(None, "the container has neither pg_isready nor python3")
        return vantage.saw(code == 0, f"python3 connect to {path}: {'ok' if code == 0 else text[0]}")
    return vantage.saw(_pg_isready_answered(code), f"pg_isready: {text or f'exit {code}'}")


def from_probe(ctx: Context, db_container: Any, directory: str, port: int, project: str) -> Sight:
    mount = actual_mount(db_container, directory)
    if mount is None or mount.get("Type") not in ("volume", "bind"):
        return Sight(Vantage.PROBE, None, "the socket directory is private to the database container")
    source = mount.get("Name") if mount.get("Type") == "volume" else mount.get("Source")
    # The database's own engine: in a Swarm stack, the node that runs its task.
    api = getattr(db_container, "api", None) or (ctx.engine.api if ctx.engine is not None else None)
    if api is None:
        return Sight(Vantage.PROBE, None, "no engine")
    seconds = str(max(1, int(ctx.options.timeout)))
    probe = None
    try:
        created = api.post(
            "/containers/create",
            body={
                "Image": db_container.image_id,
                "Entrypoint": ["pg_isready"],
                "Cmd": ["-h", directory, "-p", str(port), "-t", seconds],
                "User": "postgres",
                "Labels": {PROBE_LABEL: project},
                "HostConfig": {"Binds": [f"{source}:{mount.get('Destination')}:ro"], "NetworkMode": "none"},
            },
        )
        probe = api.inspect(created["Id"])
        probe.start()
        code = int(probe.wait(timeout=ctx.options.timeout + 10).get("StatusCode", 2))
        sight = Sight(
            Vantage.PROBE,
            _pg_isready_answered(code),
            f"pg_isready in a probe container: {probe.logs().decode(errors='replace').strip() or f'exit {code}'}",
        )
    except Exception as exc:  # an image without pg_isready, or an engine error: say so, do not crash
        sight = Sight(Vantage.PROBE, None, f"the probe container could not run: {str(exc)[:200]}")
    if probe is not None:
        try:
            probe.remove()
        except Exception as exc:  # say so: a probe left behind must be visible, and is labelled
            note = (
                f"; the probe container {probe.name} could not be removed ({str(exc)[:100]}): docker rm -f {probe.name}"
            )
            sight = sight.saw(sight.answered, sight.detail + note)
    return sight


def same_view(container: Any, directory: str, port: int) -> tuple[str, ...]:
    """What decides what a client sees at its socket directory: the mount there (a volume by
    name, a bind by source), the directory and port it looks at, the user it runs as, and
    whether it runs. Clients alike in all of these see the same socket; one exec answers for them."""
    mount = actual_mount(container, directory)
    held = (
        "none"
        if mount is None
        else f"{mount.get('Type')}:{mount.get('Name') or mount.get('Source')}:{mount.get('Destination')}"
    )
    user = str((container.attrs.get("Config") or {}).get("User") or "")
    state = str((container.attrs.get("State") or {}).get("Status"))
    return (held, canonical_dir(directory), str(port), user, state)


def _look(ctx: Context, project: str, containers: dict[Any, Any], db_container: Any, server: Any) -> list[Sight]:
    """This machine and the client execs look at the same time; the probe container runs after,
    when this machine could not reach the socket itself (an engine in a VM, or no answer).
    Clients with the same view (same_view) are asked once: 30 replicas of one service need one
    exec, not 30, and each of the others is reported as seen through its twin."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        host_job = pool.submit(from_host, ctx, db_container, server.directory, server.port)
        groups: dict[tuple[str, ...], list[Any]] = {}
        if not ctx.options.read_only:
            for use in client_uses_of(ctx, containers):
                view = same_view(containers[use.service.name], use.directory, use.port)
                groups.setdefault(view, []).append(use)
        jobs = {
            view: pool.submit(from_client, ctx, containers[uses[0].service.name], uses[0].directory, uses[0].port)
            for view, uses in groups.items()
        }
        host = host_job.result()
        probe = _probe_if_needed(ctx, project, db_container, server, host)
        clients: list[Sight] = []
        for view, uses in groups.items():
            seen = jobs[view].result()
            clients.append(seen)
            twin = uses[0].service.name
            clients.extend(
                Sight(
                    Vantage.CLIENT,
                    seen.answered,
                    f"as {twin} (same mount, directory and user): {seen.detail}",
                    use.service.name,
                )
                for use in uses[1:]
            )
        return [host, probe, *clients]


def _probe_if_needed(ctx: Context, project: str, db_container: Any, server: Any, host: Sight) -> Sight:
    wanted = "never" if ctx.options.read_only else ctx.options.probe_container
    if wanted == "never":
        reason = "--read-only forbids exec and probe containers" if ctx.options.read_only else "--probe-container never"
        return Sight(Vantage.PROBE, None, f"not run: {reason}")
    if wanted == "auto" and host.answered:
        return Sight(Vantage.PROBE, None, "not needed: this machine reached the server's socket directly")
    if wanted == "auto" and (db_container.attrs.get("State") or {}).get("Status") != "running":
        return Sight(Vantage.PROBE, None, f"not needed: the database container {db_container.name} is not running")
    return from_probe(ctx, db_container, server.directory, server.port, project)


def client_uses_of(ctx: Context, containers: dict[Any, Any]) -> list[Any]:
    project = ctx.project
    return [use for use in client_uses(project) if use.service.name in containers] if project else []


def verdict(sights: list[Sight]) -> tuple[Status, VantageVerdict, str]:
    """The status, the verdict as a value, and the title that says it."""
    server_side = [s for s in sights if s.vantage is not Vantage.CLIENT and s.answered is not None]
    clients = [s for s in sights if s.vantage is Vantage.CLIENT and s.answered is not None]
    server_up = any(s.answered for s in server_side)
    if server_up and clients and all(s.answered for s in clients):
        return Status.OK, VantageVerdict.WORKS_EVERYWHERE, WORKS_EVERYWHERE
    if server_up and clients:
        blind = ", ".join(s.who for s in clients if not s.answered)
        return (
            Status.FAIL,
            VantageVerdict.NOT_SHARED,
            f"Server up, socket not shared with {blind}: the server answers, but not where the client looks",
        )
    if server_up:
        return Status.OK, VantageVerdict.SERVER_ONLY, "The server answers on its socket (no client could be asked)"
    if server_side or clients:
        return (
            Status.FAIL,
            VantageVerdict.SERVER_DOWN,
            "Server down: nothing answers on the socket from any vantage point",
        )
    return Status.SKIP, VantageVerdict.UNSEEN, "No vantage point could look at the socket"


def _from_probe_task(ctx: Context, project: ComposeProject, blind: tuple[str, str, str]) -> Sight:
    """A client task on a node whose engine is out of reach: a one-shot probe task there."""
    service, node, why = blind
    use = next((u for u in client_uses(project) if u.service.name == service), None)
    vantage = Sight(Vantage.CLIENT, None, "", service, node)
    if use is None:
        return vantage.saw(None, f"not looked: {why}")
    return _probe_sight(ctx, project, vantage, (service, node, why), (use.directory, use.port))


def _probe_sight(
    ctx: Context, project: ComposeProject, vantage: Sight, where: tuple[str, str, str], socket: tuple[str, int]
) -> Sight:
    """What a probe task on ``node`` sees at ``directory``, through the volume ``service`` mounts there."""
    service, node, why = where
    directory, port = socket
    stack = ctx.stack
    if ctx.options.read_only or ctx.options.probe_container == "never" or stack is None or ctx.engine is None:
        return vantage.saw(None, f"not looked: {why}")
    spec = stack.services.get(service)
    node_id = next((n.id for n in stack.nodes.values() if n.hostname == node), None)
    db_name = next((u.service.name for u in server_uses(project)), "")
    image = stack.services[db_name].image if db_name in stack.services else ""
    if spec is None or node_id is None or not image:
        return vantage.saw(None, f"not looked: {why}")
    wanted = canonical_dir(directory) + "/"
    mounts = [m for m in spec.mounts if m[0] == "volume" and wanted.startswith(canonical_dir(m[2]).rstrip("/") + "/")]
    if not mounts:
        return vantage.saw(None, f"{service} mounts no volume at {directory}: nothing to share the socket")
    _kind, volume, target = max(mounts, key=lambda m: len(m[2]))
    from doctor.engine.probe_task import run_probe_task  # Swarm only

    result = run_probe_task(ctx.engine.api, stack=stack.name, node_id=node_id, node_name=node, image=image, volume=volume, target=target, directory=directory, port=port, timeout=ctx.options.timeout)  # fmt: skip
    return vantage.saw(result.answered, f"{result.detail} ({why})")


def _remote_database(ctx: Context, project: ComposeProject, blind: list[tuple[str, str, str]], containers: dict[Any, Any]) -> tuple[list[Sight], str | None]:  # fmt: skip
    """The database's task runs on a node out of reach: probe tasks on its node and each client's."""
    server = next(iter(server_uses(project)), None)
    entry = next((b for b in blind if server is not None and b[0] == server.service.name), None)
    if server is None or entry is None:
        return [], None
    probe = Sight(Vantage.PROBE, None, "", node=entry[1])
    sights = [_probe_sight(ctx, project, probe, entry, (server.directory, server.port))]
    if not ctx.options.read_only:
        sights += [from_client(ctx, containers[u.service.name], u.directory, u.port) for u in client_uses_of(ctx, containers)]  # fmt: skip
    sights += [_from_probe_task(ctx, project, b) for b in blind if b is not entry]
    return sights, entry[1]


def stack_title(title: str, seen: VantageVerdict, db_node: str | None, sights: list[Sight]) -> str:
    """The verdict with the nodes named: "server up on node A; backend on node B sees no socket"."""
    blind = [s for s in sights if s.vantage is Vantage.CLIENT and s.answered is False]
    if seen is not VantageVerdict.NOT_SHARED or not blind:
        return title
    where = [f"{s.service} on node {s.node}" if s.node else s.who for s in blind]
    return f"Server up on node {db_node or '?'}; {', '.join(where)} sees an empty socket volume (no socket)"


@requires_project(ID, engine=True)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    engine = ctx.engine
    assert engine is not None  # requires_project(engine=True) has checked
    servers = server_uses(project)
    local_node = str((engine.info.get("Swarm") or {}).get("NodeID", ""))
    containers, blind = stack_view(ctx.stack, ctx.nodes, local_node, engine.project_containers(project.name))
    server = next((use for use in servers if use.service.name in containers), None)
    if server is None:
        sights, db_node = _remote_database(ctx, project, blind, containers)
        if not sights:
            yield skipped(ID, "no running deployment of the database to look at")
            return
    else:
        db_container = containers[server.service.name]
        db_node = node_of(db_container, ctx.stack)
        sights = _look(ctx, project.name, containers, db_container, server)
        sights += [_from_probe_task(ctx, project, entry) for entry in blind]
    yield vantage_finding(sights, stack=ctx.stack is not None, db_node=db_node)


def vantage_finding(sights: list[Sight], *, stack: bool = False, db_node: str | None = None) -> Finding:
    """The one socket-vantage finding over what every vantage point saw; the remedy follows the
    verdict's value, never its wording."""
    status, seen, title = verdict(sights)
    not_shared = seen is VantageVerdict.NOT_SHARED
    if stack and status is Status.FAIL:
        title = stack_title(title, seen, db_node, sights)
    evidence = tuple(
        Evidence(
            s.label,
            ("answered — " if s.answered else "no answer — " if s.answered is False else "not looked — ") + s.detail,
        )
        for s in sights
    )
    remedy = None
    if status is Status.FAIL:
        remedy = Remedy(
            f"Mount the database's socket volume in every client at the directory in its DATABASE_URL ({GUIDE})."
            if not_shared and not stack
            else "Run the database and its socket clients on one node: the same placement constraint on both "
            "(stack-placement), then `docker stack deploy` again."
            if not_shared
            else "Start the database and read its log (container-logs): the socket appears only once the server runs."
        )
    unseen = tuple(
        dict.fromkeys(s.service or "?" for s in sights if s.vantage is Vantage.CLIENT and s.answered is False)
    )
    facts = Facts(vantage=seen, services=unseen if not_shared else (), node=db_node or None)
    return Finding(ID, status, title, "What each vantage point saw is in the evidence.", evidence, remedy, facts=facts)
