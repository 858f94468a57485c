"""The combined patch of a run applies with a real `patch -p1` and no fuzz, even where a secret
sits next to a changed line; --fix honours the selected checks; the data warning comes before
the question."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from checks import CHECKS, select
from doctor.context import Options, build_context
from doctor.fixflow import run_fix
from doctor.patch import combined_patch
from doctor.runner import run_checks
from tests.conftest import FIXTURES, REPO, Cli, require

EXAMPLE = REPO / "examples" / "macos-host-socket"


def copy(tmp_path: Path, source: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def apply_with_patch(directory: Path, patch: str) -> subprocess.CompletedProcess[str]:
    require(shutil.which("patch") is not None, "GNU patch is not installed: apt-get install patch")
    return subprocess.run(
        ["patch", "-p1", "--fuzz=0", "--no-backup-if-mismatch"],
        input=patch,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("project", "patched"),
    [
        (EXAMPLE, ["compose.yaml"]),
        (FIXTURES / "compose" / "guide-incorrect", ["compose.yaml"]),
        (FIXTURES / "compose" / "fix-two-files", ["compose.override.yaml", "compose.yaml"]),
    ],
    ids=["quick-start-with-secret-in-context", "guide-incorrect", "two-files"],
)
def test_the_dry_run_patch_applies_without_fuzz_and_fixes(
    cli: Cli, tmp_path: Path, project: Path, patched: list[str]
) -> None:
    directory = copy(tmp_path, project)
    args = ("--project-directory", str(directory), "--target-os", "macos", "--offline", "--format", "json")
    report = json.loads(cli(*args, "--fix", "--dry-run").out)
    patch = report["fix"]["diff"]
    assert re.findall(r"^--- a/(\S+)$", patch, re.MULTILINE) == patched
    assert "change-me-please" not in patch  # redacted as a whole
    done = apply_with_patch(directory, patch)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fuzz" not in done.stdout and "offset" not in done.stdout, done.stdout
    after = json.loads(cli(*args).out)
    problems = {f["id"] for f in after["findings"] if f["status"] in ("fail", "warn")}
    assert not problems & {"socket-host-path", "data-volume-strategy"}, problems


def test_context_shrinks_only_as_far_as_a_secret_needs() -> None:
    old = {"c.yaml": "a\nb\nPASSWORD: hunter2hunter2\nc\nd\nchange me\ne\nf\ng\n"}
    new = {"c.yaml": old["c.yaml"].replace("change me", "changed")}
    patch = combined_patch(old, new, lambda text: text.replace("hunter2hunter2", "[redacted]"))
    assert patch.context == 2 and patch.unmatched == 0
    assert "hunter2" not in patch.text
    plain = combined_patch(old, new, lambda text: text)
    assert plain.context == 3


def test_a_removed_line_with_a_secret_is_counted() -> None:
    old = {"c.yaml": "x\nPASSWORD: hunter2hunter2\ny\n"}
    new = {"c.yaml": "x\nPASSWORD: ${PASSWORD}\ny\n"}
    patch = combined_patch(old, new, lambda text: text.replace("hunter2hunter2", "[redacted]"))
    assert patch.unmatched == 1


@pytest.mark.parametrize(
    ("selected", "socket_changed", "data_changed"),
    [
        pytest.param(["socket-mounts"], True, False, id="socket-only"),
        pytest.param(["data-volume-strategy"], False, True, id="data-only"),
        pytest.param([], True, True, id="all"),
    ],
)
def test_fix_honours_the_selected_checks(
    tmp_path: Path, selected: list[str], socket_changed: bool, data_changed: bool
) -> None:
    directory = copy(tmp_path, EXAMPLE)
    ctx = build_context(Options(project_directory=directory, offline=True, target_os="macos"), environ={})
    checks = select(selected)
    outcome = run_fix(ctx, checks, run_checks(ctx, checks), yes=False, dry_run=True)
    diff = outcome.summary.diff
    assert ("+      - db_socket:/var/run/postgresql" in diff) is socket_changed
    assert ("+      - db_data:/var/lib/postgresql/data" in diff) is data_changed
    assert bool(outcome.summary.data_commands) is data_changed


def test_the_data_warning_comes_before_the_question(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = copy(tmp_path, EXAMPLE)
    ctx = build_context(Options(project_directory=directory, offline=True, target_os="macos"), environ={})
    seen_before_asking: list[str] = []

    def ask(question: str) -> bool:
        seen_before_asking.append(capsys.readouterr().err)
        return False

    run_fix(ctx, CHECKS, run_checks(ctx, CHECKS), yes=False, dry_run=False, ask=ask)
    before = seen_before_asking[0]
    assert "stays in /Users/username/cultivate/data" in before
    assert "Warning: this fix moves no data" in before
    assert before.index("Warning") < before.index("--- a/compose.yaml")
