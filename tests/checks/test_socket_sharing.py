"""socket-sharing, one table row per rule: the client does not mount the server's socket
directory (backend-socket-not-mounted), mounts another volume there (socket-volume-mismatch),
points libpq at another directory or port (database-url-socket-mismatch), the server's own
directory is on no mount (socket-dir-not-mounted)."""

from __future__ import annotations

import pytest

from checks import socket_sharing
from doctor.models import Status
from doctor.topology import sharing
from tests.checks.projects import context, project, verdicts

OK = ("socket-volume-ok", Status.OK)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("backend-socket-not-mounted-pass", [OK], id="not-mounted-pass"),
        pytest.param(
            "backend-socket-not-mounted-fail", [("backend-socket-not-mounted", Status.FAIL)], id="not-mounted-fail"
        ),
        pytest.param("socket-volume-mismatch-pass", [OK], id="mismatch-pass"),
        pytest.param("socket-volume-mismatch-fail", [("socket-volume-mismatch", Status.FAIL)], id="mismatch-fail"),
        pytest.param("socket-tmpfs-private", [("socket-volume-mismatch", Status.FAIL)], id="private-tmpfs"),
        pytest.param("database-url-socket-mismatch-pass", [OK], id="url-pass"),
        pytest.param(
            "database-url-socket-mismatch-fail", [("database-url-socket-mismatch", Status.FAIL)], id="url-directory"
        ),
        pytest.param(
            "database-url-socket-mismatch-port", [("database-url-socket-mismatch", Status.FAIL)], id="url-port"
        ),
        pytest.param("socket-dir-not-mounted-pass", [OK], id="server-dir-pass"),
        pytest.param("socket-dir-not-mounted-fail", [("socket-dir-not-mounted", Status.FAIL)], id="server-dir-fail"),
        pytest.param("tcp-client", [("socket-no-clients", Status.INFO)], id="tcp-only-client"),
        pytest.param("compose-no-database-fail", [("socket-sharing", Status.SKIP)], id="no-database-skips"),
    ],
)
def test_run(case: str, expected: list[tuple[str, Status]]) -> None:
    assert verdicts(socket_sharing.run(context(case))) == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("guide-correct", [], id="pass"),
        pytest.param(
            "backend-socket-not-mounted-fail", [("not-mounted", "backend", "database", None)], id="not-mounted"
        ),
        pytest.param("socket-volume-mismatch-fail", [("volume-mismatch", "backend", "database", None)], id="mismatch"),
        pytest.param(
            "database-url-socket-mismatch-fail",
            [("url-mismatch", "backend", "database", "/sockets")],
            id="url-directory",
        ),
        pytest.param(
            "database-url-socket-mismatch-port", [("port-mismatch", "backend", "database", None)], id="url-port"
        ),
        pytest.param(
            "socket-dir-not-mounted-fail", [("server-dir-not-mounted", "backend", "database", None)], id="server-dir"
        ),
    ],
)
def test_find_sharing_problems(case: str, expected: list[tuple[str, str, str, str | None]]) -> None:
    problems = socket_sharing.find_sharing_problems(sharing(project(case)))
    assert [(v.kind, v.client.service.name, v.server.name, v.suggested_dir) for v in problems] == expected
