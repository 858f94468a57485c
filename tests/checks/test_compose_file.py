"""compose-file, one table row per rule: the files parse and have Compose's shape
(compose-invalid), required variables are set (compose-variable-required), unset ones are
said (compose-variable-unset), a PostgreSQL service exists (compose-no-database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks import compose_file
from doctor.context import Options, build_context
from doctor.models import Status
from tests.checks.projects import context, project, verdicts

OK = ("compose-file", Status.OK)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("compose-invalid-pass", [OK], id="invalid-pass"),
        pytest.param("compose-invalid-fail", [("compose-invalid", Status.FAIL)], id="invalid-fail"),
        pytest.param("compose-invalid-syntax", [("compose-invalid", Status.FAIL)], id="invalid-syntax"),
        pytest.param("compose-invalid-volume-entry", [("compose-invalid", Status.FAIL)], id="invalid-volume-entry"),
        pytest.param("compose-variable-required-pass", [OK], id="required-pass"),
        # Compose stops at the variable: the ":/var/run/postgresql" its blank leaves is not judged.
        pytest.param(
            "compose-variable-required-fail", [("compose-variable-required", Status.FAIL)], id="required-fail"
        ),
        pytest.param("compose-variable-unset-fail", [("compose-variable-unset", Status.INFO), OK], id="unset-fail"),
        pytest.param("compose-no-database-fail", [("compose-no-database", Status.WARN), OK], id="no-database-fail"),
        pytest.param("guide-correct", [OK], id="no-database-pass"),
    ],
)
def test_run(case: str, expected: list[tuple[str, Status]]) -> None:
    assert verdicts(compose_file.run(context(case))) == expected


@pytest.mark.parametrize(
    ("case", "problems"),
    [
        pytest.param("compose-invalid-pass", 0, id="pass"),
        pytest.param("compose-invalid-fail", 1, id="fail"),
        pytest.param("compose-invalid-syntax", 1, id="syntax"),
        pytest.param("socket-volume-undeclared-fail", 2, id="undeclared-volume"),
    ],
)
def test_find_invalid_gives_one_fail_per_problem(case: str, problems: int) -> None:
    loaded = project(case)
    found = list(compose_file.find_invalid(loaded))
    assert verdicts(found) == [("compose-invalid", Status.FAIL)] * problems
    assert [f.evidence[0].text for f in found] == [p.message for p in loaded.problems]


@pytest.mark.parametrize(
    ("case", "variables"),
    [
        pytest.param("compose-variable-required-pass", [], id="pass"),
        pytest.param("compose-variable-required-fail", ["SOCKET_VOLUME"], id="fail"),
    ],
)
def test_find_missing_required(case: str, variables: list[str]) -> None:
    found = list(compose_file.find_missing_required(project(case)))
    assert verdicts(found) == [("compose-variable-required", Status.FAIL)] * len(variables)
    assert [f.evidence[0].text for f in found] == [f"${{{v}?...}} / ${{{v}:?...}}" for v in variables]


@pytest.mark.parametrize(
    ("case", "variables"),
    [
        pytest.param("guide-correct", [], id="pass"),
        pytest.param("compose-variable-unset-fail", ["$BACKEND_TAG"], id="fail"),
    ],
)
def test_find_unset_variables(case: str, variables: list[str]) -> None:
    found = list(compose_file.find_unset_variables(project(case)))
    assert verdicts(found) == [("compose-variable-unset", Status.INFO)] * len(variables)
    assert [e.text for f in found for e in f.evidence] == variables
    assert [e.source for f in found for e in f.evidence] == ["compose.yaml:9"] * len(variables)


@pytest.mark.parametrize(
    ("include", "expected"),
    [
        pytest.param("./more.yaml", [], id="local-include-is-followed"),
        pytest.param("oci://registry.example.com/shop/compose:1", ["compose.yaml:2"], id="remote-include"),
    ],
)
def test_a_remote_include_is_said_not_followed(tmp_path: Path, include: str, expected: list[str]) -> None:
    # Not a shared fixture: Compose v2, the oracle of every fixture, would try to fetch it.
    (tmp_path / "compose.yaml").write_text(f"include:\n  - {include}\nservices:\n  database:\n    image: postgres:16\n")
    (tmp_path / "more.yaml").write_text("services: {}\n")
    ctx = build_context(Options(project_directory=tmp_path, offline=True), environ={})
    found = [f for f in compose_file.run(ctx) if f.id == "compose-not-followed"]
    assert [(f.status, f.evidence[0].source) for f in found] == [(Status.INFO, where) for where in expected]
