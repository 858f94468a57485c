"""The valid/invalid corpus, file by file: Docker Compose v2 itself proves each file's verdict,
and the doctor must reach the same one, with file:line and one sentence when it refuses.

tests/fixtures/compose-validity/valid/*.yaml and invalid/*.yaml are single files;
valid-projects/ and invalid-projects/ hold a compose.yaml with a compose.override.yaml, for
what only shows when files merge. Add a case by adding a file: both tests pick it up."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from doctor.compose.model import ComposeProject
from doctor.compose.project import load_project
from lab import composev2
from tests.conftest import require

CORPUS = Path(__file__).parent.parent / "fixtures" / "compose-validity"
FILES = sorted(CORPUS.glob("*/*.yaml"), key=lambda p: (p.parent.name, p.name))
PROJECTS = sorted(p for p in CORPUS.glob("*-projects/*") if p.is_dir())
CASES = [
    pytest.param(path, path.parent.name.startswith("valid"), id=f"{path.parent.name}/{path.stem}")
    for path in [*[f for f in FILES if f.parent.name in ("valid", "invalid")], *PROJECTS]
]


def _copy(case: Path, tmp_path: Path) -> list[Path]:
    """The case in a fresh folder (no stray .env, a stable project name); its files in order."""
    folder = tmp_path / "project"
    if case.is_dir():
        shutil.copytree(case, folder)
    else:
        folder.mkdir()
        shutil.copy(case, folder / "compose.yaml")
    return [p for p in (folder / "compose.yaml", folder / "compose.override.yaml") if p.exists()]


def _doctor(folder: Path) -> ComposeProject:
    project = load_project(folder, environ={"HOME": str(folder)})
    assert project is not None
    return project


def test_the_corpus_has_both_verdicts_of_every_kind() -> None:
    kinds = {path.parent.name for path in FILES} | {path.parent.name for path in PROJECTS}
    assert kinds == {"valid", "invalid", "valid-projects", "invalid-projects"}
    assert len(CASES) > 150


@pytest.mark.parametrize(("case", "valid"), CASES)
def test_compose_v2_gives_the_corpus_verdict(case: Path, valid: bool, tmp_path: Path) -> None:
    require(composev2.binary() is not None, composev2.why_unavailable() or "")
    files = _copy(case, tmp_path)
    accepted, words = composev2.accepts(files, cwd=files[0].parent, env={"HOME": str(tmp_path)})
    assert accepted == valid, f"Compose v2 says: {words or 'ok'}"


@pytest.mark.parametrize(("case", "valid"), CASES)
def test_the_doctor_gives_the_corpus_verdict(case: Path, valid: bool, tmp_path: Path) -> None:
    files = _copy(case, tmp_path)
    project = _doctor(files[0].parent)
    refusals = [*project.problems, *project.missing_required]
    if valid:
        assert refusals == []
        return
    assert refusals, "the doctor accepts a file Compose v2 refuses"
    for problem in project.problems:
        # file:line, and one sentence (no traceback, no multi-line dump).
        assert problem.origin.file in {f.name for f in files}
        assert problem.origin.line is not None and problem.origin.line >= 1
        assert "\n" not in problem.message and 0 < len(problem.message) < 400


def test_nesting_beyond_the_doctors_bound_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    """A deliberate difference (README, "Validity"): Compose reads variables nested 2,000 deep;
    the doctor stops at 100 and says so in a finding instead of exhausting Python's stack."""
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: " + "${A:-" * 2000 + "x" + "}" * 2000 + "\n")
    project = _doctor(tmp_path)
    assert [(str(p.origin), "nested more than 100 levels" in p.message) for p in project.problems] == [
        ("compose.yaml:3", True)
    ]


@pytest.mark.parametrize(
    ("text", "title", "detail"),
    [
        pytest.param(
            "services:\n  db:\n    image: postgres\nvolumes:\n  a: {}\nvolumes:\n  b: {}\n",
            'compose.yaml:6: mapping key "volumes" already defined at line 4',
            "docker compose would refuse",
            id="duplicate-key",
        ),
        pytest.param(
            "services:\n  db:\n    image: 5\n",
            "compose.yaml:3: services.db.image must be a string, not a number",
            "docker compose would refuse",
            id="wrong-type",
        ),
        pytest.param(
            "services:\n  db:\n    image: " + "${A:-" * 200 + "x" + "}" * 200 + "\n",
            "compose.yaml:3: variables are nested more than 100 levels deep",
            "safety limit",
            id="nesting-limit",
        ),
    ],
)
def test_the_finding_names_file_line_and_reason(cli: Any, tmp_path: Path, text: str, title: str, detail: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json")
    findings = [f for f in json.loads(result.out)["findings"] if f["id"] == "compose-invalid"]
    assert [f["title"][: len(title)] for f in findings] == [title]
    assert detail in findings[0]["detail"]
    assert result.code == 1


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("x-date: 2001-02-30\nservices:\n  db:\n    image: postgres\n", id="impossible-date"),
        pytest.param("services:\n  db:\n    image: postgres\t# a tab before the comment\n", id="tab-before-comment"),
    ],
)
def test_what_compose_accepts_reads_cleanly(cli: Any, tmp_path: Path, text: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json")
    ids = {f["id"]: f["status"] for f in json.loads(result.out)["findings"]}
    assert ids.get("compose-file") == "ok"
    assert "compose-invalid" not in ids
    assert "internal error" not in result.err
