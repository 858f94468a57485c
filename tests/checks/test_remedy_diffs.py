"""The diffs the doctor prints are real: applied with patch(1), they turn a failing fixture into
one that passes, and they leave comments and every other line as they were."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXABLE, FIXTURES, require

COMPOSE = FIXTURES / "compose"


def report(cli: object, directory: Path, target_os: str) -> dict:  # type: ignore[type-arg]
    result = cli("--project-directory", str(directory), "--target-os", target_os, "--format", "json", "--offline")  # type: ignore[operator]
    return json.loads(result.out)


def apply(diff: str, directory: Path) -> None:
    require(shutil.which("patch") is not None, "patch(1) is missing (apt-get install patch)")
    subprocess.run(["patch", "-p1", "--no-backup-if-mismatch"], input=diff.encode(), cwd=directory, check=True,
                   capture_output=True, timeout=10)  # fmt: skip


@pytest.mark.parametrize(("case", "finding_id"), FIXABLE)
def test_diff_fixes_the_fixture(cli: object, tmp_path: Path, case: str, finding_id: str) -> None:
    project = tmp_path / case
    shutil.copytree(COMPOSE / case, project)
    before = report(cli, project, "macos")
    finding = next(f for f in before["findings"] if f["id"] == finding_id)
    assert finding["remedy"]["diff"], finding
    apply(finding["remedy"]["diff"], project)
    after = report(cli, project, "macos")
    remaining = [f["id"] for f in after["findings"] if f["id"] == finding_id and f["status"] in ("warn", "fail")]
    assert remaining == []
    assert after["status"] != "fail", after["findings"]


def test_guide_incorrect_becomes_the_guide_correct(cli: object, tmp_path: Path) -> None:
    project = tmp_path / "guide"
    shutil.copytree(COMPOSE / "guide-incorrect", project)
    finding = next(f for f in report(cli, project, "macos")["findings"] if f["id"] == "socket-host-path")
    apply(finding["remedy"]["diff"], project)
    text = (project / "compose.yaml").read_text()
    assert "- db_socket:/var/run/postgresql  # ❌ Host path mount" in text  # comments survive
    assert "- db_socket:/var/run/postgresql:rw" in text
    assert text.rstrip().endswith("volumes:\n  db_socket:\n    driver: local")
    after = report(cli, project, "macos")
    assert "socket-volume-ok" in {f["id"] for f in after["findings"]}
    assert not [f for f in after["findings"] if f["status"] == "fail"]


def test_doctor_never_edits_the_files(cli: object, tmp_path: Path) -> None:
    project = tmp_path / "guide"
    shutil.copytree(COMPOSE / "guide-incorrect", project)
    original = (project / "compose.yaml").read_bytes()
    report(cli, project, "macos")
    assert (project / "compose.yaml").read_bytes() == original
    assert sorted(p.name for p in project.iterdir()) == ["compose.yaml"]
