"""The shipped JSON Schema describes every report: the whole fixture corpus, on both target
OSes, with logs and with --fix --dry-run, validates against it; the schema is what
`cultivate doctor --schema` prints; the fingerprint does not depend on reaching the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import FIXTURES, REPO, Cli

SCHEMA = json.loads((REPO / "doctor" / "schema" / "report.schema.json").read_text())
CORPUS = sorted(path for path in (FIXTURES / "compose").iterdir() if path.is_dir())
EXAMPLE = REPO / "examples" / "macos-host-socket"


def validate(report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(report)


def test_the_schema_is_a_valid_schema_and_is_what_the_cli_prints(cli: Cli) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    result = cli("--schema")
    assert result.code == 0
    assert json.loads(result.out) == SCHEMA


@pytest.mark.parametrize("project", CORPUS, ids=[path.name for path in CORPUS])
@pytest.mark.parametrize("target_os", ["linux", "macos"])
def test_every_report_of_the_corpus_validates(cli: Cli, project: Path, target_os: str) -> None:
    result = cli("--project-directory", str(project), "--target-os", target_os, "--offline", "--format", "json")
    report = json.loads(result.out)
    assert result.code == (1 if report["status"] == "fail" else 0), (report["status"], result.err)
    validate(report)
    assert report["command_line"].startswith("cultivate doctor --project-directory")


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(["--log-file", str(EXAMPLE / "logs" / "database.log"), "--log-file", str(EXAMPLE / "logs" / "backend.log")], id="logs"),
        pytest.param(["--fix", "--dry-run"], id="fix-dry-run"),
        pytest.param(["--docker-host", "unix:///nonexistent/docker.sock"], id="engine-down"),
    ],
)  # fmt: skip
def test_reports_with_logs_fix_and_engine_validate(cli: Cli, extra: list[str]) -> None:
    result = cli("--project-directory", str(EXAMPLE), "--target-os", "macos", "--format", "json", *extra)
    report = json.loads(result.out)
    validate(report)


def test_a_wrong_report_is_refused() -> None:
    # The schema can fail: a finding with a status outside the enum, a remedy with an unknown key.
    good: dict[str, object] = {
        "id": "socket-host-path",
        "check": "c",
        "status": "ok",
        "title": "t",
        "detail": "",
        "evidence": [],
        "remedy": None,
        "duration_ms": 1.0,
    }
    finding_schema = {"$defs": SCHEMA["$defs"], "$ref": "#/$defs/finding"}
    jsonschema.validate(good, finding_schema)
    for bad in (
        {**good, "status": "fine"},
        {**good, "remedy": {"summary": "s", "diff": "", "commands": [], "x": 1}},
        {**good, "id": "socket-host-pat"},  # an id outside the catalog
        {**good, "facts": {"exit_code": "1"}},
        {**good, "facts": {"title": "prose"}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, finding_schema)


@pytest.mark.parametrize("project", [EXAMPLE, REPO / "examples" / "correct"], ids=["broken", "correct"])
def test_fingerprint_is_the_same_offline_and_with_the_engine_down(cli: Cli, project: Path) -> None:
    args = ("--project-directory", str(project), "--target-os", "macos", "--format", "json")
    offline = json.loads(cli(*args, "--offline").out)
    down = json.loads(cli(*args, "--docker-host", "unix:///nonexistent/docker.sock").out)
    assert {f["id"] for f in down["findings"]} >= {"engine-unreachable"}
    assert offline["fingerprint"] == down["fingerprint"]
