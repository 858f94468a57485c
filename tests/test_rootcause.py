"""The root-cause statement: layers in order, fail before warn, conflicts named, not guessed."""

from __future__ import annotations

import pytest

from doctor.models import Evidence, Finding, Remedy, Status
from doctor.rootcause import find_root_cause


def finding(
    finding_id: str, status: Status = Status.FAIL, title: str = "", detail: str = "", source: str = ""
) -> Finding:
    evidence = (Evidence(source, "x"),) if source else ()
    return Finding(finding_id, status, title or finding_id, detail, evidence, Remedy(f"fix {finding_id}"))


GUIDE_CHAIN = [
    finding("log-backend-cannot-connect", detail="Cause (enoent): no socket file."),
    finding("container-not-running", title="database (app-db-1) is not running: exited, exit code 1"),
    finding("log-socket-create-failed", title="PostgreSQL could not create its Unix socket: its directory cannot hold sockets (14 events in db, 09:12:03 to 09:40:00)"),
    finding("socket-host-path", title="The socket directory /var/run/postgresql is the host folder /Users/me/s (database, backend)", source="compose.yaml:9"),
    finding("backend-start-order", Status.WARN),
]  # fmt: skip


def test_the_guide_failure_chains_file_to_connection() -> None:
    cause = find_root_cause(GUIDE_CHAIN)
    assert cause is not None and not cause.conflict
    assert cause.findings == (
        "socket-host-path",
        "log-socket-create-failed",
        "container-not-running",
        "log-backend-cannot-connect",
    )
    assert cause.statement == (
        "The socket directory is a host folder (compose.yaml:9) → PostgreSQL could not create its socket: its directory "
        "cannot hold sockets (14 times since 09:12:03) → the database container exited with code 1 → the backend "
        "cannot reach the server (ENOENT)"
    )
    assert cause.next_step == "fix socket-host-path"


@pytest.mark.parametrize(
    ("findings", "conflict_start"),
    [
        pytest.param([finding("socket-volume-ok", Status.OK), finding("log-socket-create-failed")],
                     "The evidence conflicts: the Compose file on disk is right", id="file-right-running-wrong"),
        pytest.param([finding("socket-vantage", Status.OK), finding("log-backend-cannot-connect")],
                     "The evidence conflicts: the socket works from every vantage point now", id="works-now-failed-before"),
    ],
)  # fmt: skip
def test_conflicts_are_named(findings: list[Finding], conflict_start: str) -> None:
    cause = find_root_cause(findings)
    assert cause is not None and cause.conflict
    assert cause.statement.startswith(conflict_start)


def test_nothing_wrong_means_no_root_cause() -> None:
    assert find_root_cause([finding("socket-volume-ok", Status.OK), finding("engine-info", Status.INFO)]) is None


def test_a_warning_alone_still_gets_a_statement() -> None:
    cause = find_root_cause([finding("backend-start-order", Status.WARN, title="backend may start before database")])
    assert cause is not None and cause.findings == ("backend-start-order",)
