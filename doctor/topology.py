"""Who puts a socket where, and who looks for it where: the socket-sharing picture of a project.

The server writes ``<dir>/.s.PGSQL.<port>`` for each of its socket directories; a client finds
it only if the directory libpq is given sits on the same storage (the same named volume, or the
same host folder) at the matching place. These functions compute that picture; checks judge it.
"""

from __future__ import annotations

import enum
import posixpath
from dataclasses import dataclass
from typing import Any

from doctor import catalog
from doctor.compose.model import ComposeProject, Mount, MountType, Service, VolumeDecl, canonical_dir
from doctor.postgres import client_targets, database_services, server_port, socket_dirs


class Role(str, enum.Enum):
    """Which end of the socket a service is: the server creates it, a client connects to it."""

    SERVER = "server"
    CLIENT = "client"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class SocketUse:
    service: Service
    role: Role
    directory: str
    port: int
    mount: Mount | None  # the mount holding ``directory``, if any
    variable: str | None = None  # the client's variable naming the directory


class SharingKind(str, enum.Enum):
    """How a client's socket directory relates to the server's. A str-enum: it equals its value."""

    OK = "ok"
    NOT_MOUNTED = "not-mounted"
    VOLUME_MISMATCH = "volume-mismatch"
    URL_MISMATCH = "url-mismatch"
    PORT_MISMATCH = "port-mismatch"
    SERVER_DIR_NOT_MOUNTED = "server-dir-not-mounted"

    def __str__(self) -> str:
        return self.value


# The finding each kind of problem is reported as (socket-sharing), and its remedy tagged with.
SHARING_FINDINGS = {
    SharingKind.NOT_MOUNTED: catalog.BACKEND_SOCKET_NOT_MOUNTED,
    SharingKind.VOLUME_MISMATCH: catalog.SOCKET_VOLUME_MISMATCH,
    SharingKind.URL_MISMATCH: catalog.DATABASE_URL_SOCKET_MISMATCH,
    SharingKind.PORT_MISMATCH: catalog.DATABASE_URL_SOCKET_MISMATCH,
    SharingKind.SERVER_DIR_NOT_MOUNTED: catalog.SOCKET_DIR_NOT_MOUNTED,
}


@dataclass(frozen=True)
class Sharing:
    """How one client's socket directory relates to the server's."""

    kind: SharingKind
    client: SocketUse
    server: Service
    server_mount: Mount | None = None
    suggested_dir: str | None = None


def server_uses(project: ComposeProject) -> list[SocketUse]:
    uses = []
    for service in database_services(project):
        port = server_port(service, project.conf_files)
        for directory in socket_dirs(service, project.conf_files).dirs:
            uses.append(SocketUse(service, Role.SERVER, directory, port, service.mount_covering(directory)))
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
                uses.append(SocketUse(service, Role.CLIENT, directory, target.port, mount, target.variable))
    return uses


def same_storage(a: Mount | None, b: Mount | None) -> bool:
    if a is None or b is None or a.source is None or b.source is None or MountType.TMPFS in (a.type, b.type):
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
    if mount is None or (mount.source is None and mount.type != MountType.TMPFS):
        for candidate in client.service.mounts:
            for use in own:
                if same_storage(candidate, use.mount) and use.mount is not None:
                    suggested = _translate(use.directory, use.mount.target, candidate.target)
                    return Sharing(SharingKind.URL_MISMATCH, client, server, use.mount, suggested)
        return Sharing(SharingKind.NOT_MOUNTED, client, server)
    shared = [m for m in server.mounts if same_storage(m, mount)]
    if not shared:
        covering = next(
            (
                use.mount
                for use in own
                if use.mount is not None and (use.mount.source or use.mount.type == MountType.TMPFS)
            ),
            None,
        )
        kind = SharingKind.VOLUME_MISMATCH if covering is not None else SharingKind.SERVER_DIR_NOT_MOUNTED
        return Sharing(kind, client, server, covering)
    for server_mount in shared:
        if canonical_dir(_translate(client.directory, mount.target, server_mount.target)) in server_dirs:
            ports = {use.port for use in own}
            if client.port not in ports:
                return Sharing(SharingKind.PORT_MISMATCH, client, server, server_mount)
            return Sharing(SharingKind.OK, client, server, server_mount)
    for use in own:
        if use.mount is not None and same_storage(use.mount, mount):
            suggested = _translate(use.directory, use.mount.target, mount.target)
            return Sharing(SharingKind.URL_MISMATCH, client, server, use.mount, suggested)
    return Sharing(SharingKind.SERVER_DIR_NOT_MOUNTED, client, server, shared[0])


_PREFERENCE = (
    SharingKind.OK,
    SharingKind.PORT_MISMATCH,
    SharingKind.URL_MISMATCH,
    SharingKind.SERVER_DIR_NOT_MOUNTED,
    SharingKind.VOLUME_MISMATCH,
    SharingKind.NOT_MOUNTED,
)


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
        if use.mount is not None and use.mount.type == MountType.VOLUME and use.mount.source:
            return use.mount.source
    return default


@dataclass(frozen=True)
class HostPathSocket:
    host_path: str
    uses: tuple[tuple[SocketUse, Mount], ...]


def socket_mounts(project: ComposeProject) -> list[tuple[SocketUse, Mount]]:
    """Each distinct (service, mount) that holds a socket directory."""
    seen: set[tuple[str, int | None, str]] = set()
    result = []
    for use in [*server_uses(project), *client_uses(project)]:
        if use.mount is None:
            continue
        key = (use.service.name, use.mount.origin.line, use.mount.target)
        if key not in seen:
            seen.add(key)
            result.append((use, use.mount))
    return result


def find_host_path_sockets(project: ComposeProject) -> list[HostPathSocket]:
    """The host folders mounted at a socket directory, each with the mounts that use it."""
    groups: dict[str, list[tuple[SocketUse, Mount]]] = {}
    for use, mount in socket_mounts(project):
        if mount.type == MountType.BIND and mount.source:
            groups.setdefault(mount.source, []).append((use, mount))
    return [HostPathSocket(path, tuple(uses)) for path, uses in groups.items()]


def find_undeclared_socket_volumes(project: ComposeProject) -> dict[str, list[tuple[SocketUse, Mount]]]:
    missing: dict[str, list[tuple[SocketUse, Mount]]] = {}
    for use, mount in socket_mounts(project):
        if mount.type == MountType.VOLUME and mount.source and mount.source not in project.volumes:
            missing.setdefault(mount.source, []).append((use, mount))
    return missing


def find_bind_device_volumes(project: ComposeProject) -> list[VolumeDecl]:
    """The declared socket volumes whose driver_opts bind a host folder."""
    keys = {m.source for _, m in socket_mounts(project) if m.type == MountType.VOLUME and m.source}
    return [project.volumes[k] for k in sorted(keys) if k in project.volumes and project.volumes[k].binds_host_device]


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
