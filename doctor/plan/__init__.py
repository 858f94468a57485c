"""The edit planner: the project as one ordered list of typed edits, each tagged with the
findings it remedies. A check's diff is its finding's slice (``plan_for(ctx).diff(id, subject)``);
``--fix`` applies the whole plan (doctor.fix)."""

from __future__ import annotations

from doctor.plan.build import DATA_VOLUME, SOCKET_VOLUME, build_plan, client_subject, pair_subject, plan_for
from doctor.plan.edits import (
    AddConstraint,
    AddMount,
    DeclareVolume,
    Edit,
    Part,
    Plan,
    PlannedEdit,
    RemoveDriverOpts,
    Rendered,
    SetClientDirectory,
    SetMountSource,
    Tag,
    render,
)

__all__ = [
    "DATA_VOLUME",
    "SOCKET_VOLUME",
    "AddConstraint",
    "AddMount",
    "DeclareVolume",
    "Edit",
    "Part",
    "Plan",
    "PlannedEdit",
    "RemoveDriverOpts",
    "Rendered",
    "SetClientDirectory",
    "SetMountSource",
    "Tag",
    "build_plan",
    "client_subject",
    "pair_subject",
    "plan_for",
    "render",
]
