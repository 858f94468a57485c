"""The one edit planner: what it plans for a project, which findings each edit remedies, and
that the findings' diffs and --fix come from the same plan (they once drifted apart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks import CHECKS
from doctor.context import Context, Options, build_context
from doctor.fix import plan_fixes
from doctor.models import Finding
from doctor.plan import Part, PlannedEdit, SetClientDirectory, SetMountSource, Tag, plan_for, render
from doctor.runner import run_checks
from tests.conftest import FIXTURES

COMPOSE = FIXTURES / "compose"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# Every fixture and example: where --fix changes nothing, there is nothing the findings may miss.
CASES = sorted([p for p in COMPOSE.iterdir() if p.is_dir()] + [p for p in EXAMPLES.iterdir() if p.is_dir()])
# Findings whose remedy is a choice, so the check shows no diff although --fix takes one.
NO_DIFF_SHOWN = {"socket-dir-not-mounted"}


def context(directory: Path, target_os: str) -> Context:
    return build_context(Options(project_directory=directory, offline=True, target_os=target_os), environ={})


def claimed_tags(ctx: Context, findings: list[Finding]) -> set[Tag]:
    """The plan's tags of the findings the report holds: each diff a check printed is the slice
    of exactly one tag; a finding shown without a diff claims the tags of its id that have none."""
    plan = plan_for(ctx)
    tags = {tag for edit in plan.edits for tag in edit.tags}
    claimed: set[Tag] = set()
    for finding in findings:
        if not finding.status.is_problem:
            continue
        if finding.id in NO_DIFF_SHOWN:
            assert not (finding.remedy and finding.remedy.diff)
            claimed |= {tag for tag in tags if tag.finding == finding.id}
        elif finding.remedy is not None and finding.remedy.diff:
            mine = [t for t in tags if t.finding == finding.id]
            matches = [t for t in mine if ctx.redactor.text(plan.diff(t.finding, t.subject)) == finding.remedy.diff]
            assert len(matches) == 1, (finding.id, finding.remedy.diff)
            claimed |= set(matches)
        else:  # a slice that cannot be made in place shows no diff; --fix lists it to change by hand
            claimed |= {t for t in tags if t.finding == finding.id and not plan.diff(t.finding, t.subject)}
    return claimed


@pytest.mark.parametrize("target_os", ["macos", "linux"])
@pytest.mark.parametrize("case", [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in CASES])
def test_the_union_of_the_findings_slices_is_what_fix_applies(case: Path, target_os: str) -> None:
    ctx = context(case, target_os)
    findings = run_checks(ctx, CHECKS)
    fix = plan_fixes(ctx)
    if fix is None:  # a project --fix leaves alone (invalid, a required variable unset)
        assert not [f for f in findings if f.remedy is not None and f.remedy.diff]
        return
    plan = plan_for(ctx)
    claimed = claimed_tags(ctx, findings)
    union = [edit for edit in plan.edits if claimed & set(edit.tags)]
    assert [edit for edit in plan.edits if edit not in union] == []  # no edit that no finding asks for
    assert plan.project is not None
    assert render(plan.project, union).editor.result() == fix.editor.result()
    assert render(plan.project, union).by_hand == fix.by_hand


def test_the_plan_is_made_once_per_run() -> None:
    ctx = context(COMPOSE / "guide-incorrect", "macos")
    assert ctx.plan is None
    run_checks(ctx, CHECKS)
    made = ctx.plan
    assert made is not None and made.edits
    assert plan_for(ctx) is made
    fix = plan_fixes(ctx)
    assert fix is not None and fix.changed()
    assert ctx.plan is made


def kinds(edits: list[PlannedEdit]) -> list[tuple[object, ...]]:
    """Each edit's kind, part and tags; a client's new directory too, the point of that edit."""
    return [
        (type(e.edit).__name__, e.part, e.tags, *((e.edit.new,) if isinstance(e.edit, SetClientDirectory) else ()))
        for e in edits
    ]


HOST = "socket-host-path"


@pytest.mark.parametrize(
    ("case", "target_os", "expected"),
    [
        pytest.param("socket-host-path-fail", "linux", [
            ("SetMountSource", Part.SOCKET, [Tag(HOST, "/srv/cultivate/socket")]),
            ("SetMountSource", Part.SOCKET, [Tag(HOST, "/srv/cultivate/socket")]),
            ("DeclareVolume", Part.SOCKET, [Tag(HOST, "/srv/cultivate/socket"), Tag("socket-volume-undeclared", "db_socket")]),
        ], id="host-path"),
        pytest.param("socket-volume-bind-device-fail", "macos", [
            ("RemoveDriverOpts", Part.SOCKET, [Tag("socket-volume-bind-device", "db_socket")]),
        ], id="bind-device"),
        pytest.param("socket-volume-undeclared-fail", "linux", [
            ("DeclareVolume", Part.SOCKET, [Tag("socket-volume-undeclared", "db_socket")]),
        ], id="undeclared"),
        pytest.param("socket-volume-mismatch-fail", "linux", [
            ("SetMountSource", Part.SOCKET, [Tag("socket-volume-mismatch", "backend:/var/run/postgresql:5432")]),
        ], id="mismatch"),
        pytest.param("backend-socket-not-mounted-fail", "linux", [
            ("AddMount", Part.SOCKET, [Tag("backend-socket-not-mounted", "backend:/var/run/postgresql:5432")]),
        ], id="not-mounted"),
        pytest.param("database-url-socket-mismatch-fail", "linux", [
            ("SetClientDirectory", Part.SOCKET, [
                Tag("database-url-socket-mismatch", "backend:/var/run/postgresql:5432"),
            ], "/sockets"),
        ], id="url"),
        pytest.param("fix-url-subdirectory", "linux", [
            ("SetClientDirectory", Part.SOCKET, [
                Tag("database-url-socket-mismatch", "backend:/var/run/postgresql:5432"),
            ], "/sockets/postgresql"),
        ], id="url-into-the-volume's-folder"),
        pytest.param("fix-url-inside-mount", "linux", [
            ("SetClientDirectory", Part.SOCKET, [Tag("database-url-socket-mismatch", "backend:/sockets/sub:5432")], "/sockets"),
        ], id="url-inside-the-mount"),
        pytest.param("socket-dir-not-mounted-fail", "linux", [
            ("AddMount", Part.SOCKET, [Tag("socket-dir-not-mounted", "backend:/var/run/postgresql:5432")]),
        ], id="server-dir"),
        pytest.param("data-volume-strategy-fail", "macos", [
            ("SetMountSource", Part.DATA, [Tag("data-volume-strategy", "database")]),
            ("DeclareVolume", Part.DATA, [Tag("data-volume-strategy", "database")]),
        ], id="data-macos"),
        pytest.param("data-volume-strategy-fail", "linux", [], id="data-linux-stays"),
        pytest.param("guide-correct", "macos", [], id="correct"),
    ],
)  # fmt: skip
def test_what_the_planner_plans(case: str, target_os: str, expected: list[tuple[object, ...]]) -> None:
    plan = plan_for(context(COMPOSE / case, target_os))
    assert kinds(list(plan.edits)) == expected


def test_every_service_on_the_socket_folder_is_in_the_host_path_slice() -> None:
    """The ODBC client shares the host folder without being a libpq client: the finding's diff
    moves it too, as --fix does, so applying the diff alone never strands it on the folder."""
    plan = plan_for(context(COMPOSE / "fix-odbc-client", "linux"))
    (folder,) = {t.subject for e in plan.edits for t in e.tags if t.finding == HOST}
    services = [e.edit.service for e in plan.slice(HOST, folder) if isinstance(e.edit, SetMountSource)]
    assert services == ["database", "backend", "reports"]


def stack_context(directory: Path) -> Context:
    return build_context(Options(project_directory=directory, offline=True, stack="st1"), environ={})


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_stack_s_placement_is_planned_and_shown_but_never_fixed(tmp_path: Path, newline: str) -> None:
    """The constraint is the stack-placement-apart finding's slice of the plan; --fix applies the
    socket and data parts only, since the node to pin to is the operator's choice."""
    project = tmp_path / "stack"
    project.mkdir()
    text = (COMPOSE / "stack-placement-fail" / "compose.yaml").read_text()
    (project / "compose.yaml").write_bytes(text.replace("\n", newline).encode())
    ctx = stack_context(project)
    plan = plan_for(ctx)
    placed = [e for e in plan.edits if e.part is Part.PLACEMENT]
    assert [(type(e.edit).__name__, e.tags) for e in placed] == [
        ("AddConstraint", [Tag("stack-placement-apart", "database+backend")]),
        ("AddConstraint", [Tag("stack-placement-apart", "database+backend")]),
    ]
    finding = next(f for f in run_checks(ctx, CHECKS) if f.id == "stack-placement-apart")
    assert finding.remedy is not None
    assert finding.remedy.diff == plan.diff("stack-placement-apart", "database+backend", partial=True)
    added = [line for line in finding.remedy.diff.splitlines(keepends=True) if line.startswith("+ ")]
    assert added and all(line.endswith(newline) for line in added)
    fix = plan_fixes(ctx)
    assert fix is not None and not fix.changed()
