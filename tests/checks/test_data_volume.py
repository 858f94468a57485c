"""data-volume-strategy: the guide puts the data directory on a named volume on macOS and
allows a host folder on Linux; no named volume at all is only said."""

from __future__ import annotations

import pytest

from checks import data_volume
from doctor.models import Status, TargetOS
from tests.checks.projects import COMPOSE, context, project, verdicts

ID = "data-volume-strategy"


@pytest.mark.parametrize(
    ("case", "target_os", "status"),
    [
        pytest.param("data-volume-strategy-pass", "macos", Status.OK, id="named-volume-macos"),
        pytest.param("data-volume-strategy-pass", "linux", Status.INFO, id="named-volume-linux"),
        pytest.param("data-volume-strategy-fail", "macos", Status.WARN, id="host-folder-macos"),
        pytest.param("data-volume-strategy-fail", "linux", Status.OK, id="host-folder-linux"),
        pytest.param("guide-incorrect", "macos", Status.INFO, id="no-mount-macos"),
        pytest.param("guide-incorrect", "linux", Status.INFO, id="no-mount-linux"),
    ],
)
def test_run(case: str, target_os: str, status: Status) -> None:
    assert verdicts(data_volume.run(context(case, target_os))) == [(ID, status)]


def test_without_a_database_the_check_skips() -> None:
    assert verdicts(data_volume.run(context("compose-no-database-fail"))) == [(ID, Status.SKIP)]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("data-volume-strategy-pass", [("database", "volume", "db_data")], id="named-volume"),
        pytest.param(
            "data-volume-strategy-fail",
            [("database", "bind", str(COMPOSE / "data-volume-strategy-fail" / "pgdata"))],
            id="host-folder",
        ),
        pytest.param("guide-incorrect", [("database", None, None)], id="no-mount"),
    ],
)
def test_find_data_mounts(case: str, expected: list[tuple[str, str | None, str | None]]) -> None:
    found = data_volume.find_data_mounts(project(case))
    assert [(s.name, m.type if m else None, m.source if m else None) for s, _, m in found] == expected
    assert [directory for _, directory, _ in found] == ["/var/lib/postgresql/data"]


@pytest.mark.parametrize(
    ("case", "target_os", "status"),
    [
        pytest.param("data-volume-strategy-pass", "macos", Status.OK, id="volume-macos"),
        pytest.param("data-volume-strategy-pass", "linux", Status.INFO, id="volume-linux"),
        pytest.param("data-volume-strategy-fail", "macos", Status.WARN, id="bind-macos"),
        pytest.param("data-volume-strategy-fail", "linux", Status.OK, id="bind-linux"),
        pytest.param("guide-incorrect", "macos", Status.INFO, id="none"),
    ],
)
def test_judge(case: str, target_os: str, status: Status) -> None:
    ((_, _, mount),) = data_volume.find_data_mounts(project(case))
    assert data_volume.judge(TargetOS(target_os), mount) is status
