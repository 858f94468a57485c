"""Titles are for people: with every finding's title and detail rewritten to nonsense, the root
cause, the next step, history, the remedies, the skip reasons, the bundle's log sources and the
JSON facts stay exactly the same. The findings are the checks' own, over every fixture project
on both target OSes, the recorded example logs, and live answers shaped as the engine sends them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from checks import CHECKS
from checks.containers import find_drift, state_findings
from checks.engine_volumes import WantedVolume, find_volume_problems
from checks.socket_vantage import Sight, Vantage, vantage_finding
from doctor import catalog
from doctor.bundle import LOG_IDS
from doctor.catalog import RemedyKind
from doctor.context import Options, build_context
from doctor.engine.composetool import ComposeTool
from doctor.history import settle, works_everywhere
from doctor.logscan import findings_for, scan_lines
from doctor.models import Finding, Status, TargetOS, facts_dict
from doctor.render.verdict import skip_reasons
from doctor.rootcause import find_root_cause
from doctor.runner import run_checks
from tests.checks.test_runtime_rules import bind, container, project, volume
from tests.conftest import FIXTURES, REPO

PODMAN_COMPOSE = ComposeTool("podman-compose", "1.0.3", "podman-compose", False, "io.podman.compose.* labels")
EXAMPLE = REPO / "examples" / "macos-host-socket"
PROJECTS = sorted(path for path in (FIXTURES / "compose").iterdir() if path.is_dir())


def checked(directory: Path, target_os: str, *logs: Path, stack: str | None = None) -> list[Finding]:
    options = Options(
        project_directory=directory,
        target_os=target_os,
        offline=True,
        log_files=tuple(str(log) for log in logs),
        stack=stack,
    )
    return run_checks(build_context(options, environ={"HOME": "/home/op"}), CHECKS)


def logged(lines: list[str], source: str) -> list[Finding]:
    return list(findings_for(scan_lines(lines, source)))


RUNNING = {"Status": "running"}
KILLED = {"Status": "exited", "ExitCode": 137, "FinishedAt": "2026-01-01T09:12:00Z"}
REFUSED = ['2026-01-01T09:12:04 connection to server on socket "/run/pg/.s.PGSQL.5432" failed: Connection refused']
ENOENT = [
    '2026-01-01T09:12:01 connection to server on socket "/run/pg/.s.PGSQL.5432" failed: No such file or directory'
]
SSHFS = ['2026-01-01 09:12:03 UTC LOG:  could not bind Unix address "/s/.s.PGSQL.5432": Operation not permitted',
         "2026-01-01 09:12:03 UTC FATAL:  could not create any Unix-domain sockets"]  # fmt: skip
CHOWN = ["chown: changing ownership of '/var/lib/postgresql/data': Operation not permitted"]
HOST = Sight(Vantage.HOST, True, "PostgreSQL answered")


def live_cases() -> list[Any]:
    """Live answers as the engine gives them, with the files they go with."""
    drift = {"database": container("database", RUNNING, mounts=[volume("guide-correct_db_socket")]),
             "backend": container("backend", RUNNING, mounts=[bind("/Users/me/s")])}  # fmt: skip
    killed = container("database", KILLED)
    socket_volume = WantedVolume("db_socket", "app_db_socket", "socket", external=False)
    return [
        pytest.param([*state_findings(killed, ("podman-compose -p app up -d database",), server=True),
                      *logged(REFUSED, "app-backend-1"),
                      vantage_finding([Sight(Vantage.HOST, False, "refused"), Sight(Vantage.CLIENT, False, "", "backend")])],
                     None, id="killed-database-stale-socket"),
        pytest.param([*checked(FIXTURES / "compose" / "guide-correct", "macos"),
                      *find_drift(project("guide-correct"), drift, "docker", "docker compose", TargetOS.MACOS)],
                     None, id="file-right-running-drifted"),
        pytest.param([*logged(ENOENT, "app-backend-1"), *logged(SSHFS, "app-database-1"),
                      vantage_finding([HOST, Sight(Vantage.CLIENT, True, "accepting", "backend")])],
                     PODMAN_COMPOSE, id="history-when-it-works-now"),
        pytest.param([vantage_finding([HOST, Sight(Vantage.CLIENT, False, "no socket", "backend", "node-2")],
                                      stack=True, db_node="node-1")],
                     None, id="stack-not-shared"),
        pytest.param([*checked(FIXTURES / "compose" / "guide-incorrect", "macos"), *logged(CHOWN, "app-database-1"),
                      *find_volume_problems([socket_volume], [], "app", True, TargetOS.MACOS)],
                     None, id="volume-missing-and-data-chown"),
        pytest.param([*state_findings(container("database", {"Status": "running", "Restarting": True}))],
                     None, id="restarting"),
    ]  # fmt: skip


def scrambled(findings: list[Finding]) -> list[Finding]:
    return [
        dataclasses.replace(f, title=f"zzz {n} (qq)", detail=f"Cause (nonsense): {n}") for n, f in enumerate(findings)
    ]


def reading(findings: list[Finding], tool: ComposeTool | None = None) -> dict[str, Any]:
    """Everything the doctor derives from findings, except the text that shows titles."""
    settled = settle(findings, tool, file_waits=True)
    cause = find_root_cause(settled)
    return {
        "root_cause": None if cause is None else dataclasses.astuple(cause),
        "ids": [(f.id, f.status) for f in settled],
        "remedies": [f.remedy for f in settled],
        "facts": [facts_dict(f.facts) for f in settled],
        "works_everywhere": works_everywhere(settled),
        "skip_reasons": skip_reasons([f for f in settled if f.status is Status.SKIP]),
        "log_sources": sorted({f.facts.log or "" for f in settled if f.id in LOG_IDS}),
    }


def assert_title_blind(findings: list[Finding], tool: ComposeTool | None = None) -> dict[str, Any]:
    assert {f.id for f in findings} <= set(catalog.ids())
    # What the catalog says of each id holds for the findings made: no remedy where it has none.
    assert all(f.remedy is None for f in findings if catalog.get(f.id).remedy is RemedyKind.NONE)
    normal = reading(findings, tool)
    assert reading(scrambled(findings), tool) == normal
    return normal


@pytest.mark.parametrize("target_os", ["linux", "macos"])
@pytest.mark.parametrize("directory", PROJECTS, ids=[p.name for p in PROJECTS])
def test_fixture_projects_read_facts_not_titles(directory: Path, target_os: str) -> None:
    assert_title_blind(checked(directory, target_os))


@pytest.mark.parametrize("stack", ["stack-placement-fail", "stack-database-replicas-fail", "stack-placement-pass"])
def test_stack_projects_read_facts_not_titles(stack: str) -> None:
    assert_title_blind(checked(FIXTURES / "compose" / stack, "linux", stack="st1"))


def test_the_recorded_logs_read_facts_not_titles() -> None:
    logs = (EXAMPLE / "logs" / "database.log", EXAMPLE / "logs" / "backend.log")
    normal = assert_title_blind(checked(EXAMPLE, "macos", *logs))
    assert normal["root_cause"][1][:2] == ("socket-host-path", "log-socket-create-failed")
    assert normal["log_sources"] == ["backend.log", "database.log"]


@pytest.mark.parametrize(("findings", "tool"), live_cases())
def test_live_answers_read_facts_not_titles(findings: list[Finding], tool: ComposeTool | None) -> None:
    normal = assert_title_blind(findings, tool)
    assert normal["root_cause"] is not None or normal["works_everywhere"]


def test_the_scramble_reaches_what_titles_used_to_decide() -> None:
    """The cases above would catch a title read: these results once came from titles."""
    readings = [reading(param.values[0], param.values[1]) for param in live_cases()]
    assert readings[0]["root_cause"][2].startswith("Restart database")  # the killed database, from its exit code
    assert readings[1]["root_cause"][3] is True  # a conflict: the file is right, the containers drifted
    assert readings[2]["works_everywhere"] and ("log-failures-past", Status.INFO) in readings[2]["ids"]
    assert readings[3]["facts"][0]["vantage"] == "not-shared" and readings[3]["facts"][0]["services"] == ["backend"]
    assert readings[3]["remedies"][0].summary.startswith("Run the database and its socket clients on one node")
