"""History is not the present: past log failures when the socket works now (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from checks.socket_vantage import Sight, Vantage, vantage_finding
from doctor.context import Context, Options
from doctor.engine.composetool import ComposeTool, default_tool
from doctor.history import file_waits, settle
from doctor.logscan import findings_for, scan_lines
from doctor.models import Finding, Status, TargetOS
from doctor.redact import Redactor
from doctor.rootcause import find_root_cause
from doctor.runner import run_checks
from tests.checks.test_runtime_rules import project

PODMAN_COMPOSE = ComposeTool("podman-compose", "1.0.3", "podman-compose", False, "io.podman.compose.* labels")
COMPOSE_V2 = ComposeTool("compose-v2", "2.29.7", "docker compose", True, "com.docker.compose.version=2.29.7")
HOST_UP = Sight(Vantage.HOST, True, "PostgreSQL answered")
WORKS = vantage_finding([HOST_UP, Sight(Vantage.CLIENT, True, "pg_isready: accepting", "backend")])
DOWN = vantage_finding([Sight(Vantage.HOST, False, "no socket"), Sight(Vantage.CLIENT, False, "no socket", "backend")])
ONLY_SERVER = vantage_finding([HOST_UP, Sight(Vantage.CLIENT, None, "not running", "backend")])


def enoent(source: str) -> Finding:
    """What the log classifier makes of a client's two ENOENT lines."""
    lines = [
        f'2026-01-01T09:12:0{second} connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
        "No such file or directory"
        for second in (1, 3)
    ]
    (finding,) = findings_for(scan_lines(lines, source))
    return finding


def test_the_vantage_findings_are_what_the_cases_say() -> None:
    assert (WORKS.status, DOWN.status, ONLY_SERVER.status) == (Status.OK, Status.FAIL, Status.OK)


@pytest.mark.parametrize(
    ("vantage", "tool", "waits", "status", "says"),
    [
        pytest.param(WORKS, PODMAN_COMPOSE, True, Status.INFO, "podman-compose ignores that condition", id="podman-compose-ignored-wait"),
        pytest.param(WORKS, COMPOSE_V2, True, Status.INFO, "started before the database was ready, or a restart", id="compose-v2"),
        pytest.param(WORKS, PODMAN_COMPOSE, False, Status.INFO, "started before the database was ready, or a restart", id="no-wait-in-file"),
        pytest.param(DOWN, PODMAN_COMPOSE, True, Status.FAIL, "", id="socket-down-is-present"),
        pytest.param(ONLY_SERVER, COMPOSE_V2, True, Status.FAIL, "", id="no-client-asked-is-not-everywhere"),
    ],
)  # fmt: skip
def test_past_failures_when_the_socket_works_now(
    vantage: Finding, tool: ComposeTool, waits: bool, status: Status, says: str
) -> None:
    settled = settle([enoent("app-backend-1"), vantage], tool, waits)
    log = settled[0]
    assert log.status is status
    if status is Status.INFO:
        assert log.id == "log-failures-past"
        assert "2026-01-01T09:12:01 to 2026-01-01T09:12:03" in log.title  # the time span stays
        assert says in log.detail
        assert find_root_cause(settled) is None
    else:
        assert log.id == "log-backend-cannot-connect"


def test_the_runner_settles_history_after_every_check() -> None:
    def logs(ctx: Context) -> Iterator[Finding]:
        yield enoent("app-backend-1")

    def vantage(ctx: Context) -> Iterator[Finding]:
        yield WORKS

    ctx = Context(Options(), TargetOS.LINUX, "test", None, {}, Redactor())
    checks = [
        SimpleNamespace(ID="container-logs", SUMMARY="", run=logs),
        SimpleNamespace(ID="socket-vantage", SUMMARY="", run=vantage),
    ]
    findings = run_checks(ctx, checks)
    assert [(f.id, f.status, f.check) for f in findings] == [
        ("log-failures-past", Status.INFO, "container-logs"),
        ("socket-vantage", Status.OK, "socket-vantage"),
    ]
    assert ctx.compose_tool == default_tool("docker")


@pytest.mark.parametrize(
    ("case", "waits"),
    [pytest.param("guide-correct", True, id="waits"), pytest.param("backend-start-order-fail", False, id="no-wait")],
)
def test_file_waits(case: str, waits: bool) -> None:
    assert file_waits(project(case)) is waits


def test_conflict_lists_each_finding_once() -> None:
    cause = find_root_cause([WORKS, enoent("a"), enoent("b")])
    assert cause is not None and cause.findings.count("log-backend-cannot-connect") == 1
