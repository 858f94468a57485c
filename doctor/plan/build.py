"""The one planner: the whole project turned into the edits of the guide's strategy, each tagged
with the findings it remedies. Planned once per run (``plan_for`` keeps it on the context):
every check's diff is its slice, and ``--fix`` applies it all.

The socket directory becomes one named volume (``db_socket``, or the named volume already at the
server's socket directory), mounted by the database and every client where each one uses it;
on macOS a data directory on a host folder moves to the named volume ``db_data``; in a Swarm
stack, a database and a socket client the file lets run on different nodes get one placement
constraint each (shown, never applied by ``--fix``: see ``Part.PLACEMENT``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from doctor import catalog
from doctor.compose.deploy import read_deploy
from doctor.compose.model import ComposeProject, Mount, MountType, Service
from doctor.context import Context
from doctor.models import TargetOS
from doctor.placement import file_verdict, suggested_constraint
from doctor.plan.edits import (
    AddConstraint,
    AddMount,
    DeclareVolume,
    Edit,
    Part,
    Plan,
    PlannedEdit,
    RemoveDriverOpts,
    SetClientDirectory,
    SetMountSource,
    Tag,
)
from doctor.postgres import data_dir, database_services
from doctor.remedies import data_move_commands
from doctor.topology import (
    SHARING_FINDINGS,
    Sharing,
    SharingKind,
    SocketUse,
    client_uses,
    find_host_path_sockets,
    server_uses,
    sharing,
    socket_volume_name,
)

SOCKET_VOLUME = "db_socket"
DATA_VOLUME = "db_data"
HOST_PATH = catalog.SOCKET_HOST_PATH
UNDECLARED = catalog.SOCKET_VOLUME_UNDECLARED
BIND_DEVICE = catalog.SOCKET_VOLUME_BIND_DEVICE
DATA = catalog.DATA_VOLUME_STRATEGY
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def client_subject(use: SocketUse) -> str:
    """What tells one client's sharing findings apart: the service, directory and port."""
    return f"{use.service.name}:{use.directory}:{use.port}"


def pair_subject(database: str, client: str) -> str:
    """What tells one database and client pair's placement findings apart."""
    return f"{database}+{client}"


def plan_for(ctx: Context) -> Plan:
    """The project's plan, made on first use and kept on the context for every later check."""
    plan = ctx.plan
    if plan is None:
        plan = ctx.plan = build_plan(ctx)
    return plan


def build_plan(ctx: Context) -> Plan:
    project = ctx.project
    if project is None or not project.texts:
        return Plan(None)
    builder = _Builder(ctx, project)
    builder.socket()
    if ctx.target_os is TargetOS.MACOS:
        builder.data()
    if ctx.is_stack:
        builder.placement()
    return Plan(project, tuple(builder.edits))


