"""The socket probe against real PostgreSQL servers, and against a real socket server for the
one fault PostgreSQL cannot be made to show (accepting a connection and never answering)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checks.socket_probe import credentials, finding_for
from doctor.context import Options, build_context
from doctor.models import Status
from doctor.probe import Credentials, Outcome, ProbeResult, ping_socket, probe_socket
from tests.conftest import FIXTURES, Cli, PgFactory, pg_bindir, run_as_nobody, silent_unix_server

SUPERUSER = Credentials("postgres", "postgres")


def server_version() -> str:
    """MAJOR.MINOR of the server binary the tests start, as the probe reports it."""
    bindir = pg_bindir()
    assert bindir is not None
    done = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"\(PostgreSQL\) (\d+\.\d+)", done.stdout)
    assert found is not None, done.stdout
    return found.group(1)


def probe_json(cli: Cli, directory: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli("--socket-dir", str(directory), "--format", "json", "--timeout", "2", *extra)
    report = json.loads(result.out)
    finding: dict[str, Any] = next(f for f in report["findings"] if f["check"] == "socket-probe")
    return result.code, finding


@pytest.mark.postgres
def test_healthy_server_connects(pg_factory: PgFactory, cli: Cli) -> None:
    server = pg_factory().start()
    code, finding = probe_json(cli, server.socket_dir, "--db-user", "postgres", "--db-name", "postgres")
    assert code == 0
    assert finding["id"] == "socket-connect-ok"
    assert f": PostgreSQL {server_version()}, round trip " in finding["title"]


@pytest.mark.postgres
def test_killed_server_leaves_a_stale_socket(pg_factory: PgFactory, cli: Cli) -> None:
    server = pg_factory().start()
    server.kill()
    assert (server.socket_dir / ".s.PGSQL.5432").exists()
    code, finding = probe_json(cli, server.socket_dir, "--db-user", "postgres")
    assert code == 1
    assert finding["id"] == "socket-refused"


@pytest.mark.postgres
def test_server_never_started(pg_factory: PgFactory, cli: Cli) -> None:
    server = pg_factory()
    code, finding = probe_json(cli, server.socket_dir)
    assert (code, finding["id"]) == (1, "socket-missing")


@pytest.mark.postgres
def test_wrong_database_means_the_socket_works(pg_factory: PgFactory, cli: Cli) -> None:
    server = pg_factory().start()
    code, finding = probe_json(cli, server.socket_dir, "--db-user", "postgres", "--db-name", "no_such_db")
    assert finding["id"] == "socket-auth-failed"
    assert finding["status"] == "warn"
    assert code == 0


@pytest.mark.postgres
def test_port_selects_the_socket_file(pg_factory: PgFactory, cli: Cli) -> None:
    server = pg_factory(port=5499).start()
    _, wrong = probe_json(cli, server.socket_dir, "--db-user", "postgres")
    _, right = probe_json(cli, server.socket_dir, "--db-user", "postgres", "--port", "5499")
    assert (wrong["id"], right["id"]) == ("socket-missing", "socket-connect-ok")


def test_regular_file_in_place_of_the_socket(shared_tmp: Path, cli: Cli) -> None:
    (shared_tmp / ".s.PGSQL.5432").write_text("not a socket")
    code, finding = probe_json(cli, shared_tmp)
    assert (code, finding["id"]) == (1, "socket-not-a-socket")


@pytest.fixture
def silent_server(shared_tmp: Path) -> Iterator[Path]:
    with silent_unix_server(shared_tmp / ".s.PGSQL.5432"):
        yield shared_tmp


def test_server_that_never_answers_times_out(silent_server: Path, cli: Cli) -> None:
    outcome: list[tuple[int, dict[str, Any]]] = []
    worker = threading.Thread(target=lambda: outcome.append(probe_json(cli, silent_server, "--db-user", "x")))
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the probe did not respect --timeout"
    code, finding = outcome[0]
    assert (code, finding["id"]) == (1, "socket-timeout")


def probe_as_nobody(directory: Path) -> ProbeResult:
    result = run_as_nobody(lambda: probe_socket(str(directory), 5432, SUPERUSER, timeout=2, limit=107))
    assert isinstance(result, ProbeResult)
    return result


@pytest.mark.postgres
def test_socket_directory_without_permission(pg_factory: PgFactory) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to the nobody user")
    server = pg_factory().start()
    server.socket_dir.chmod(0o700)
    assert probe_as_nobody(server.socket_dir).outcome == "permission"
    server.socket_dir.chmod(0o755)
    assert probe_as_nobody(server.socket_dir).outcome == "connected"  # the template trusts every local login


def test_probe_credentials_come_from_the_client_url() -> None:
    ctx = build_context(
        Options(project_directory=FIXTURES / "compose" / "guide-correct", offline=True), environ={"HOME": "/h"}
    )
    assert credentials(ctx) == Credentials("apiuser", "cultivate", None)


def test_too_long_socket_dir_is_refused_before_connecting(shared_tmp: Path) -> None:
    result = probe_socket(str(shared_tmp / ("x" * 120)), 5432, SUPERUSER, timeout=2, limit=107)
    assert result.outcome == "too-long"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("state", "outcome"),
    [
        pytest.param("running", "answered", id="running"),
        pytest.param("killed", "refused", id="stale-socket"),
        pytest.param("never-started", "missing", id="no-socket"),
    ],
)
def test_ping_asks_the_server_without_logging_in(pg_factory: PgFactory, state: str, outcome: str) -> None:
    server = pg_factory()
    if state != "never-started":
        server.start()
    if state == "killed":
        server.kill()
    result = ping_socket(str(server.socket_dir), 5432, timeout=2, limit=107)
    assert result.outcome == outcome, result


def test_ping_of_a_server_that_never_answers_is_bounded(silent_server: Path) -> None:
    result = ping_socket(str(silent_server), 5432, timeout=0.5, limit=107)
    assert result.outcome == "timeout"


@pytest.mark.parametrize(
    ("outcome", "finding_id", "status"),
    [
        pytest.param("connected", "socket-connect-ok", Status.OK, id="connected"),
        pytest.param("missing", "socket-missing", Status.FAIL, id="missing"),
        pytest.param("not-a-socket", "socket-not-a-socket", Status.FAIL, id="not-a-socket"),
        pytest.param("refused", "socket-refused", Status.FAIL, id="refused"),
        pytest.param("permission", "socket-permission-denied", Status.FAIL, id="permission"),
        pytest.param("timeout", "socket-timeout", Status.FAIL, id="timeout"),
        pytest.param("auth-failed", "socket-auth-failed", Status.WARN, id="auth-failed"),
        pytest.param("failed", "socket-connect-failed", Status.FAIL, id="failed"),
        pytest.param("too-long", "socket-path-too-long", Status.FAIL, id="too-long"),
    ],
)
def test_finding_for_each_outcome(outcome: str, finding_id: str, status: Status) -> None:
    message = "" if outcome == "connected" else "libpq's words"
    result = ProbeResult(Outcome(outcome), "/s/.s.PGSQL.5432", message, "15.4" if outcome == "connected" else "", 0.1)
    finding = finding_for(result, SUPERUSER, 2)
    assert (finding.id, finding.status) == (finding_id, status)
    assert [(e.source, e.text) for e in finding.evidence] == (
        [] if outcome == "connected" else [(result.path, message)]
    )
