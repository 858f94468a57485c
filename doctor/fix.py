"""``--fix``: rewrite the Compose files to the guide's strategy, as one plan for the whole
project (per-finding diffs could contradict each other). The edits are line-level, so comments,
key order, quoting and indentation stay as they were; each entry is changed in the file that
defines it (an override file rather than the base file when the override holds it). The doctor
never moves data: when the data strategy changes it prints the backup and restore steps."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from doctor.compose.edit import ComposeEditor
from doctor.compose.model import ComposeProject, Mount, Service
from doctor.compose.project import interpolation_env
from doctor.context import Context
from doctor.postgres import data_dir, database_services
from doctor.remedies import data_move_commands
from doctor.topology import client_uses, server_uses, socket_volume_name

SOCKET_VOLUME = "db_socket"
# The checks whose findings each part of the plan fixes: --fix with selected checks plans only theirs.
SOCKET_CHECKS = frozenset({"socket-mounts", "socket-sharing", "compose-file"})
DATA_CHECK = "data-volume-strategy"
DATA_VOLUME = "db_data"
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class FixPlan:
    project: ComposeProject
    editor: ComposeEditor
    notes: list[str] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)
    data_commands: list[str] = field(default_factory=list)

    @property
    def diff(self) -> str:
        return self.editor.diff()

    def changed(self) -> dict[str, str]:
        return {f: text for f, text in self.editor.result().items() if text != self.project.texts[f]}


def plan_fixes(ctx: Context, *, socket: bool = True, data: bool = True) -> FixPlan | None:
    project = ctx.project
    if project is None or not project.texts:
        return None
    if project.missing_required:
        # Compose stops at a required variable before it reads anything else, and the model holds
        # blanks where the values go: a plan over it would edit the wrong entries.
        return None
    plan = FixPlan(project, ComposeEditor(project))
    # One record of edited entries for both parts, so no entry is edited twice.
    edited: set[tuple[str, int | None, str]] = set()
    point_at = _pointer(ctx, plan, edited)
    if socket:
        _plan_socket(plan, point_at, edited)
    if data and ctx.target_os == "macos":
        _move_data_to_volume(ctx, plan, next(iter(project.texts)), point_at)
    return plan


def _pointer(
    ctx: Context, plan: FixPlan, edited: set[tuple[str, int | None, str]]
) -> Callable[[Mount, Service, str], None]:
    def point_at(mount: Mount, service: Service, name: str) -> None:
        key = (mount.origin.file, mount.origin.line, mount.target)
        if key in edited:
            return
        edited.add(key)
        if plan.editor.set_mount_source(mount, name):
            _explain_interpolation(ctx, plan, mount, name)
        else:
            plan.by_hand.append(
                f"{mount.origin}: in {service.name}, mount {name} at {mount.target} (the entry could not be edited in place)"
            )

    return point_at


def _plan_socket(
    plan: FixPlan, point_at: Callable[[Mount, Service, str], None], edited: set[tuple[str, int | None, str]]
) -> None:
    project = plan.project
    volume = socket_volume_name(project, SOCKET_VOLUME)
    first_file = next(iter(project.texts))
    for use in server_uses(project):
        if use.mount is None:
            _add(plan, use.service, f"{volume}:{use.directory}", edited)
        elif not (use.mount.type == "volume" and use.mount.source == volume):
            point_at(use.mount, use.service, volume)
    for use in client_uses(project):
        if use.mount is None:
            elsewhere = next((m for m in use.service.mounts if m.type == "volume" and m.source == volume), None)
            entry = use.service.environment.get(use.variable or "")
            line = entry.origin.line if entry is not None else None
            if (
                elsewhere is not None
                and entry is not None
                and line is not None
                and plan.editor.replace_in_line(entry.origin.file, line, use.directory, elsewhere.target)
            ):
                where = f"{use.service.name} mounts {volume}"
                plan.notes.append(f"{entry.origin}: {use.variable} now names {elsewhere.target}, where {where}")
                continue
            _add(plan, use.service, f"{volume}:{use.directory}", edited)
        elif not (use.mount.type == "volume" and use.mount.source == volume):
            point_at(use.mount, use.service, volume)
    _same_host_folder(plan, point_at)
    if server_uses(project) or client_uses(project):
        _declare(plan, volume, first_file)


def _same_host_folder(plan: FixPlan, point_at: Callable[[Mount, Service, str], None]) -> None:
    """Every service that mounts a socket host folder gets the socket volume too, whether or not
    the doctor recognises it as a client (an ODBC or JDBC configuration, a sidecar, a script):
    left on the folder it would lose the socket the moment the others move to the volume."""
    project = plan.project
    volume = socket_volume_name(project, SOCKET_VOLUME)
    uses = [*server_uses(project), *client_uses(project)]
    folders = {use.mount.source for use in uses if use.mount is not None and use.mount.type == "bind"}
    folders.discard(None)
    for service in project.services.values():
        for mount in service.mounts:
            if mount.type == "bind" and mount.source in folders:
                point_at(mount, service, volume)


def _add(plan: FixPlan, service: Service, entry: str, edited: set[tuple[str, int | None, str]]) -> None:
    key = (service.origin.file, None, f"{service.name}:{entry}")
    if key not in edited:
        edited.add(key)
        if not plan.editor.add_mount(service, entry):
            plan.by_hand.append(f"{service.origin}: add `- {entry}` to {service.name}'s volumes")


def _declare(plan: FixPlan, volume: str, file: str) -> None:
    declared = plan.project.volumes.get(volume)
    if declared is None:
        if not plan.editor.declare_volume(file, volume):
            plan.by_hand.append(f"{file}: declare {volume} under the top-level volumes: with driver: local")
    elif (
        declared.binds_host_device
        and declared.origin.line is not None
        and plan.editor.remove_block(declared.origin.file, declared.origin.line, "driver_opts")
    ):
        plan.notes.append(
            f"{declared.origin}: removed driver_opts from {volume}; the existing engine volume keeps them "
            f"until removed: compose down, then volume rm {declared.engine_name}"
        )


def _move_data_to_volume(
    ctx: Context, plan: FixPlan, first_file: str, point_at: Callable[[Mount, Service, str], None]
) -> None:
    project = plan.project
    for database in database_services(project):
        mount = database.mount_covering(data_dir(database))
        if mount is None or mount.type != "bind" or not mount.source:
            continue
        point_at(mount, database, DATA_VOLUME)
        where = mount.origin.file if mount.origin.file in project.texts else first_file
        if DATA_VOLUME not in project.volumes and not plan.editor.declare_volume(where, DATA_VOLUME):
            plan.by_hand.append(f"{where}: declare {DATA_VOLUME} under the top-level volumes: with driver: local")
        engine_name = project.engine_volume_name(DATA_VOLUME)
        plan.data_commands.extend(
            data_move_commands(ctx.runtime, mount.source, engine_name, project.name, tool=ctx.compose_command)
        )
        plan.notes.append(
            f"The data of {database.name} stays in {mount.source}: the doctor never moves data. Run the commands "
            "below in this order before starting the database on the new volume."
        )


def _explain_interpolation(ctx: Context, plan: FixPlan, mount: Mount, volume: str) -> None:
    names = _VARIABLE.findall(mount.written)
    if not names:
        return
    project = plan.project
    dotenv, _ = interpolation_env(Path(project.directory), ctx.options.env_file, {})
    for name in names:
        if name in ctx.environ:
            origin = "the shell environment"
        elif name in dotenv:
            origin = ctx.options.env_file or ".env"
        else:
            origin = "its default in the file"
        plan.notes.append(
            f"{mount.origin}: the source came from ${{{name}}} ({origin}, resolved to {mount.resolved}); the entry "
            f"now names the volume {volume}, so {name} no longer decides the socket directory. "
            f"Remove {name} from {origin} if nothing else uses it."
        )
