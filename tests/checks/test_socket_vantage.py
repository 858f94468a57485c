"""socket-vantage: what each vantage point saw (this machine, each client by exec, a probe
container) and the one verdict. Containers are inspect answers (tests/checks/inspected.py)."""

from __future__ import annotations

from typing import Any

import pytest

from checks import socket_vantage
from checks.socket_vantage import WORKS_EVERYWHERE, Sight, Vantage, same_view, stack_title, verdict
from doctor.models import Status, VantageVerdict
from tests.checks.inspected import Container, bind_mount, compose_container, volume_mount
from tests.checks.projects import context, verdicts

UP, DOWN, BLIND = True, False, None


@pytest.mark.parametrize(
    ("sights", "status"),
    [
        pytest.param([Sight(Vantage.HOST, UP, ""), Sight(Vantage.PROBE, UP, ""), Sight(Vantage.CLIENT, UP, "", service="api")], Status.OK,
                     id="works-everywhere"),
        pytest.param([Sight(Vantage.HOST, BLIND, ""), Sight(Vantage.PROBE, UP, ""), Sight(Vantage.CLIENT, UP, "", service="api")], Status.OK,
                     id="probe-answers-for-the-host"),
        pytest.param([Sight(Vantage.HOST, UP, ""), Sight(Vantage.CLIENT, DOWN, "", service="api")], Status.FAIL, id="not-shared"),
        pytest.param([Sight(Vantage.HOST, UP, ""), Sight(Vantage.CLIENT, UP, "", service="api"), Sight(Vantage.CLIENT, DOWN, "", service="worker")],
                     Status.FAIL, id="one-client-blind"),
        pytest.param([Sight(Vantage.HOST, UP, ""), Sight(Vantage.CLIENT, BLIND, "", service="api")], Status.OK, id="server-up-no-client-asked"),
        pytest.param([Sight(Vantage.HOST, DOWN, ""), Sight(Vantage.PROBE, DOWN, ""), Sight(Vantage.CLIENT, DOWN, "", service="api")], Status.FAIL,
                     id="server-down"),
        pytest.param([Sight(Vantage.HOST, BLIND, ""), Sight(Vantage.PROBE, BLIND, "")], Status.SKIP, id="no-vantage"),
    ],
)  # fmt: skip
def test_verdict_status(sights: list[Sight], status: Status) -> None:
    assert verdict(sights)[0] is status


def test_the_ok_verdict_is_the_one_history_reads() -> None:
    # doctor.history settles past log failures only on this verdict (the finding's vantage fact).
    assert verdict([Sight(Vantage.HOST, UP, ""), Sight(Vantage.CLIENT, UP, "", service="api")]) == (
        Status.OK,
        VantageVerdict.WORKS_EVERYWHERE,
        WORKS_EVERYWHERE,
    )


def running_as(user: str, mounts: list[dict[str, Any]], status: str = "running") -> Container:
    container = compose_container("app", "backend", {"Status": status}, mounts)
    container.attrs["Config"] = {"User": user}
    return container


SOCKET = "app_db_socket"


@pytest.mark.parametrize(
    ("container", "directory", "expected"),
    [
        pytest.param(running_as("", [volume_mount(SOCKET)]), "/var/run/postgresql",
                     (f"volume:{SOCKET}:/var/run/postgresql", "/run/postgresql", "5432", "", "running"), id="volume"),
        pytest.param(running_as("app", [bind_mount("/srv/s")]), "/var/run/postgresql/",
                     ("bind:/srv/s:/var/run/postgresql", "/run/postgresql", "5432", "app", "running"), id="bind-as-user"),
        pytest.param(running_as("", [], "exited"), "/tmp",
                     ("none", "/tmp", "5432", "", "exited"), id="nothing-mounted"),
    ],
)  # fmt: skip
def test_same_view(container: Container, directory: str, expected: tuple[str, ...]) -> None:
    assert same_view(container, directory, 5432) == expected


def test_clients_alike_share_one_view_and_a_different_user_does_not() -> None:
    one, two = running_as("", [volume_mount(SOCKET)]), running_as("", [volume_mount(SOCKET)])
    other = running_as("nobody", [volume_mount(SOCKET)])
    views = {same_view(c, "/var/run/postgresql", 5432) for c in (one, two, other)}
    assert len(views) == 2


@pytest.mark.parametrize(
    ("title", "seen", "db_node", "sights", "expected"),
    [
        pytest.param("Server up, socket not shared with backend@n2: …", VantageVerdict.NOT_SHARED, "n1",
                     [Sight(Vantage.PROBE, UP, "", node="n1"), Sight(Vantage.CLIENT, DOWN, "", service="backend", node="n2")],
                     "Server up on node n1; backend on node n2 sees an empty socket volume (no socket)", id="apart"),
        pytest.param("Server down: nothing answers", VantageVerdict.SERVER_DOWN, "n1", [Sight(Vantage.PROBE, DOWN, "", node="n1")],
                     "Server down: nothing answers", id="down-unchanged"),
        pytest.param("Server up, socket not shared with backend: …", VantageVerdict.NOT_SHARED, None, [Sight(Vantage.CLIENT, DOWN, "", service="backend")],
                     "Server up on node ?; backend sees an empty socket volume (no socket)", id="node-unknown"),
    ],
)  # fmt: skip
def test_stack_title(title: str, seen: VantageVerdict, db_node: str | None, sights: list[Sight], expected: str) -> None:
    assert stack_title(title, seen, db_node, sights) == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("guide-correct", [("socket-vantage", Status.SKIP)], id="no-engine-skips"),
        pytest.param("compose-invalid-syntax", [("socket-vantage", Status.SKIP)], id="unreadable-file-skips"),
    ],
)
def test_run_without_an_engine(case: str, expected: list[tuple[str, Status]]) -> None:
    assert verdicts(socket_vantage.run(context(case))) == expected
