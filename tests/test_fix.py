"""--fix on the Compose fixtures: every fixable failure is fixed and re-checked, comments and the
rest of each file survive, an override file is edited in place of the base file, --dry-run
changes nothing, and a backup holds the original bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import pytest

from checks import CHECKS
from doctor.compose.edit import ComposeEditor
from doctor.compose.model import ComposeProject
from doctor.context import Options, build_context
from doctor.fix import plan_fixes
from doctor.fixflow import run_fix
from doctor.fixwrite import FixRefused, apply, strict_problem
from doctor.runner import run_checks
from lab import composev2
from tests.conftest import FIXABLE, FIXTURES, Cli, require

COMPOSE = FIXTURES / "compose"


def project_copy(tmp_path: Path, case: str) -> Path:
    target = tmp_path / case
    shutil.copytree(COMPOSE / case, target)
    return target


def fix(cli: Cli, directory: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli("--project-directory", str(directory), "--offline", "--format", "json", "--fix", *extra)
    return result.code, cast("dict[str, Any]", json.loads(result.out))


# The server's socket directory has no diff remedy (mount or setting: the operator's choice); --fix mounts it.
FIXABLE_BY_FIX = [*FIXABLE, pytest.param("socket-dir-not-mounted-fail", "socket-dir-not-mounted", id="server-dir")]


@pytest.mark.parametrize(("case", "finding_id"), FIXABLE_BY_FIX)
def test_fix_fixes_and_rechecks(cli: Cli, tmp_path: Path, case: str, finding_id: str) -> None:
    directory = project_copy(tmp_path, case)
    code, report = fix(cli, directory, "--yes", "--target-os", "macos")
    assert report["fix"]["applied"] is True, report["fix"]
    remaining = [f["id"] for f in report["findings"] if f["status"] in ("fail", "warn") and f["id"] == finding_id]
    assert remaining == []
    assert report["status"] != "fail", [f["title"] for f in report["findings"] if f["status"] == "fail"]
    assert code == 0
    for backup in report["fix"]["backups"]:
        assert Path(backup).exists()


def test_comments_and_other_lines_survive(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    before = (directory / "compose.yaml").read_text().splitlines()
    fix(cli, directory, "--yes", "--target-os", "macos")
    after = (directory / "compose.yaml").read_text().splitlines()
    assert after[0] == before[0]  # the leading comment
    assert "      - db_socket:/var/run/postgresql  # ❌ Host path mount" in after
    unchanged = iter(after)
    # Every line without the host path is still there, in the same order.
    assert all(line in unchanged for line in before if "/Users/username" not in line)


def test_override_file_is_edited_not_the_base(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "socket-host-path-override")
    base = (directory / "compose.yaml").read_bytes()
    override = (directory / "compose.override.yaml").read_bytes()
    _, report = fix(cli, directory, "--yes", "--target-os", "macos")
    assert (directory / "compose.yaml").read_bytes() == base
    assert (directory / "compose.override.yaml").read_bytes() != override
    assert report["fix"]["files"] == ["compose.override.yaml"]
    assert "~/cultivate/socket" not in (directory / "compose.override.yaml").read_text()


def test_dry_run_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    original = (directory / "compose.yaml").read_bytes()
    code, report = fix(cli, directory, "--dry-run", "--target-os", "macos")
    assert (directory / "compose.yaml").read_bytes() == original
    assert sorted(p.name for p in directory.iterdir()) == ["compose.yaml"]
    assert report["fix"]["reason"] == "dry-run" and "+volumes:" in report["fix"]["diff"]
    assert code == 1  # judged on the unchanged files


def test_backup_holds_the_original_bytes(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    original = (directory / "compose.yaml").read_bytes()
    _, report = fix(cli, directory, "--yes", "--target-os", "macos")
    (backup,) = report["fix"]["backups"]
    assert Path(backup).read_bytes() == original
    assert Path(backup).name.startswith("compose.yaml.") and backup.endswith(".bak")


def test_without_a_terminal_nothing_is_applied(cli: Cli, tmp_path: Path) -> None:
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

    def ask(question: str) -> bool:
        asked.append(question)
        return answer

    outcome = run_fix(ctx, CHECKS, findings, yes=False, dry_run=False, ask=ask)
    assert outcome.summary.applied is applied
    assert asked and "compose.yaml" in asked[0]


def test_interpolated_source_says_where_the_value_came_from(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "socket-host-path-interpolated")
    _, report = fix(cli, directory, "--yes", "--target-os", "macos")
    notes = " ".join(report["fix"]["notes"])
    assert "${SOCKET_DIR}" in notes and ".env" in notes
    assert (directory / ".env").read_text() == "SOCKET_DIR=/Users/me/cultivate/socket\n"  # never rewritten


def test_data_move_prints_the_commands_and_moves_nothing(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "data-volume-strategy-fail")
    _, report = fix(cli, directory, "--yes", "--target-os", "macos")
    commands = report["fix"]["data_commands"]
    # -p: run from any folder, the commands act on this project's containers and volumes
    assert commands[0] == "finch compose -p data-volume-strategy-fail down"
    assert any(c.startswith("tar czf db_data.tar.gz -C ") for c in commands)
    assert commands[-1] == "finch compose -p data-volume-strategy-fail up -d"


def test_nothing_to_fix(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-correct")
    code, report = fix(cli, directory, "--yes")
    assert report["fix"]["reason"] == "nothing-to-fix"
    assert code == 0


def test_yes_needs_fix(cli: Cli) -> None:
    result = cli("--project-directory", str(COMPOSE / "guide-correct"), "--yes")
    assert result.code == 2 and "--fix" in result.err


# --- Compose v2 accepts what --fix writes (issue 8) ------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# Every failing fixture, every example, and the top-level volumes: variants.
CASES = sorted(
    [p for p in COMPOSE.iterdir() if p.name.endswith("-fail") or p.name.startswith("fix-")]
    + [p for p in EXAMPLES.iterdir() if p.is_dir()]
)


def invalid_input(case: Path) -> bool:
    """compose-invalid and compose-variable-required fixtures are refused by Compose before the
    fix, and not for a socket problem: --fix leaves them alone, and Compose refuses them as before."""
    return case.name.startswith(("compose-invalid", "compose-variable-required"))


def compose_files(directory: Path) -> list[str]:
    names = ["compose.yaml", "compose.override.yaml"]
    return [name for name in names if (directory / name).is_file()]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


@pytest.mark.parametrize("target_os", ["macos", "linux"])
@pytest.mark.parametrize("case", [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in CASES])
def test_fixed_files_are_accepted_by_compose_v2_and_a_second_fix_changes_nothing(
    cli: Cli, tmp_path: Path, case: Path, target_os: str
) -> None:
    require(composev2.binary() is not None, composev2.why_unavailable() or "no Compose v2")
    directory = tmp_path / case.name
    shutil.copytree(case, directory)
    original = snapshot(directory)
    _, report = fix(cli, directory, "--yes", "--target-os", target_os)
    ok, words = composev2.accepts([Path(n) for n in compose_files(directory)], cwd=directory, env={})
    if invalid_input(case):
        assert report["fix"]["reason"] == "nothing-to-fix" and snapshot(directory) == original
        assert not ok
        return
    assert ok, (report["fix"]["diff"], words)
    assert "compose-invalid" not in {f["id"] for f in report["findings"] if f["status"] == "fail"}
    for name in compose_files(directory):
        assert strict_problem((directory / name).read_text()) is None
    before = snapshot(directory)
    _, again = fix(cli, directory, "--yes", "--target-os", target_os)
    assert again["fix"]["reason"] == "nothing-to-fix", again["fix"]["diff"]
    assert snapshot(directory) == before


def test_quick_start_example_gets_one_top_level_volumes_key(cli: Cli, tmp_path: Path) -> None:
    directory = tmp_path / "macos-host-socket"
    shutil.copytree(EXAMPLES / "macos-host-socket", directory)
    code, report = fix(cli, directory, "--yes", "--target-os", "macos")
    text = (directory / "compose.yaml").read_text()
    assert [line for line in text.splitlines() if line.startswith("volumes:")] == ["volumes:"]
    assert text.endswith("volumes:\n  db_socket:\n    driver: local\n  db_data:\n    driver: local\n")
    assert code == 0 and report["fix"]["applied"] is True


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("fix-top-volumes-block", "volumes:\n  cache:\n    labels:\n      purpose: \"scratch\"\n"
                     "  db_socket:\n    driver: local\n  db_data:\n    driver: local\n"
                     "  # the cache is thrown away on every deploy\n", id="block"),
        pytest.param("fix-top-volumes-flow", "volumes: {cache: {}, db_socket: {driver: local}, db_data: {driver: local}}\n",
                     id="flow"),
        pytest.param("fix-top-volumes-flow-empty", "volumes: {db_socket: {driver: local}, db_data: {driver: local}}\n",
                     id="flow-empty"),
        pytest.param("fix-top-volumes-empty", "volumes:\n  db_socket:\n    driver: local\n  db_data:\n    driver: local\n\n"
                     "x-notes:", id="empty"),
        pytest.param("fix-top-volumes-null", "volumes:  # none yet\n    db_socket:\n        driver: local\n"
                     "    db_data:\n        driver: local\n", id="null-four-spaces"),
    ],
)  # fmt: skip
def test_declarations_merge_into_the_existing_volumes_key(cli: Cli, tmp_path: Path, case: str, expected: str) -> None:
    directory = project_copy(tmp_path, case)
    fix(cli, directory, "--yes", "--target-os", "macos")
    text = (directory / "compose.yaml").read_text()
    assert expected in text
    assert sum(1 for line in text.splitlines() if line.startswith("volumes:")) == 1


def test_every_service_on_the_socket_folder_moves_to_the_volume(cli: Cli, tmp_path: Path) -> None:
    """reports reaches PostgreSQL through ODBC, which the doctor does not read as a libpq client;
    it shares the host folder, so it must move with the others or lose the socket."""
    require(composev2.binary() is not None, composev2.why_unavailable() or "no Compose v2")
    directory = project_copy(tmp_path, "fix-odbc-client")
    _, report = fix(cli, directory, "--yes", "--target-os", "linux")
    assert report["fix"]["applied"] is True
    model = composev2.config([Path("compose.yaml")], cwd=directory, env={})
    mounts = {
        name: [(v["type"], v.get("source"), v["target"]) for v in service["volumes"] if v["type"] != "bind"]
        for name, service in model["services"].items()
    }
    assert mounts == {
        "database": [("volume", "db_socket", "/var/run/postgresql")],
        "backend": [("volume", "db_socket", "/var/run/postgresql")],
        "reports": [("volume", "db_socket", "/run/pgsocket")],
    }
    reports = next(v for v in model["services"]["reports"]["volumes"] if v["target"] == "/run/pgsocket")
    assert reports.get("read_only") is True and "bind" not in reports  # the engine refuses bind options on a volume
    assert (directory / "odbc.ini").read_text().startswith("[reports]")  # its own bind stays


def test_a_plan_that_would_write_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    """The strict re-check is the last guard: a planner slip that repeats a top-level key must
    never reach the disk (Compose v2 refuses such a file; PyYAML keeps the last key silently)."""
    directory = project_copy(tmp_path, "guide-incorrect")
    original = (directory / "compose.yaml").read_bytes()
    ctx = build_context(Options(project_directory=directory, offline=True, target_os="macos"), environ={})
    plan = plan_fixes(ctx)
    assert plan is not None
    plan.editor._insert("compose.yaml", len(plan.editor.lines["compose.yaml"]), ["services: {}\n"])
    with pytest.raises(FixRefused, match="services"):
        apply(plan)
    assert (directory / "compose.yaml").read_bytes() == original
    assert sorted(p.name for p in directory.iterdir()) == ["compose.yaml"]


SERVICES = "services:\n  db:\n    image: postgres:16\n"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(SERVICES, SERVICES + "\nvolumes:\n  db_socket:\n    driver: local\n  db_data:\n    driver: local\n",
                     id="absent"),
        pytest.param(SERVICES.rstrip("\n"), SERVICES + "\nvolumes:\n  db_socket:\n    driver: local\n  db_data:\n"
                     "    driver: local\n", id="absent-no-final-newline"),
        pytest.param(SERVICES + "volumes:", SERVICES + "volumes:\n  db_socket:\n    driver: local\n  db_data:\n"
                     "    driver: local\n", id="empty-no-final-newline"),
        pytest.param(SERVICES + "volumes: null\n", SERVICES + "volumes:\n  db_socket:\n    driver: local\n  db_data:\n"
                     "    driver: local\n", id="null"),
        pytest.param(SERVICES + "volumes: { }\n", SERVICES + "volumes: { db_socket: {driver: local}, db_data: {driver: "
                     "local}}\n", id="flow-empty-spaced"),
        pytest.param(SERVICES + "volumes: {\n  a: {},\n}\n", SERVICES + "volumes: {\n  a: {},\ndb_socket: {driver: "
                     "local}, db_data: {driver: local}}\n", id="flow-multiline-trailing-comma"),
        pytest.param(SERVICES + "volumes:\n    a:\n        driver: local\n", SERVICES + "volumes:\n    a:\n        "
                     "driver: local\n    db_socket:\n      driver: local\n    db_data:\n      driver: local\n",
                     id="block-own-indent"),
        pytest.param((SERVICES + "volumes:\n  a: |\n    text\n\n").replace("\n", "\r\n"),
                     (SERVICES + "volumes:\n  a: |\n    text\n  db_socket:\n    driver: local\n  db_data:\n    driver: "
                      "local\n\n").replace("\n", "\r\n"), id="block-scalar-crlf"),
        pytest.param("---\n" + SERVICES + "...\n", None, id="document-end-by-hand"),
        pytest.param(SERVICES + "volumes:\n  - a\n", None, id="not-a-mapping-by-hand"),
        pytest.param("{services: {db: {image: x}}}\n", None, id="flow-document-by-hand"),
    ],
)  # fmt: skip
def test_declare_volume_forms(before: str, after: str | None) -> None:
    project = ComposeProject("p", "test", "/nowhere", ["compose.yaml"], texts={"compose.yaml": before})
    editor = ComposeEditor(project)
    declared = [editor.declare_volume("compose.yaml", name) for name in ("db_socket", "db_data", "db_socket")]
    result = editor.result()["compose.yaml"]
    if after is None:
        assert declared == [False, False, False] and result == before
        return
    assert declared == [True, True, True]
    assert result == after
    assert strict_problem(result) is None
