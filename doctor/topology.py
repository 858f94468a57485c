"""Who puts a socket where, and who looks for it where: the socket-sharing picture of a project.

The server writes ``<dir>/.s.PGSQL.<port>`` for each of its socket directories; a client finds
it only if the directory libpq is given sits on the same storage (the same named volume, or the
same host folder) at the matching place. These functions compute that picture; checks judge it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from doctor.compose.model import ComposeProject, Mount, Service, canonical_dir
from doctor.postgres import client_targets, database_services, server_port, socket_dirs


@dataclass(frozen=True)
class SocketUse:
    service: Service
    role: str  # "server" or "client"
    directory: str
    port: int
    mount: Mount | None  # the mount holding ``directory``, if any
    variable: str | None = None  # the client's variable naming the directory


@dataclass(frozen=True)
class Sharing:
    """How one client's socket directory relates to the server's."""

    kind: str  # ok | not-mounted | volume-mismatch | url-mismatch | port-mismatch | server-dir-not-mounted
    client: SocketUse
    server: Service
    server_mount: Mount | None = None
    suggested_dir: str | None = None


def server_uses(project: ComposeProject) -> list[SocketUse]:
    uses = []
    for service in database_services(project):
        port = server_port(service, project.directory)
        for directory in socket_dirs(service, project.directory).dirs:
            uses.append(SocketUse(service, "server", directory, port, service.mount_covering(directory)))
    return uses


def client_uses(project: ComposeProject) -> list[SocketUse]:
    databases = {s.name for s in database_services(project)}
    uses = []
    for service in project.services.values():
        if service.name in databases:
            continue
        seen: set[tuple[str, int]] = set()
        for target in client_targets(service):
            for directory in target.dirs:
                key = (canonical_dir(directory), target.port)
                if key in seen:
                    continue
                seen.add(key)
                mount = service.mount_covering(directory)
                uses.append(SocketUse(service, "client", directory, target.port, mount, target.variable))
    return uses


def same_storage(a: Mount | None, b: Mount | None) -> bool:
    if a is None or b is None or a.source is None or b.source is None or "tmpfs" in (a.type, b.type):
        return False
    return a.type == b.type and a.source == b.source


def _translate(path: str, from_target: str, to_target: str) -> str:
    relative = posixpath.relpath(canonical_dir(path), canonical_dir(from_target))
    joined = to_target if relative == "." else posixpath.join(to_target, relative)
    return posixpath.normpath(joined)


def classify(client: SocketUse, server: Service, servers: list[SocketUse]) -> Sharing:
    own = [use for use in servers if use.service.name == server.name]
    server_dirs = {canonical_dir(use.directory) for use in own}
    mount = client.mount
    # A tmpfs (``tmpfs:`` or a long entry) is storage private to its container: a client with one
    # at its socket directory mounts something other than the database's volume, never nothing.
    if mount is None or (mount.source is None and mount.type != "tmpfs"):
        for candidate in client.service.mounts:
            for use in own:
                if same_storage(candidate, use.mount) and use.mount is not None:
                    suggested = _translate(use.directory, use.mount.target, candidate.target)
                    return Sharing("url-mismatch", client, server, use.mount, suggested)
        return Sharing("not-mounted", client, server)
    shared = [m for m in server.mounts if same_storage(m, mount)]
    if not shared:
        covering = next(
            (use.mount for use in own if use.mount is not None and (use.mount.source or use.mount.type == "tmpfs")),
            None,
        )
        kind = "volume-mismatch" if covering is not None else "server-dir-not-mounted"
        return Sharing(kind, client, server, covering)
    for server_mount in shared:
        if canonical_dir(_translate(client.directory, mount.target, server_mount.target)) in server_dirs:
            ports = {use.port for use in own}
            if client.port not in ports:
                return Sharing("port-mismatch", client, server, server_mount)
            return Sharing("ok", client, server, server_mount)
    for use in own:
        if use.mount is not None and same_storage(use.mount, mount):
            suggested = _translate(use.directory, use.mount.target, mount.target)
            return Sharing("url-mismatch", client, server, use.mount, suggested)
    return Sharing("server-dir-not-mounted", client, server, shared[0])


_PREFERENCE = ("ok", "port-mismatch", "url-mismatch", "server-dir-not-mounted", "volume-mismatch", "not-mounted")


def sharing(project: ComposeProject) -> list[Sharing]:
    """One verdict per client socket directory, against the server it best matches."""
    servers = server_uses(project)
    databases = list(dict.fromkeys(use.service.name for use in servers))
    verdicts = []
    for client in client_uses(project):
        options = [classify(client, project.services[name], servers) for name in databases]
        if options:
            verdicts.append(min(options, key=lambda s: _PREFERENCE.index(s.kind)))
    return verdicts


def socket_volume_name(project: ComposeProject, default: str = "db_socket") -> str:
    """The named volume for the socket: the one already at the server's socket directory, else db_socket."""
    for use in server_uses(project):
        if use.mount is not None and use.mount.type == "volume" and use.mount.source:
            return use.mount.source
    return default


def actual_mount(container: Any, directory: str) -> dict[str, Any] | None:
    """The mount of a running container (the engine's inspect answer) that holds ``directory``:
    the deepest one whose destination covers it, or None for the container's own filesystem."""
    wanted = canonical_dir(directory)
    best: dict[str, Any] | None = None
    for mount in container.attrs.get("Mounts") or []:
        target = canonical_dir(str(mount.get("Destination", "")))
        if (wanted == target or wanted.startswith(target.rstrip("/") + "/")) and (
            best is None or len(target) > len(canonical_dir(str(best.get("Destination", ""))))
        ):
            best = mount
    return best
