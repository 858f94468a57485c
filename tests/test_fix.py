"""--fix on the Compose fixtures: every fixable failure is fixed and re-checked, comments and the
rest of each file survive, an override file is edited in place of the base file, --dry-run
changes nothing, and a backup holds the original bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from checks import CHECKS
from doctor.context import Options, build_context
from doctor.fixflow import run_fix
from doctor.runner import run_checks
from tests.conftest import FIXABLE, FIXTURES

COMPOSE = FIXTURES / "compose"


def project_copy(tmp_path: Path, case: str) -> Path:
    target = tmp_path / case
    shutil.copytree(COMPOSE / case, target)
    return target


def fix(cli: object, directory: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = cli("--project-directory", str(directory), "--offline", "--format", "json", "--fix", *extra)  # type: ignore[operator]
    return result.code, json.loads(result.out)


# The server's socket directory has no diff remedy (mount or setting: the operator's choice); --fix mounts it.
FIXABLE_BY_FIX = [*FIXABLE, pytest.param("socket-dir-not-mounted-fail", "socket-dir-not-mounted", id="server-dir")]


@pytest.mark.parametrize(("case", "finding_id"), FIXABLE_BY_FIX)
def test_fix_fixes_and_rechecks(cli: object, tmp_path: Path, case: str, finding_id: str) -> None:
    directory = project_copy(tmp_path, case)
    code, report = fix(cli, directory, "--yes", "--target-os", "macos")
    assert report["fix"]["applied"] is True, report["fix"]
    remaining = [f["id"] for f in report["findings"] if f["status"] in ("fail", "warn") and f["id"] == finding_id]
    assert remaining == []
    assert report["status"] != "fail", [f["title"] for f in report["findings"] if f["status"] == "fail"]
    assert code == 0
    for backup in report["fix"]["backups"]:
        assert Path(backup).exists()


def test_comments_and_other_lines_survive(cli: object, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    before = (directory / "compose.yaml").read_text().splitlines()
    fix(cli, directory, "--yes", "--target-os", "macos")
    after = (directory / "compose.yaml").read_text().splitlines()
    assert after[0] == before[0]  # the leading comment
    assert "      - db_socket:/var/run/postgresql  # ❌ Host path mount" in after
    unchanged = iter(after)
    # Every line without the host path is still there, in the same order.
    assert all(line in unchanged for line in before if "/Users/username" not in line)


def test_override_file_is_edited_not_the_base(cli: object, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "socket-host-path-override")
    base = (directory / "compose.yaml").read_bytes()
    override = (directory / "compose.override.yaml").read_bytes()
    _, report = fix(cli, directory, "--yes", "--target-os", "macos")
    assert (directory / "compose.yaml").read_bytes() == base
    assert (directory / "compose.override.yaml").read_bytes() != override
    assert report["fix"]["files"] == ["compose.override.yaml"]
    assert "~/cultivate/socket" not in (directory / "compose.override.yaml").read_text()


def test_dry_run_changes_nothing(cli: object, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    original = (directory / "compose.yaml").read_bytes()
    code, report = fix(cli, directory, "--dry-run", "--target-os", "macos")
    assert (directory / "compose.yaml").read_bytes() == original
    assert sorted(p.name for p in directory.iterdir()) == ["compose.yaml"]
    assert report["fix"]["reason"] == "dry-run" and "+volumes:" in report["fix"]["diff"]
    assert code == 1  # judged on the unchanged files


def test_backup_holds_the_original_bytes(cli: object, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    original = (directory / "compose.yaml").read_bytes()
    _, report = fix(cli, directory, "--yes", "--target-os", "macos")
    (backup,) = report["fix"]["backups"]
    assert Path(backup).read_bytes() == original
    assert Path(backup).name.startswith("compose.yaml.") and backup.endswith(".bak")


def test_without_a_terminal_nothing_is_applied(cli: object, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    original = (directory / "compose.yaml").read_bytes()
    _, report = fix(cli, directory, "--target-os", "macos")
    assert report["fix"]["reason"] == "not-a-terminal" and "--yes" in report["fix"]["message"]
    assert (directory / "compose.yaml").read_bytes() == original


@pytest.mark.parametrize(("answer", "applied"), [(False, False), (True, True)])
def test_the_question_decides(tmp_path: Path, answer: bool, applied: bool) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    ctx = build_context(Options(project_directory=directory, offline=True, target_os="macos"), environ={})
    findings = run_checks(ctx, CHECKS)
    asked: list[str] = []
    outcome = run_fix(ctx, CHECKS, findings, yes=False, dry_run=False, ask=lambda q: asked.append(q) or answer)
    assert outcome.summary.applied is applied
    assert asked and "compose.yaml" in asked[0]


def test_interpolated_source_says_where_the_value_came_from(cli: object, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "socket-host-path-interpolated")
    _, report = fix(cli, directory, "--yes", "--target-os", "macos")
    notes = " ".join(report["fix"]["notes"])
    assert "${SOCKET_DIR}" in notes and ".env" in notes
    assert (directory / ".env").read_text() == "SOCKET_DIR=/Users/me/cultivate/socket\n"  # never rewritten


def test_data_move_prints_the_commands_and_moves_nothing(cli: object, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "data-volume-strategy-fail")
    _, report = fix(cli, directory, "--yes", "--target-os", "macos")
    commands = report["fix"]["data_commands"]
    assert commands[0] == "finch compose down"
    assert any(c.startswith("tar czf db_data.tar.gz -C ") for c in commands)
    assert commands[-1] == "finch compose up -d"


def test_nothing_to_fix(cli: object, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-correct")
    code, report = fix(cli, directory, "--yes")
    assert report["fix"]["reason"] == "nothing-to-fix"
    assert code == 0


def test_yes_needs_fix(cli: object) -> None:
    result = cli("--project-directory", str(COMPOSE / "guide-correct"), "--yes")  # type: ignore[operator]
    assert result.code == 2 and "--fix" in result.err
