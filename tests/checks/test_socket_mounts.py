"""socket-mounts, one table row per rule: a socket directory on a host folder
(socket-host-path), a socket volume not declared (socket-volume-undeclared), a socket volume
that binds a host folder through driver_opts (socket-volume-bind-device)."""

from __future__ import annotations

import pytest

from checks import socket_mounts
from doctor import topology
from doctor.models import Status
from tests.checks.projects import COMPOSE, context, project, verdicts

OK = ("socket-mounts", Status.OK)


@pytest.mark.parametrize(
    ("case", "target_os", "expected"),
    [
        pytest.param("socket-host-path-pass", "macos", [OK], id="host-path-pass"),
        pytest.param("socket-host-path-fail", "macos", [("socket-host-path", Status.FAIL)], id="host-path-macos"),
        pytest.param("socket-host-path-fail", "linux", [("socket-host-path", Status.WARN)], id="host-path-linux"),
        pytest.param("guide-correct", "macos", [OK], id="guide-correct"),
        pytest.param("guide-incorrect", "macos", [("socket-host-path", Status.FAIL)], id="guide-incorrect"),
        pytest.param("socket-volume-undeclared-pass", "linux", [OK], id="undeclared-pass"),
        pytest.param(
            "socket-volume-undeclared-fail", "macos", [("socket-volume-undeclared", Status.FAIL)], id="undeclared-fail"
        ),
        pytest.param("socket-volume-bind-device-pass", "macos", [OK], id="bind-device-pass"),
        pytest.param(
            "socket-volume-bind-device-fail",
            "macos",
            [("socket-volume-bind-device", Status.FAIL)],
            id="bind-device-macos",
        ),
        pytest.param(
            "socket-volume-bind-device-fail",
            "linux",
            [("socket-volume-bind-device", Status.WARN)],
            id="bind-device-linux",
        ),
        pytest.param("socket-tmpfs-private", "macos", [OK], id="tmpfs-is-no-host-folder"),
        pytest.param("compose-invalid-syntax", "linux", [("socket-mounts", Status.SKIP)], id="unreadable-skips"),
    ],
)
def test_run(case: str, target_os: str, expected: list[tuple[str, Status]]) -> None:
    assert verdicts(socket_mounts.run(context(case, target_os))) == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("socket-host-path-pass", [], id="pass"),
        pytest.param("socket-host-path-fail", [("/srv/cultivate/socket", ["database", "backend"])], id="short-syntax"),
        pytest.param(
            "socket-host-path-long-syntax",
            [(str(COMPOSE / "socket-host-path-long-syntax" / "socket"), ["database", "backend"])],
            id="long-syntax-relative",
        ),
        pytest.param(
            "socket-host-path-override", [("/home/op/cultivate/socket", ["database", "backend"])], id="override-file"
        ),
        pytest.param(
            "socket-host-path-interpolated", [("/Users/me/cultivate/socket", ["database", "backend"])], id="from-env"
        ),
    ],
)
def test_find_host_path_sockets(case: str, expected: list[tuple[str, list[str]]]) -> None:
    groups = topology.find_host_path_sockets(project(case))
    assert [(g.host_path, [use.service.name for use, _ in g.uses]) for g in groups] == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("socket-volume-undeclared-pass", {}, id="pass"),
        pytest.param("socket-volume-undeclared-fail", {"db_socket": ["database", "backend"]}, id="fail"),
    ],
)
def test_find_undeclared_socket_volumes(case: str, expected: dict[str, list[str]]) -> None:
    missing = topology.find_undeclared_socket_volumes(project(case))
    assert {key: [use.service.name for use, _ in uses] for key, uses in missing.items()} == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param("socket-volume-bind-device-pass", [], id="pass"),
        pytest.param("socket-volume-bind-device-fail", ["db_socket"], id="fail"),
    ],
)
def test_find_bind_device_volumes(case: str, expected: list[str]) -> None:
    assert [decl.key for decl in topology.find_bind_device_volumes(project(case))] == expected
