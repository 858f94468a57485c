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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    if project.missing_required:
        # Compose interpolates first and stops at the variable: what its blank would break later
        # (an image of "") is not part of the verdict.
        assert project.problems == [], project.problems
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


# Compose files built from values that are right, wrong or borderline at the keys the doctor
# reads, with a duplicated line or a tab before a comment now and then. Compose v2 judges each.
FIELDS = {
    "image": ["postgres:16", "''", "5", "[x]", "~", "${IMG:-x}", "${IMG}"],
    "command": ["sleep 5", "[sleep, '5']", "[sleep, 5]", "5", "~", "{a: 1}"],
    "environment": ["{A: 1}", "[A=1]", "[A=1, A=1]", "A=1", "~", "{A: [1]}", "[1]", "{A: ~}", "{A: yes}",
                    "{A: 2001-02-30}", "{1: a}", "[A]", "{A: '${B:-${C:-d}}'}"],
    "volumes": ["[db:/var/run/postgresql]", "['./s:/run/postgresql:ro']", "[{type: volume, source: db, target: /x}]",
                "[{type: bind, target: /x}]", "/x", "[5]", "['']", "[':/x']", "[{type: tmpfs, target: /t}]",
                "[{type: volume, source: other, target: /x}]", "[{source: db, target: /x}]", "[data]", "['a:b:c:d']",
                "[{type: volume, source: db, target: /x, read_only: maybe}]", "['c:/data:/data']"],
    "depends_on": ["[b]", "[b, b]", "{b: {condition: service_healthy}}", "{b: {condition: nope}}", "b", "[c]", "{b: ~}", "[a]"],
    "healthcheck": ["{test: [CMD, 'true'], interval: 10s}", "{test: 5}", "{interval: 10}", "{interval: '10'}",
                    "{retries: '3'}", "{retries: x}", "{disable: yes}", "x", "{test: [NONE]}", "{foo: 1}"],
    "ports": ["['80:80']", "[80:80]", "[80]", "['abc']", "['80/xyz']", "[{target: 80}]", "'80:80'", "['127.0.0.1:80:80']",
              "['[::1]:80:80']", "['8000-8001:8000-8001']", "[{target: http}]"],
    "privileged": ["true", "yes", "'maybe'", "1", "'on'"],
    "restart": ["always", "no", "5"],
    "profiles": ["[p]", "p"],
    "x-custom": ["{a: 1}", "2001-02-30"],
    "unknown": ["1"],
    "networks": ["[front]", "[default]", "{front: {}}", "[other]"],
    "stop_grace_period": ["10s", "10", "'10'", "1m30s"],
    "env_file": ["[{path: missing.env, required: false}]"],
    "secrets": ["[s]", "[other]"],
    "build": [".", "{context: .}", "5"],
    "extends": ["b", "{service: b}", "{service: b, file: other.yaml}"],
}  # fmt: skip
TOP = {
    "volumes": ["{db: {}}", "{db: ~}", "[]", "~", "{db: {external: yes}}", "{db: {name: 5}}", "{db: x}"],
    "networks": ["{front: {}}", "[front]"],
    "secrets": ["{s: {file: ./s.txt}}"],
    "name": ["proj", "5", "Proj"],
    "version": ["'3.8'", "3"],
    "x-date": ["2001-02-30", "!!timestamp 2001-02-30"],
    "include": ["[other.yaml]"],
}


@st.composite
def compose_texts(draw: st.DrawFn) -> str:
    def service(name: str, keys: list[str]) -> list[str]:
        return [f"  {name}:", *(f"    {key}: {draw(st.sampled_from(FIELDS[key]))}" for key in keys)]

    keys = draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=4, unique=True))
    lines = ["services:", *service("a", ["image", *keys] if draw(st.booleans()) else keys)]
    if draw(st.booleans()):
        extra = st.sampled_from(["image", "profiles", "depends_on", "healthcheck"])
        lines += service("b", draw(st.lists(extra, max_size=2, unique=True)) or ["image"])
    for key in draw(st.lists(st.sampled_from(sorted(TOP)), max_size=3, unique=True)):
        lines.append(f"{key}: {draw(st.sampled_from(TOP[key]))}")
    twist = draw(st.sampled_from(["none", "none", "duplicate", "tab"]))
    at = draw(st.integers(1, len(lines) - 1))
    if twist == "duplicate":
        lines.insert(at + 1, lines[at])
    elif twist == "tab":
        lines[at] += "\t# a tab before the comment"
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(compose_texts())
def test_the_doctor_and_compose_v2_agree_on_generated_files(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    require(composev2.binary() is not None, composev2.why_unavailable() or "")
    folder = tmp_path_factory.mktemp("generated")
    (folder / "compose.yaml").write_text(text)
    accepted, words = composev2.accepts([folder / "compose.yaml"], cwd=folder, env={"HOME": str(folder)})
    project = _doctor(folder)
    refusals = [f"{p.origin}: {p.message}" for p in project.problems] + [m for _, m, _ in project.missing_required]
    assert (refusals == []) == accepted, f"Compose v2: {words or 'accepts'}; the doctor: {refusals or 'accepts'}"


def test_an_entry_compose_accepts_but_the_doctor_cannot_model_is_an_info(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: postgres\n    volumes:\n      - v:data\n")
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json")
    findings = {f["id"]: f for f in json.loads(result.out)["findings"]}
    assert "compose-invalid" not in findings
    assert findings["compose-not-followed"]["status"] == "info"
    assert findings["compose-not-followed"]["title"].startswith("compose.yaml:5: ")
    assert "not an absolute path" in findings["compose-not-followed"]["title"]


PROFILED = "services:\n  a:\n    image: x\n  b:\n    profiles: [debug]\n    depends_on: [c]\n"
TYPED = "services:\n  a:\n    image: x\n    privileged: ${P}\n    healthcheck:\n      retries: ${R:-3}\n"


@pytest.mark.parametrize(
    ("text", "env", "valid"),
    [
        pytest.param(PROFILED, {}, True, id="inactive-profile-is-not-judged"),
        pytest.param(PROFILED, {"COMPOSE_PROFILES": "debug"}, False, id="active-profile-is-judged"),
        pytest.param(PROFILED, {"COMPOSE_PROFILES": "*"}, False, id="all-profiles"),
        pytest.param(TYPED, {"P": "true"}, True, id="cast-from-a-variable"),
        pytest.param(TYPED, {"P": "yes", "R": "5"}, True, id="yaml-1.1-boolean-from-a-variable"),
        pytest.param(TYPED, {"P": "maybe"}, False, id="variable-that-does-not-cast"),
        pytest.param(TYPED, {}, False, id="unset-variable-casts-from-blank"),
        pytest.param(TYPED, {"P": "true", "R": "x"}, False, id="integer-that-is-not"),
    ],
)
def test_verdicts_that_depend_on_the_environment(tmp_path: Path, text: str, env: dict[str, str], valid: bool) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    project = load_project(tmp_path, environ={"HOME": str(tmp_path), **env})
    assert project is not None
    assert (project.problems == []) == valid
    require(composev2.binary() is not None, composev2.why_unavailable() or "")
    accepted, words = composev2.accepts([tmp_path / "compose.yaml"], cwd=tmp_path, env={"HOME": str(tmp_path), **env})
    assert accepted == valid, f"Compose v2 says: {words or 'ok'}"
