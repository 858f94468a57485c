"""containers: the project's containers run, stay up, are healthy, and mount at the socket
directory what the file on disk says. Containers are inspect answers (tests/checks/inspected.py)."""

from __future__ import annotations

from typing import Any

import pytest

from checks import containers
from doctor.models import Status
from doctor.topology import actual_mount
from tests.checks.inspected import Container, bind_mount, compose_container, volume_mount
from tests.checks.projects import project, verdicts

GUIDE = "guide-correct"
SOCKET = "guide-correct_db_socket"


@pytest.mark.parametrize(
    ("state", "restarts", "expected"),
    [
        pytest.param({"Status": "running"}, 0, [], id="running"),
        pytest.param({"Status": "running", "Health": {"Status": "healthy"}}, 0, [], id="healthy"),
        pytest.param(
            {"Status": "exited", "ExitCode": 1, "FinishedAt": "2026-01-01T09:12:00Z"},
            0,
            [("container-not-running", Status.FAIL)],
            id="exited",
        ),
        pytest.param({"Status": "created"}, 0, [("container-not-running", Status.FAIL)], id="never-started"),
        pytest.param(
            {"Status": "restarting", "Restarting": True}, 14, [("container-restarting", Status.FAIL)], id="restarting"
        ),
        pytest.param(
            {
                "Status": "running",
                "Health": {"Status": "unhealthy", "FailingStreak": 3, "Log": [{"Output": "no response"}]},
            },
            0,
            [("container-unhealthy", Status.FAIL)],
            id="unhealthy",
        ),
        pytest.param(
            {"Status": "exited", "ExitCode": 137, "OOMKilled": True},
            0,
            [("container-oom-killed", Status.FAIL), ("container-not-running", Status.FAIL)],
            id="oom-killed",
        ),
    ],
)
def test_state_findings(state: dict[str, Any], restarts: int, expected: list[tuple[str, Status]]) -> None:
    database = compose_container("app", "database", state, restarts=restarts)
    found = list(containers.state_findings(database, server=True))
    assert verdicts(found) == expected
    assert [e.source for f in found for e in f.evidence] == ["app-database-1"] * len(expected)


SHARED = {
    "database": compose_container(GUIDE, "database", mounts=[volume_mount(SOCKET)]),
    "backend": compose_container(GUIDE, "backend", mounts=[volume_mount(SOCKET)]),
}


DRIFT = "container-socket-mount-drift"
BACKEND, DATABASE = "guide-correct-backend-1", "guide-correct-database-1"


# Each drift finding as (id, status, [(evidence source, text)]): the container and what it
# mounts, then the file's line and what it says; a client apart from the database gets a second one.
@pytest.mark.parametrize(
    ("running", "expected"),
    [
        pytest.param(SHARED, [], id="as-the-file-says"),
        pytest.param(
            {**SHARED, "backend": compose_container(GUIDE, "backend", mounts=[volume_mount("other_db_socket")])},
            [
                (DRIFT, Status.FAIL, [(BACKEND, "mounted: volume other_db_socket"),
                                      ("compose.yaml:16", f"file: volume {SOCKET}")]),
                (DRIFT, Status.FAIL, [(BACKEND, "mounted: volume other_db_socket")]),
            ],
            id="client-on-another-volume",
        ),
        pytest.param(
            {**SHARED, "backend": compose_container(GUIDE, "backend")},
            [
                (DRIFT, Status.FAIL, [(BACKEND, "mounted: nothing (the container's own filesystem)"),
                                      ("compose.yaml:16", f"file: volume {SOCKET}")]),
                (DRIFT, Status.FAIL, [(BACKEND, "mounted: nothing (the container's own filesystem)")]),
            ],
            id="client-mounts-nothing",
        ),
        pytest.param(
            {**SHARED, "database": compose_container(GUIDE, "database", mounts=[bind_mount("/srv/socket")])},
            [
                (DRIFT, Status.FAIL, [(DATABASE, "mounted: bind /srv/socket"),
                                      ("compose.yaml:7", f"file: volume {SOCKET}")]),
                (DRIFT, Status.FAIL, [(BACKEND, f"mounted: volume {SOCKET}")]),
            ],
            id="server-on-a-host-folder",
        ),
        pytest.param({"database": SHARED["database"]}, [], id="client-not-deployed"),
    ],
)  # fmt: skip
def test_find_drift(running: dict[str, Container], expected: list[tuple[str, Status, list[tuple[str, str]]]]) -> None:
    found = containers.find_drift(project(GUIDE), running, "docker")
    assert [(f.id, f.status, [(e.source, e.text) for e in f.evidence]) for f in found] == expected


@pytest.mark.parametrize(
    ("mounts", "expected"),
    [
        pytest.param([volume_mount(SOCKET)], [("container-oneoff-socket", Status.INFO)], id="holds-the-socket-volume"),
        pytest.param([volume_mount("guide-correct_db_data", "/var/lib/postgresql/data")], [], id="data-only"),
        pytest.param([], [], id="no-mounts"),
    ],
)
def test_oneoff_findings(mounts: list[dict[str, Any]], expected: list[tuple[str, Status]]) -> None:
    oneoff = compose_container(GUIDE, "backend", {"Status": "exited", "ExitCode": 0}, mounts, oneoff=True)
    assert verdicts(containers.oneoff_findings([oneoff], project(GUIDE))) == expected


@pytest.mark.parametrize(
    ("mounts", "directory", "expected"),
    [
        pytest.param([volume_mount(SOCKET)], "/var/run/postgresql", f"volume {SOCKET}", id="exact"),
        pytest.param([volume_mount(SOCKET, "/run/postgresql")], "/var/run/postgresql", f"volume {SOCKET}", id="var-run-is-run"),
        pytest.param([bind_mount("/srv/run", "/var/run")], "/var/run/postgresql", "bind /srv/run", id="parent-folder"),
        pytest.param(
            [bind_mount("/srv/run", "/var/run"), volume_mount(SOCKET)], "/var/run/postgresql", f"volume {SOCKET}",
            id="deepest-wins",
        ),
        pytest.param([volume_mount(SOCKET, "/sockets")], "/var/run/postgresql", "nothing (the container's own filesystem)",
                     id="elsewhere"),
    ],
)  # fmt: skip
def test_actual_mount_and_identity(mounts: list[dict[str, Any]], directory: str, expected: str) -> None:
    container = compose_container(GUIDE, "backend", mounts=mounts)
    assert str(containers.identity(actual_mount(container, directory))) == expected
