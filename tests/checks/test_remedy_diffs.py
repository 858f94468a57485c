"""The diffs the doctor prints are real: applied with patch(1), they turn a failing fixture into
one that passes, and they leave comments and every other line as they were."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from lab import composev2
from tests.conftest import FIXABLE, FIXTURES, Cli, require

COMPOSE = FIXTURES / "compose"


def report(cli: Cli, directory: Path, target_os: str) -> dict[str, Any]:
    result = cli("--project-directory", str(directory), "--target-os", target_os, "--format", "json", "--offline")
    return cast("dict[str, Any]", json.loads(result.out))


def apply(diff: str, directory: Path) -> None:
    require(shutil.which("patch") is not None, "patch(1) is missing (apt-get install patch)")
    subprocess.run(["patch", "-p1", "--no-backup-if-mismatch"], input=diff.encode(), cwd=directory, check=True,
                   capture_output=True, timeout=10)  # fmt: skip


@pytest.mark.parametrize(("case", "finding_id"), FIXABLE)
def test_diff_fixes_the_fixture(cli: Cli, tmp_path: Path, case: str, finding_id: str) -> None:
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


def test_guide_incorrect_becomes_the_guide_correct(cli: Cli, tmp_path: Path) -> None:
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


def test_doctor_never_edits_the_files(cli: Cli, tmp_path: Path) -> None:
    project = tmp_path / "guide"
    shutil.copytree(COMPOSE / "guide-incorrect", project)
    original = (project / "compose.yaml").read_bytes()
    report(cli, project, "macos")
    assert (project / "compose.yaml").read_bytes() == original
    assert sorted(p.name for p in project.iterdir()) == ["compose.yaml"]


DIFF_CASES = sorted(
    {str(p.values[0]) for p in FIXABLE} | {p.name for p in COMPOSE.iterdir() if p.name.startswith("fix-")}
)


@pytest.mark.parametrize("case", DIFF_CASES)
def test_every_diff_gives_a_file_compose_v2_accepts(cli: Cli, tmp_path: Path, case: str) -> None:
    """Each finding's diff on its own (as a user applies the one they read) merges into the
    top-level volumes: that is there, so Compose v2 accepts the result."""
    require(composev2.binary() is not None, composev2.why_unavailable() or "no Compose v2")
    findings = [f for f in report(cli, COMPOSE / case, "macos")["findings"] if (f.get("remedy") or {}).get("diff")]
    assert findings, "the case has no diff to try"
    for finding in findings:
        project = tmp_path / f"{case}-{finding['id']}"
        shutil.copytree(COMPOSE / case, project)
        apply(finding["remedy"]["diff"], project)
        files = [Path(n) for n in ("compose.yaml", "compose.override.yaml") if (project / n).is_file()]
        ok, words = composev2.accepts(files, cwd=project, env={})
        assert ok, (finding["id"], finding["remedy"]["diff"], words)
