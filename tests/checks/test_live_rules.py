"""The pure parts of the live checks, over engine answers shaped as Docker and Finch send them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from checks.containers import state_findings
from checks.engine_volumes import WantedVolume, find_volume_problems
from checks.socket_vantage import Sight, Vantage, vantage_finding, verdict
from doctor.arguments import _since
from doctor.models import Status, TargetOS, VantageVerdict

SOCKET = WantedVolume("db_socket", "app_db_socket", "socket", external=False)


def compose_volume(name: str, project: str = "app", **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Labels": {"com.docker.compose.project": project, "com.docker.compose.volume": "db_socket"},
        **extra,
    }


@pytest.mark.parametrize(
    ("on_engine", "deployed", "target", "expected"),
    [
        pytest.param([compose_volume("app_db_socket", Driver="local", Options={})], True, "macos", [], id="docker-ok"),
        pytest.param([compose_volume("app_db_socket")], True, "macos", [], id="finch-shape-no-driver-options"),
        pytest.param([], False, "linux", [("volume-missing", Status.WARN)], id="missing-not-deployed"),
        pytest.param([], True, "linux", [("volume-missing", Status.FAIL)], id="missing-deployed"),
        pytest.param([compose_volume("app_db_socket", Options={"type": "none", "o": "bind", "device": "/Users/x"})],
                     True, "macos", [("volume-bind-device", Status.FAIL)], id="bind-device-macos"),
        pytest.param([compose_volume("app_db_socket", Options={"o": "bind", "device": "/srv/x"})],
                     True, "linux", [("volume-bind-device", Status.WARN)], id="bind-device-linux"),
        pytest.param([{"Name": "app_db_socket"}], True, "linux", [("volume-foreign-project", Status.WARN)], id="outside-compose"),
        pytest.param([compose_volume("app_db_socket", project="other")], True, "linux",
                     [("volume-foreign-project", Status.WARN)], id="other-project"),
        pytest.param([compose_volume("app_db_socket"), compose_volume("olddir_db_socket", project="olddir")], True, "linux",
                     [("volume-other-projects", Status.INFO)], id="renamed-directory"),
    ],
)  # fmt: skip
def test_volume_rules(
    on_engine: list[dict[str, Any]], deployed: bool, target: str, expected: list[tuple[str, Status]]
) -> None:
    found = list(find_volume_problems([SOCKET], on_engine, "app", deployed, TargetOS(target)))
    assert [(f.id, f.status) for f in found] == expected


def test_external_volume_may_come_from_anywhere() -> None:
    external = WantedVolume("db_socket", "shared_socket", "socket", external=True)
    assert list(find_volume_problems([external], [{"Name": "shared_socket"}], "app", True, TargetOS.LINUX)) == []


def container(state: dict[str, Any], restarts: int = 0) -> SimpleNamespace:
    return SimpleNamespace(name="app-database-1", labels={"com.docker.compose.service": "database"},
                           attrs={"State": state, "RestartCount": restarts})  # fmt: skip


@pytest.mark.parametrize(
    ("state", "restarts", "ids"),
    [
        pytest.param({"Status": "running"}, 0, [], id="running"),
        pytest.param({"Status": "exited", "ExitCode": 1, "FinishedAt": "2026-01-01T09:12:00Z"}, 0, ["container-not-running"], id="exited"),
        pytest.param({"Status": "restarting", "Restarting": True}, 14, ["container-restarting"], id="restarting"),
        pytest.param({"Status": "running", "Health": {"Status": "unhealthy", "FailingStreak": 3,
                      "Log": [{"Output": "/var/run/postgresql:5432 - no response"}]}}, 0, ["container-unhealthy"], id="unhealthy"),
        pytest.param({"Status": "exited", "ExitCode": 137, "OOMKilled": True}, 0,
                     ["container-oom-killed", "container-not-running"], id="oom"),
    ],
)  # fmt: skip
def test_container_states(state: dict[str, Any], restarts: int, ids: list[str]) -> None:
    assert [f.id for f in state_findings(container(state, restarts))] == ids


HOST, PROBE, CLIENT = Vantage.HOST, Vantage.PROBE, Vantage.CLIENT


@pytest.mark.parametrize(
    ("sights", "status", "seen", "start"),
    [
        pytest.param([Sight(HOST, True, ""), Sight(PROBE, True, ""), Sight(CLIENT, True, "", "api")], Status.OK,
                     VantageVerdict.WORKS_EVERYWHERE, "The socket works everywhere", id="everywhere"),
        pytest.param([Sight(HOST, None, ""), Sight(PROBE, True, ""), Sight(CLIENT, False, "", "api")], Status.FAIL,
                     VantageVerdict.NOT_SHARED, "Server up, socket not shared with api", id="not-shared"),
        pytest.param([Sight(HOST, False, ""), Sight(PROBE, False, ""), Sight(CLIENT, False, "", "api")], Status.FAIL,
                     VantageVerdict.SERVER_DOWN, "Server down", id="down"),
        pytest.param([Sight(HOST, True, ""), Sight(CLIENT, None, "", "api")], Status.OK,
                     VantageVerdict.SERVER_ONLY, "The server answers on its socket", id="server-only"),
        pytest.param([Sight(HOST, None, ""), Sight(PROBE, None, "")], Status.SKIP, VantageVerdict.UNSEEN,
                     "No vantage point", id="none"),
    ],
)  # fmt: skip
def test_vantage_verdict(sights: list[Sight], status: Status, seen: VantageVerdict, start: str) -> None:
    got_status, got_seen, title = verdict(sights)
    assert got_status is status and got_seen is seen and title.startswith(start)
    finding = vantage_finding(sights)
    assert finding.facts.vantage is seen
    assert finding.facts.services == (("api",) if seen is VantageVerdict.NOT_SHARED else ())


@pytest.mark.parametrize(
    ("sight", "label"),
    [
        pytest.param(Sight(HOST, True, ""), "host", id="host"),
        pytest.param(Sight(PROBE, True, "", node="n1"), "probe@n1", id="probe-on-a-node"),
        pytest.param(Sight(CLIENT, True, "", "api"), "client:api", id="client"),
        pytest.param(Sight(CLIENT, True, "", "api", "n2"), "client:api@n2", id="client-on-a-node"),
    ],
)
def test_the_evidence_names_each_vantage_point(sight: Sight, label: str) -> None:
    assert sight.label == label


def test_since_accepts_epoch_and_durations() -> None:
    import time

    assert _since("1700000000") == 1700000000
    assert abs(_since("10m") - (time.time() - 600)) < 5
    assert abs(_since("1d") - (time.time() - 86400)) < 5
