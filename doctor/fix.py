"""``--fix``: rewrite the Compose files to the guide's strategy, as one plan for the whole
project (per-finding diffs could contradict each other). The plan is doctor.plan's, the same
one every finding's diff is a slice of; this module renders the part the selected checks own.
The edits are line-level, so comments, key order, quoting and indentation stay as they were;
each entry is changed in the file that defines it (an override file rather than the base file
when the override holds it). The doctor never moves data: when the data strategy changes it
prints the backup and restore steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from doctor import catalog
from doctor.compose.edit import ComposeEditor
from doctor.compose.model import ComposeProject
from doctor.context import Context
from doctor.plan import Part, plan_for, render

# The checks whose findings each part of the plan fixes: --fix with selected checks plans only theirs.
SOCKET_CHECKS = frozenset({catalog.SOCKET_MOUNTS, catalog.SOCKET_SHARING, catalog.COMPOSE_FILE})
DATA_CHECK = catalog.DATA_VOLUME_STRATEGY


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
    plan = plan_for(ctx)
    if plan.project is None or plan.project.missing_required:
        # Compose stops at a required variable before it reads anything else, and the model holds
        # blanks where the values go: a fix written over it could edit the wrong entries. The
        # findings still show their diffs, for the operator to read.
        return None
    # Never Part.PLACEMENT: which node a stack is pinned to is the operator's choice (see its docstring).
    parts = [part for part, wanted in ((Part.SOCKET, socket), (Part.DATA, data)) if wanted]
    edits = plan.parts(parts)
    rendered = render(plan.project, edits)
    commands = [command for edit in edits for command in edit.commands]
    return FixPlan(plan.project, rendered.editor, rendered.notes, rendered.by_hand, commands)
