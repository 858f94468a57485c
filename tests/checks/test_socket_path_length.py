"""socket-path-length: ``<dir>/.s.PGSQL.<port>`` must fit in sun_path (107 bytes on Linux),
for the server's directory and for each client's."""

from __future__ import annotations

import pytest

from checks import socket_path_length
from doctor.models import Status
from tests.checks.projects import context, project, verdicts

LONG = "/var/run/postgresql-socket-directory-with-a-very-long-name/postgresql-socket-directory-with-a-very-long-name/x"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("socket-path-too-long-pass", [("socket-path-length", Status.OK)], id="pass"),
        pytest.param(
            "socket-path-too-long-fail",
            [("socket-path-too-long", Status.FAIL), ("socket-path-too-long", Status.FAIL)],
            id="fail-server-and-client",
        ),
        pytest.param("compose-no-database-fail", [], id="no-socket-no-verdict"),
    ],
)
def test_run(case: str, expected: list[tuple[str, Status]]) -> None:
    assert verdicts(socket_path_length.run(context(case))) == expected


@pytest.mark.parametrize(
    ("case", "limit", "expected"),
    [
        pytest.param("socket-path-too-long-pass", 107, [], id="pass"),
        pytest.param(
            "socket-path-too-long-fail",
            107,
            [("database", "server", LONG, 5432), ("backend", "client", LONG, 5432)],
            id="fail",
        ),
        # /var/run/postgresql/.s.PGSQL.5432 is 33 bytes: the limit is a strict upper bound.
        pytest.param("socket-path-too-long-pass", 33, [], id="exactly-at-the-limit"),
        pytest.param(
            "socket-path-too-long-pass",
            32,
            [
                ("database", "server", "/var/run/postgresql", 5432),
                ("backend", "client", "/var/run/postgresql", 5432),
            ],
            id="one-byte-over",
        ),
    ],
)
def test_find_too_long(case: str, limit: int, expected: list[tuple[str, str, str, int]]) -> None:
    uses = socket_path_length.find_too_long(project(case), limit)
    assert [(u.service.name, u.role, u.directory, u.port) for u in uses] == expected
