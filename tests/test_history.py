"""History is not the present: past log failures when the socket works now (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from doctor.context import Context, Options
from doctor.engine.composetool import ComposeTool, default_tool
from doctor.history import WORKS_EVERYWHERE, file_waits, settle
from doctor.models import Evidence, Finding, Remedy, Status
from doctor.redact import Redactor
from doctor.rootcause import find_root_cause
from doctor.runner import run_checks
from tests.checks.test_runtime_rules import project

PODMAN_COMPOSE = ComposeTool("podman-compose", "1.0.3", "podman-compose", False, "io.podman.compose.* labels")
COMPOSE_V2 = ComposeTool("compose-v2", "2.29.7", "docker compose", True, "com.docker.compose.version=2.29.7")
WORKS = Finding("socket-vantage", Status.OK, WORKS_EVERYWHERE)
DOWN = Finding("socket-vantage", Status.FAIL, "Server down: nothing answers on the socket from any vantage point")
ONLY_SERVER = Finding("socket-vantage", Status.OK, "The server answers on its socket (no client could be asked)")


def enoent(source: str) -> Finding:
    return Finding(
        "log-backend-cannot-connect",
        Status.FAIL,
        f"The backend cannot connect to PostgreSQL over the socket: no socket file where it looks (2 line(s) in "
        f"{source}, 2026-01-01T09:12:01 to 2026-01-01T09:12:03)",
        "Cause (enoent): no socket file where the client looks.",
        (Evidence(f"{source}:3", "connection to server on socket ... failed: No such file or directory"),),
        Remedy("Mount the database's socket volume in the backend."),
    )


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

    ctx = Context(Options(), "linux", "test", None, {}, Redactor())
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
