"""backend-start-order: each socket client waits for a healthy database. One row per way to
miss it: no depends_on, a condition other than service_healthy, a database with no healthcheck."""

from __future__ import annotations

import pytest

from checks import start_order
from doctor.models import Status
from tests.checks.projects import context, project, verdicts


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("backend-start-order-pass", [("backend-start-order", Status.OK)], id="pass"),
        pytest.param("backend-start-order-fail", [("backend-start-order", Status.WARN)], id="service-started"),
        pytest.param("guide-incorrect", [("backend-start-order", Status.WARN)], id="no-depends-on"),
        pytest.param("backend-start-order-no-healthcheck", [("backend-start-order", Status.WARN)], id="no-healthcheck"),
        pytest.param("tcp-client", [("backend-start-order", Status.SKIP)], id="no-socket-client-skips"),
    ],
)
def test_run(case: str, expected: list[tuple[str, Status]]) -> None:
    assert verdicts(start_order.run(context(case))) == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("backend-start-order-pass", [], id="pass"),
        pytest.param(
            "backend-start-order-fail",
            [("backend", "database", "depends_on database with condition service_started")],
            id="service-started",
        ),
        pytest.param("guide-incorrect", [("backend", "database", "no depends_on on database")], id="no-depends-on"),
        pytest.param(
            "backend-start-order-no-healthcheck",
            [("backend", "database", "database has no healthcheck, so it never becomes healthy")],
            id="no-healthcheck",
        ),
    ],
)
def test_find_unordered(case: str, expected: list[tuple[str, str, str]]) -> None:
    found = start_order.find_unordered(project(case))
    assert [(client.name, database.name, missing) for client, database, missing in found] == expected
