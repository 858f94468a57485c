"""The Compose fixtures as the checks see them: a project, a context on a target OS, and the
verdicts (finding id, status) a check gives; the per-check test modules share these."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from doctor.compose.model import ComposeProject
from doctor.compose.project import load_project
from doctor.context import Context, Options, build_context
from doctor.models import Finding, Status
from tests.conftest import FIXTURES

COMPOSE = FIXTURES / "compose"
# The operator's environment for every fixture: ${HOME} in socket-host-path-override.
ENVIRON = {"HOME": "/home/op"}


def fixture(case: str) -> Path:
    return COMPOSE / case


def project(case: str) -> ComposeProject:
    loaded = load_project(fixture(case), environ=ENVIRON)
    assert loaded is not None, f"no Compose file in {case}"
    return loaded


def context(case: str, target_os: str = "linux") -> Context:
    return build_context(Options(project_directory=fixture(case), target_os=target_os, offline=True), environ=ENVIRON)


def verdicts(findings: Iterable[Finding]) -> list[tuple[str, Status]]:
    return [(f.id, f.status) for f in findings]
