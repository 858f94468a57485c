"""The root-cause statement: layers in order, fail before warn, conflicts named, not guessed.
The findings are the checks' own: the fixture projects through the real check sequence, the
recorded logs through the classifier, containers shaped as the engine's inspect answers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from checks.containers import state_findings
from checks.socket_vantage import Sight, Vantage, vantage_finding
from doctor import catalog
from doctor.logscan import findings_for, scan_lines
from doctor.models import Facts, Finding
from doctor.rootcause import find_root_cause
from tests.checks.test_rules import findings_for as project_findings

UNSUPPORTED = [  # two start-ups on a virtiofs share: the guide's lines, with PostgreSQL's timestamps
    f"2026-03-02 09:{minute}:03.484 UTC [1] {line}"
    for minute in (12, 40)
    for line in (
        'LOG:  could not set permissions of file "/var/run/postgresql/.s.PGSQL.5432": Invalid argument',
        "FATAL:  could not create any Unix-domain sockets",
    )
]
ENOENT = [
    '2026-03-02T09:12:09Z connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
    "No such file or directory"
]


def one(findings: list[Finding], finding_id: str) -> Finding:
    (found,) = [f for f in findings if f.id == finding_id]
    return found


def logged(lines: list[str], source: str) -> Finding:
    (found,) = findings_for(scan_lines(lines, source))
    return found


def container(service: str, state: dict[str, object], restarts: int = 0) -> SimpleNamespace:
    labels = {"com.docker.compose.project": "app", "com.docker.compose.service": service}
    return SimpleNamespace(name=f"app-{service}-1", labels=labels, attrs={"State": state, "RestartCount": restarts})


def exited(service: str, code: int) -> Finding:
    (found,) = state_findings(container(service, {"Status": "exited", "ExitCode": code}), server=True)
    return found


HOST_PATH = one(project_findings("socket-host-path-fail", "macos"), catalog.SOCKET_HOST_PATH)
START_ORDER = one(project_findings("backend-start-order-fail", "linux"), catalog.BACKEND_START_ORDER)
SOCKET_OK = one(project_findings("guide-correct", "macos"), catalog.SOCKET_VOLUME_OK)
SOCKET_LOG = logged(UNSUPPORTED, "app-database-1")
BACKEND_LOG = logged(ENOENT, "app-backend-1")
WORKS = vantage_finding([Sight(Vantage.HOST, True, ""), Sight(Vantage.CLIENT, True, "", "backend")])
GUIDE_CHAIN = [BACKEND_LOG, exited("database", 1), SOCKET_LOG, HOST_PATH, START_ORDER]


def test_the_findings_carry_the_facts_the_statement_needs() -> None:
    assert HOST_PATH.facts.origin == "compose.yaml:5"
    assert (SOCKET_LOG.facts.cause, SOCKET_LOG.facts.count) == ("unsupported-fs", 2)
    assert SOCKET_LOG.facts.first_seen == "2026-03-02 09:12:03.484 UTC"
    assert (BACKEND_LOG.facts.cause, BACKEND_LOG.facts.errno_class) == ("enoent", "enoent")
    assert exited("database", 1).facts == Facts(
        service="database", container="app-database-1", state="exited", exit_code=1
    )


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
        "The socket directory is a host folder (compose.yaml:5) → PostgreSQL could not create its socket: its directory "
        "cannot hold sockets (a host folder shared into the VM) (2 times since 2026-03-02 09:12:03.484 UTC) → the "
        "database container exited with code 1 → the backend cannot reach the server (ENOENT)"
    )
    assert HOST_PATH.remedy is not None and cause.next_step == HOST_PATH.remedy.summary


@pytest.mark.parametrize(
    ("finding", "phrase"),
    [
        pytest.param(next(state_findings(container("db", {"Status": "running", "Restarting": True}, 5))),
                     "The db container keeps restarting (5 restarts)", id="restarting"),
        pytest.param(vantage_finding([Sight(Vantage.HOST, True, ""), Sight(Vantage.CLIENT, False, "", "api")]),
                     "Server up, socket not shared with api", id="not-shared"),
        pytest.param(vantage_finding([Sight(Vantage.HOST, False, ""), Sight(Vantage.CLIENT, False, "", "api")]),
                     "Server down: nothing answers on the socket from any vantage point", id="server-down"),
        pytest.param(one(project_findings("socket-volume-mismatch-fail", "linux"), catalog.SOCKET_VOLUME_MISMATCH),
                     "backend mounts the named volume pg_socket at /var/run/postgresql, but database keeps its "
                     "socket on the named volume db_socket", id="the-check-s-account"),
        pytest.param(one(project_findings("compose-invalid-fail", "linux"), catalog.COMPOSE_INVALID),
                     "compose.yaml:2: services must be a mapping, not a list", id="compose-s-own-words"),
        pytest.param(one(project_findings("socket-volume-bind-device-fail", "linux"), catalog.SOCKET_VOLUME_BIND_DEVICE),
                     "The socket volume binds a host folder through driver_opts (compose.yaml:20)",
                     id="meaning-and-where"),
        pytest.param(logged(["FATAL:  data directory \"/var/lib/postgresql/data\" has wrong ownership"], "db"),
                     "PostgreSQL could not use its data directory: the data directory has the wrong owner",
                     id="data-directory"),
    ],
)  # fmt: skip
def test_each_link_is_phrased_from_facts(finding: Finding, phrase: str) -> None:
    cause = find_root_cause([finding])
    assert cause is not None and cause.statement == phrase


@pytest.mark.parametrize(
    ("findings", "conflict_start"),
    [
        pytest.param([SOCKET_OK, SOCKET_LOG], "The evidence conflicts: the Compose file on disk is right",
                     id="file-right-running-wrong"),
        pytest.param([WORKS, BACKEND_LOG], "The evidence conflicts: the socket works from every vantage point now",
                     id="works-now-failed-before"),
    ],
)  # fmt: skip
def test_conflicts_are_named(findings: list[Finding], conflict_start: str) -> None:
    cause = find_root_cause(findings)
    assert cause is not None and cause.conflict
    assert cause.statement.startswith(conflict_start)


def test_nothing_wrong_means_no_root_cause() -> None:
    assert find_root_cause([SOCKET_OK, WORKS]) is None


def test_a_warning_alone_still_gets_a_statement() -> None:
    cause = find_root_cause([START_ORDER])
    assert cause is not None and cause.findings == ("backend-start-order",)
    assert cause.statement == "backend may start before database accepts connections"


def test_a_required_variable_is_the_cause_not_the_blank_it_leaves() -> None:
    """Compose interpolates before it validates: an unset required image variable is the only
    thing it says, and the root cause names it, not the empty image that would follow."""
    findings = project_findings("compose-variable-required-image", "linux")
    assert "compose-invalid" not in {f.id for f in findings}
    cause = find_root_cause(findings)
    assert cause is not None
    assert cause.findings == ("compose-variable-required",)
    assert cause.statement.startswith("Required variable DB_IMAGE is not set")