@dataclass
class _Builder:
    ctx: Context
    project: ComposeProject
    edits: list[PlannedEdit] = field(default_factory=list)
    # One record of the entries edited by both parts, so no entry is edited twice.
    by_entry: dict[tuple[str, int | None, str], PlannedEdit] = field(default_factory=dict)

    def add(self, key: tuple[str, int | None, str] | None, edit: Edit, part: Part, *tags: Tag) -> PlannedEdit:
        if key is not None and key in self.by_entry:
            planned = self.by_entry[key]
        else:
            planned = PlannedEdit(edit, part)
            self.edits.append(planned)
            if key is not None:
                self.by_entry[key] = planned
        planned.tag(*tags)
        return planned

    def point(self, mount: Mount, service: Service, name: str, part: Part, *tags: Tag) -> PlannedEdit:
        key = (mount.origin.file, mount.origin.line, mount.target)
        fresh = key not in self.by_entry
        planned = self.add(key, SetMountSource(service.name, mount, name), part, *tags, *self._volume_tags(mount))
        if fresh:
            planned.notes.extend(self._interpolation_notes(mount, name))
        return planned

    def _volume_tags(self, mount: Mount) -> list[Tag]:
        """Moving a mount off another volume also remedies what is wrong with that volume."""
        if mount.type != MountType.VOLUME or not mount.source:
            return []
        declared = self.project.volumes.get(mount.source)
        if declared is None:
            return [Tag(UNDECLARED, mount.source)]
        return [Tag(BIND_DEVICE, mount.source)] if declared.binds_host_device else []

    def socket(self) -> None:
        project = self.project
        volume = socket_volume_name(project, SOCKET_VOLUME)
        servers, clients = server_uses(project), client_uses(project)
        verdicts = {client_subject(v.client): v for v in sharing(project)}
        folders = {group.host_path: Tag(HOST_PATH, group.host_path) for group in find_host_path_sockets(project)}
        declared_by: list[Tag] = [*folders.values(), Tag(UNDECLARED, volume)]
        for use in servers:
            # The verdicts this server's use answers: a client that looks where it writes nothing.
            about = [_tag(v) for v in verdicts.values() if v.server.name == use.service.name and _server_side(v, use)]
            if use.mount is None:
                self._add_mount(use.service, f"{volume}:{use.directory}", *about)
            elif not (use.mount.type == MountType.VOLUME and use.mount.source == volume):
                self.point(use.mount, use.service, volume, Part.SOCKET, *about, *self._folder(folders, use.mount))
        for use in clients:
            verdict = verdicts.get(client_subject(use))
            # A wrong port is the client's to correct: no edit of the plan answers it.
            answered = verdict is not None and verdict.kind not in (SharingKind.OK, SharingKind.PORT_MISMATCH)
            about = [_tag(verdict)] if verdict is not None and answered else []
            moved = self._client_directory(use, verdict, volume, about)
            if use.mount is None:
                if not moved:
                    self._add_mount(use.service, f"{volume}:{use.directory}", *about)
                    declared_by.extend(about)
            elif not (use.mount.type == MountType.VOLUME and use.mount.source == volume):
                self.point(use.mount, use.service, volume, Part.SOCKET, *about, *self._folder(folders, use.mount))
        # Every service on a socket host folder moves with the others (an ODBC or JDBC client, a
        # sidecar, a script the doctor does not read as a libpq client): left on the folder, it
        # would lose the socket the moment the others move to the volume.
        for service in project.services.values():
            for mount in service.mounts:
                if mount.type == MountType.BIND and mount.source in folders:
                    self.point(mount, service, volume, Part.SOCKET, folders[mount.source])
        if servers or clients:
            self._declare_socket(volume, declared_by)

    def _folder(self, folders: dict[str, Tag], mount: Mount) -> list[Tag]:
        return [folders[mount.source]] if mount.type == MountType.BIND and mount.source in folders else []

    def _client_directory(self, use: SocketUse, verdict: Sharing | None, volume: str, about: list[Tag]) -> bool:
        """Align a client's variable with where it already mounts the socket volume, instead of
        mounting the volume a second time; True when that is the plan for this use."""
        entry = use.service.environment.get(use.variable or "")
        if entry is None or entry.origin.line is None:
            return False
        target: str | None = None
        if verdict is not None and verdict.kind == SharingKind.URL_MISMATCH:
            target = verdict.suggested_dir
        elif use.mount is None:
            elsewhere = next((m for m in use.service.mounts if m.type == MountType.VOLUME and m.source == volume), None)
            target = elsewhere.target if elsewhere is not None else None
        if not target or use.directory not in self._line(entry.origin.file, entry.origin.line):
            return False
        edit = SetClientDirectory(use.service.name, use.variable or "", entry.origin, use.directory, target)
        planned = self.add(None, edit, Part.SOCKET, *about)
        where = f"{use.service.name} mounts {volume}"
        planned.notes.append(f"{entry.origin}: {use.variable} now names {target}, where {where}")
        return True

    def _line(self, file: str, line: int) -> str:
        lines = self.project.texts.get(file, "").splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def _add_mount(self, service: Service, entry: str, *tags: Tag) -> None:
        self.add((service.origin.file, None, f"{service.name}:{entry}"), AddMount(service, entry), Part.SOCKET, *tags)

    def _declare_socket(self, volume: str, tags: list[Tag]) -> None:
        declared = self.project.volumes.get(volume)
        if declared is None:
            first_file = next(iter(self.project.texts))
            self.add(None, DeclareVolume(first_file, volume), Part.SOCKET, *tags)
        elif declared.binds_host_device and declared.origin.line is not None:
            planned = self.add(None, RemoveDriverOpts(declared), Part.SOCKET, Tag(BIND_DEVICE, volume))
            planned.notes.append(
                f"{declared.origin}: removed driver_opts from {volume}; the existing engine volume keeps them "
                f"until removed: compose down, then volume rm {declared.engine_name}"
            )

    def data(self) -> None:
        project = self.project
        first_file = next(iter(project.texts))
        for database in database_services(project):
            mount = database.mount_covering(data_dir(database))
            if mount is None or mount.type != MountType.BIND or not mount.source:
                continue
            tag = Tag(DATA, database.name)
            planned = self.point(mount, database, DATA_VOLUME, Part.DATA, tag)
            where = mount.origin.file if mount.origin.file in project.texts else first_file
            if DATA_VOLUME not in project.volumes:
                self.add(None, DeclareVolume(where, DATA_VOLUME), Part.DATA, tag)
            engine_name = project.engine_volume_name(DATA_VOLUME)
            planned.commands.extend(
                data_move_commands(
                    self.ctx.runtime, mount.source, engine_name, project.name, tool=self.ctx.compose_command
                )
            )
            planned.always.append(
                f"The data of {database.name} stays in {mount.source}: the doctor never moves data. Run the "
                "commands below in this order before starting the database on the new volume."
            )

    def placement(self) -> None:
        """One constraint for each database and socket client the file does not bind to one node."""
        project, stack = self.project, self.ctx.stack
        deploys = read_deploy(project, dict(self.ctx.environ))
        clients = list(dict.fromkeys(use.service.name for use in client_uses(project)))
        for database in database_services(project):
            db = deploys[database.name]
            for name in clients:
                client = deploys[name]
                if file_verdict(db, client, stack)[0].together:
                    continue
                constraint, _ = suggested_constraint(db, stack, db.service)
                tag = Tag(catalog.STACK_PLACEMENT_APART, pair_subject(db.service, client.service))
                for deploy in (db, client):
                    key = (deploy.service_file or "", None, f"constraint:{deploy.service}:{constraint}")
                    self.add(key, AddConstraint(deploy, constraint), Part.PLACEMENT, tag)

    def _interpolation_notes(self, mount: Mount, volume: str) -> list[str]:
        names = _VARIABLE.findall(mount.written)
        if not names:
            return []
        ctx = self.ctx
        dotenv = self.project.dotenv
        notes = []
        for name in names:
            if name in ctx.environ:
                origin = "the shell environment"
            elif name in dotenv:
                origin = ctx.options.env_file or ".env"
            else:
                origin = "its default in the file"
            notes.append(
                f"{mount.origin}: the source came from ${{{name}}} ({origin}, resolved to {mount.resolved}); the "
                f"entry now names the volume {volume}, so {name} no longer decides the socket directory. "
                f"Remove {name} from {origin} if nothing else uses it."
            )
        return notes


def _tag(verdict: Sharing) -> Tag:
    return Tag(SHARING_FINDINGS[verdict.kind], client_subject(verdict.client))


def _server_side(verdict: Sharing, use: SocketUse) -> bool:
    """Whether changing this server use's mount answers the verdict: the server writes nowhere
    the client can see, or keeps its socket on storage other than the volume."""
    if verdict.kind == SharingKind.SERVER_DIR_NOT_MOUNTED:
        return use.mount is None
    if verdict.kind == SharingKind.VOLUME_MISMATCH:
        return use.mount is not None and use.mount is verdict.server_mount
    return False
