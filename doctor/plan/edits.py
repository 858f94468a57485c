"""The edits the planner makes, as values: each names what changes and which findings it
remedies. Rendering applies a list of them to a ComposeEditor, in order; a finding's diff and
``--fix`` render from the same list (a slice of it, or all of it), so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from doctor.compose.deploy import Deploy
from doctor.compose.edit import ComposeEditor
from doctor.compose.model import ComposeProject, Mount, Origin, Service, VolumeDecl


class Part(str, Enum):
    """Which part of the guide's strategy an edit carries out: ``--fix`` with selected checks
    applies only theirs (``doctor socket-mounts --fix`` leaves the data volume alone)."""

    SOCKET = "socket"
    DATA = "data"
    # A Swarm stack's placement: shown as the stack-placement-apart finding's diff, never applied
    # by --fix (doctor/fix.py), because the node to pin to is the operator's choice (a hostname
    # the doctor saw, or a label still to be put on a node) and only `docker stack deploy` acts on it.
    PLACEMENT = "placement"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Tag:
    """A finding an edit remedies: its id, and the subject that tells findings of one id apart
    (the host folder, the volume key, the client's ``service:directory:port``, the database)."""

    finding: str
    subject: str


@dataclass(frozen=True)
class SetMountSource:
    """Point a mount (short or long syntax) at a named volume."""

    service: str
    mount: Mount
    source: str

    def apply(self, editor: ComposeEditor) -> bool:
        return editor.set_mount_source(self.mount, self.source)

    def by_hand(self) -> str:
        return (
            f"{self.mount.origin}: in {self.service}, mount {self.source} at {self.mount.target} "
            "(the entry could not be edited in place)"
        )


@dataclass(frozen=True, eq=False)  # a Service is mutable: this edit is itself, not its fields
class AddMount:
    """Add ``entry`` (``volume:/dir``) to a service's ``volumes:``."""

    service: Service
    entry: str

    def apply(self, editor: ComposeEditor) -> bool:
        return editor.add_mount(self.service, self.entry)

    def by_hand(self) -> str:
        return f"{self.service.origin}: add `- {self.entry}` to {self.service.name}'s volumes"


@dataclass(frozen=True)
class DeclareVolume:
    """Declare ``name`` with ``driver: local`` under the file's one top-level ``volumes:``."""

    file: str
    name: str

    def apply(self, editor: ComposeEditor) -> bool:
        return editor.declare_volume(self.file, self.name)

    def by_hand(self) -> str:
        return f"{self.file}: declare {self.name} under the top-level volumes: with driver: local"


@dataclass(frozen=True)
class RemoveDriverOpts:
    """Remove a declared volume's ``driver_opts`` (a host folder bound as a volume)."""

    volume: VolumeDecl

    def apply(self, editor: ComposeEditor) -> bool:
        line = self.volume.origin.line
        return line is not None and editor.remove_block(self.volume.origin.file, line, "driver_opts")

    def by_hand(self) -> str:
        return ""  # what stays is an ordinary option the engine honours; the finding says what to do


@dataclass(frozen=True)
class SetClientDirectory:
    """Replace the socket directory a client's variable names (a URL's ``host=``, ``PGHOST``)."""

    service: str
    variable: str
    origin: Origin  # the environment entry
    old: str
    new: str

    def apply(self, editor: ComposeEditor) -> bool:
        return self.origin.line is not None and editor.replace_in_line(
            self.origin.file, self.origin.line, self.old, self.new
        )

    def by_hand(self) -> str:
        return f"{self.origin}: in {self.service}, set {self.variable}'s socket directory to {self.new}"


@dataclass(frozen=True, eq=False)  # a Deploy is mutable: this edit is itself, not its fields
class AddConstraint:
    """Add a placement constraint to a Swarm service's ``deploy.placement.constraints``."""

    deploy: Deploy
    constraint: str

    def apply(self, editor: ComposeEditor) -> bool:
        return editor.add_constraint(self.deploy, self.constraint)

    def by_hand(self) -> str:
        where = f"{self.deploy.service_file}:{self.deploy.service_line}" if self.deploy.service_file else ""
        return f"{where}: add `{self.constraint}` to {self.deploy.service}'s deploy.placement.constraints".lstrip(": ")


Edit = SetMountSource | AddMount | DeclareVolume | RemoveDriverOpts | SetClientDirectory | AddConstraint


@dataclass
class PlannedEdit:
    edit: Edit
    part: Part
    tags: list[Tag] = field(default_factory=list)  # empty: the guide's strategy, asked by no finding
    notes: list[str] = field(default_factory=list)  # said when the edit is made
    always: list[str] = field(default_factory=list)  # said whether or not it could be made
    commands: list[str] = field(default_factory=list)  # to run by hand, in order (the data move)

    def tag(self, *tags: Tag) -> None:
        self.tags.extend(t for t in tags if t not in self.tags)

    def remedies(self, finding: str, subject: str) -> bool:
        return Tag(finding, subject) in self.tags


@dataclass
class Rendered:
    """A list of edits applied to the project's files."""

    editor: ComposeEditor
    notes: list[str]
    by_hand: list[str]
    complete: bool  # every edit but the declarations was made (a declaration may be missing)

    @property
    def diff(self) -> str:
        return self.editor.diff()


def render(project: ComposeProject, edits: Iterable[PlannedEdit]) -> Rendered:
    editor = ComposeEditor(project)
    notes: list[str] = []
    by_hand: list[str] = []
    complete = True
    for planned in edits:
        if planned.edit.apply(editor):
            notes.extend(planned.notes)
        else:
            if planned.edit.by_hand():
                by_hand.append(planned.edit.by_hand())
            complete = complete and isinstance(planned.edit, DeclareVolume)
        notes.extend(planned.always)
    return Rendered(editor, notes, by_hand, complete)


@dataclass(frozen=True)
class Plan:
    """Every edit the guide's strategy makes to one project, in the order they are applied."""

    project: ComposeProject | None  # None: nothing to plan (no readable files, a required variable unset)
    edits: tuple[PlannedEdit, ...] = ()

    def slice(self, finding: str, subject: str) -> list[PlannedEdit]:
        """The edits that remedy one finding."""
        return [e for e in self.edits if e.remedies(finding, subject)]

    def diff(self, finding: str, subject: str, *, partial: bool = False) -> str:
        """The finding's diff: its slice of the plan, or nothing when an edit of it cannot be
        made in place (a partial diff would leave the finding standing), unless the finding
        says what to change by hand beside it (``partial``)."""
        edits = self.slice(finding, subject)
        if not edits or self.project is None:
            return ""
        rendered = render(self.project, edits)
        return rendered.diff if rendered.complete or partial else ""

    def parts(self, parts: Sequence[Part]) -> list[PlannedEdit]:
        return [e for e in self.edits if e.part in parts]
