"""container-logs: each container's log, as the engine streams it (``timestamps=1``: an
RFC 3339 stamp before every line), through the log classifier; a Swarm client's log is read
from when the database was ready. The engine's answers are given as bytes and inspect dicts."""

from __future__ import annotations

import io
from typing import Any

import pytest

from checks import container_logs
from doctor.engine.nodes import stack_since
from doctor.logscan import (
    CANNOT_CONNECT,
    DATA_DIR,
    NOT_READY,
    SOCKET_FAILED,
    failures,
    findings_for,
    scan_stream,
)
from doctor.models import Status
from tests.checks.inspected import compose_container
from tests.checks.projects import context, verdicts


def engine_log(*lines: str) -> io.BytesIO:
    """A container's log as the engine streams it with timestamps=1."""
    stamped = (f"2026-03-02T09:12:{n:02d}.484512345Z {line}\n" for n, line in enumerate(lines, start=3))
    return io.BytesIO("".join(stamped).encode())


READY = "LOG:  database system is ready to accept connections"


@pytest.mark.parametrize(
    ("lines", "expected", "fails", "evidence"),
    [
        pytest.param([READY], [], False, [], id="clean"),
        pytest.param(
            [
                'LOG:  could not set permissions of file "/var/run/postgresql/.s.PGSQL.5432": Invalid argument',
                "FATAL:  could not create any Unix-domain sockets",
            ],
            [(SOCKET_FAILED, Status.FAIL)],
            True,
            [1, 2],
            id="socket-not-created",
        ),
        pytest.param(
            ['FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership'],
            [(DATA_DIR, Status.FAIL)],
            True,
            [1],
            id="data-directory",
        ),
        pytest.param(
            [
                'Error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                "No such file or directory"
            ],
            [(CANNOT_CONNECT, Status.FAIL)],
            True,
            [1],
            id="client-cannot-connect",
        ),
        pytest.param(
            ['connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
             "FATAL:  the database system is starting up"],
            [(NOT_READY, Status.INFO)],
            False,
            [1],
            id="starting-up-is-no-failure",
        ),
    ],
)  # fmt: skip
def test_a_container_log_as_the_engine_streams_it(
    lines: list[str], expected: list[tuple[str, Status]], fails: bool, evidence: list[int]
) -> None:
    scan = scan_stream(engine_log(*lines), "app-database-1")
    produced = list(findings_for(scan))
    assert verdicts(produced) == expected
    assert bool(failures(produced)) is fails  # a clean container gets the check's ok line
    # Evidence: the container and line number, and the line with the engine's stamp kept.
    assert [(e.source, e.text) for f in produced for e in f.evidence] == [
        (f"app-database-1:{n}", f"2026-03-02T09:12:{n + 2:02d}.484512345Z {lines[n - 1]}") for n in evidence
    ]


HEALTHY = {
    "Status": "running",
    "StartedAt": "2026-03-02T09:12:00Z",
    "Health": {"Status": "healthy", "Log": [{"Start": "2026-03-02T09:12:05Z", "ExitCode": 0}]},
}


@pytest.mark.parametrize(
    ("database_state", "since", "expected"),
    [
        pytest.param(HEALTHY, None, 1772442726, id="from-the-first-passing-health-check"),
        pytest.param({"Status": "running", "StartedAt": "2026-03-02T09:12:00Z"}, None, 1772442721, id="from-its-start"),
        pytest.param(HEALTHY, 1772442800, 1772442800, id="a-later-since-wins"),
        pytest.param({"Status": "exited", "ExitCode": 1}, None, None, id="database-not-running"),
    ],
)
def test_stack_clients_are_read_from_when_the_database_was_ready(
    database_state: dict[str, Any], since: int | None, expected: int | None
) -> None:
    # The second after the stamp (09:12:05 is 1772442725): its fraction is dropped, so a line of
    # that same second before the moment of readiness is not read.
    database = compose_container("st", "database", database_state)
    backend = compose_container("st", "backend")
    starts = stack_since([database, backend], {"database"}, since)
    assert starts == ({} if expected is None else {id(backend): expected})


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("guide-correct", [("container-logs", Status.SKIP)], id="no-engine-skips"),
        pytest.param("compose-invalid-syntax", [("container-logs", Status.SKIP)], id="unreadable-file-skips"),
    ],
)
def test_run_without_an_engine(case: str, expected: list[tuple[str, Status]]) -> None:
    assert verdicts(container_logs.run(context(case))) == expected
