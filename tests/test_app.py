"""The application layer end to end on fixture projects: options in, one Report out; the
renderers and the bundle show that Report and never work the root cause out again."""

from __future__ import annotations

import ast
import dataclasses
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from doctor import app
from doctor.context import Options as ContextOptions
from doctor.render import render
from doctor.report import exit_code
from doctor.rootcause import RootCause, find_root_cause
from tests.conftest import FIXTURES, REPO, member_text

QUIET_ENV = {"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}


def offline(
    project: Path,
    *,
    checks: tuple[str, ...] = (),
    bundle: Path | None = None,
    output: Path | None = None,
    argv: tuple[str, ...] = (),
) -> app.Options:
    context = ContextOptions(project_directory=project, offline=True, target_os="macos", tokens=bundle is not None)
    return app.Options(context=context, checks=checks, bundle=bundle, output=output, argv=argv)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    project = tmp_path / "shop"
    shutil.copytree(FIXTURES / "compose" / "guide-incorrect", project)
    return project


@pytest.mark.parametrize(
    ("fixture", "status", "has_cause"),
    [
        ("guide-incorrect", "fail", True),
        ("guide-correct", "ok", False),
    ],
)
def test_run_makes_one_report_with_its_root_cause(fixture: str, status: str, has_cause: bool) -> None:
    report = app.run(offline(FIXTURES / "compose" / fixture), environ=QUIET_ENV)
    assert report.status.value == status
    assert (report.root_cause is not None) is has_cause
    assert report.root_cause == find_root_cause(list(report.findings))
    assert exit_code(report, strict=False) == (1 if has_cause else 0)


def test_every_format_shows_the_report_s_own_root_cause(broken: Path) -> None:
    """A root cause no finding would give: a renderer that worked it out again would not print it."""
    report = app.run(offline(broken), environ=QUIET_ENV)
    planted = RootCause("PLANTED statement", ("planted-id",), "PLANTED next step")
    assert report.root_cause != planted
    report = dataclasses.replace(report, root_cause=planted)
    assert json.loads(render(report, "json"))["root_cause"]["statement"] == "PLANTED statement"
    for format in ("markdown", "text"):
        text = render(report, format)
        assert "PLANTED statement" in text and "PLANTED next step" in text, format


def test_the_bundle_holds_the_same_report(broken: Path, tmp_path: Path) -> None:
    archive = tmp_path / "ticket.tar.gz"
    report = app.run(offline(broken, bundle=archive, argv=("doctor", "--bundle", str(archive))), environ=QUIET_ENV)
    assert report.bundle is not None and report.bundle.size == archive.stat().st_size > 0
    with tarfile.open(archive) as tar:
        recorded = json.loads(member_text(tar, tar.getmember("ticket/report.json")))
    assert report.root_cause is not None
    assert recorded["root_cause"]["statement"] == report.root_cause.statement
    assert [f["id"] for f in recorded["findings"]] == [f.id for f in report.findings]
    assert recorded["command_line"] == report.command_line == f"cultivate doctor --bundle {archive}"


def test_reread_gives_the_bundle_s_findings_and_says_how(broken: Path, tmp_path: Path) -> None:
    archive = tmp_path / "ticket.tar.gz"
    first = app.run(offline(broken, bundle=archive), environ=QUIET_ENV)
    again = app.reread(archive)
    assert [f.id for f in again.findings] == [f.id for f in first.findings]
    assert again.notice.startswith(f"re-read {archive}; ran again from the bundle's files: compose-file")
    only = app.reread(archive, ("socket-mounts",))
    assert {f.check for f in only.findings} == {"socket-mounts"}


@pytest.mark.parametrize(
    ("options", "sentence"),
    [
        (lambda p: offline(p, checks=("socket-mount",)), "unknown check 'socket-mount'; did you mean socket-mounts?"),
        (lambda p: offline(p, output=p / "compose.yaml"), "it is a Compose file of this run"),
        (lambda p: offline(p / "missing"), "does not exist or is not a directory"),
    ],
)
def test_a_run_that_cannot_go_ahead_is_one_sentence(
    broken: Path, options: Callable[[Path], app.Options], sentence: str
) -> None:
    with pytest.raises(app.UsageError) as raised:
        app.run(options(broken), environ=QUIET_ENV)
    assert sentence in str(raised.value)
    assert "\n" not in str(raised.value)


def test_make_report_is_the_only_place_the_root_cause_is_found() -> None:
    """Renderers, the bundle and the CLI take the Report; only doctor/report.py calls the finder."""
    callers = []
    for path in sorted((REPO / "doctor").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "find_root_cause":
                callers.append(path.relative_to(REPO).as_posix())
    assert callers == ["doctor/report.py"]
