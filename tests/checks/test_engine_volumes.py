"""engine-volumes: the socket and data volumes of the file exist on the engine, made by Compose
for this project. Volumes are dicts as the engine's volume list answers them."""

from __future__ import annotations

from typing import Any

import pytest

from checks.engine_volumes import WantedVolume, binds_host_folder, find_volume_problems, wanted_volumes
from doctor.models import Status, TargetOS
from tests.checks.inspected import engine_volume
from tests.checks.projects import project, verdicts


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(
            "guide-correct",
            [("db_socket", "guide-correct_db_socket", "socket"), ("db_data", "guide-correct_db_data", "data")],
            id="socket-and-data",
        ),
        pytest.param(
            "data-volume-strategy-fail",
            [("db_socket", "data-volume-strategy-fail_db_socket", "socket")],
            id="data-on-a-host-folder",
        ),
        pytest.param("guide-incorrect", [], id="host-folders-only"),
        pytest.param(
            "socket-volume-mismatch-fail",
            [
                ("db_socket", "socket-volume-mismatch-fail_db_socket", "socket"),
                ("pg_socket", "socket-volume-mismatch-fail_pg_socket", "socket"),
                ("db_data", "socket-volume-mismatch-fail_db_data", "data"),
            ],
            id="two-socket-volumes",
        ),
    ],
)
def test_wanted_volumes(case: str, expected: list[tuple[str, str, str]]) -> None:
    wanted = wanted_volumes(project(case))
    assert [(w.key, w.engine_name, w.role) for w in wanted] == expected
    assert not any(w.external for w in wanted)


@pytest.mark.parametrize(
    ("options", "device"),
    [
        pytest.param(None, None, id="no-options-finch"),
        pytest.param({}, None, id="plain-volume"),
        pytest.param({"type": "none", "o": "bind", "device": "/Users/me/socket"}, "/Users/me/socket", id="bind-device"),
        pytest.param({"Type": "none", "O": "rw,bind", "Device": "/srv/s"}, "/srv/s", id="case-and-list"),
        pytest.param({"type": "tmpfs", "device": "tmpfs", "o": "size=10m"}, None, id="tmpfs-device"),
        pytest.param({"o": "bind"}, None, id="bind-without-device"),
    ],
)
def test_binds_host_folder(options: dict[str, str] | None, device: str | None) -> None:
    assert binds_host_folder({"Name": "v", "Options": options}) == device


SOCKET = WantedVolume("db_socket", "app_db_socket", "socket", external=False)
DATA = WantedVolume("db_data", "app_db_data", "data", external=False)
EXTERNAL = WantedVolume("db_socket", "shared_socket", "socket", external=True)
BIND = {"type": "none", "o": "bind", "device": "/Users/me/socket"}


@pytest.mark.parametrize(
    ("wanted", "on_engine", "deployed", "target_os", "expected"),
    [
        pytest.param([SOCKET, DATA], [engine_volume("app_db_socket", "app"), engine_volume("app_db_data", "app", "db_data")],
                     True, "macos", [], id="pass"),
        pytest.param([SOCKET], [], False, "linux", [("volume-missing", Status.WARN)], id="missing-before-deploy"),
        pytest.param([SOCKET], [], True, "linux", [("volume-missing", Status.FAIL)], id="missing-when-deployed"),
        pytest.param([DATA], [], True, "linux", [("volume-missing", Status.FAIL)], id="missing-data"),
        pytest.param([SOCKET], [engine_volume("app_db_socket", "app", Options=BIND)], True, "macos",
                     [("volume-bind-device", Status.FAIL)], id="bind-device-macos"),
        pytest.param([SOCKET], [engine_volume("app_db_socket", "app", Options=BIND)], True, "linux",
                     [("volume-bind-device", Status.WARN)], id="bind-device-linux"),
        pytest.param([SOCKET], [engine_volume("app_db_socket", None)], True, "linux",
                     [("volume-foreign-project", Status.WARN)], id="made-outside-compose"),
        pytest.param([SOCKET], [engine_volume("app_db_socket", "other")], True, "linux",
                     [("volume-foreign-project", Status.WARN)], id="made-for-another-project"),
        pytest.param([EXTERNAL], [engine_volume("shared_socket", None)], True, "linux", [], id="external-from-anywhere"),
        pytest.param([SOCKET], [engine_volume("app_db_socket", "app"), engine_volume("olddir_db_socket", "olddir")],
                     True, "linux", [("volume-other-projects", Status.INFO)], id="renamed-directory"),
    ],
)  # fmt: skip
def test_find_volume_problems(
    wanted: list[WantedVolume],
    on_engine: list[dict[str, Any]],
    deployed: bool,
    target_os: str,
    expected: list[tuple[str, Status]],
) -> None:
    assert verdicts(find_volume_problems(wanted, on_engine, "app", deployed, TargetOS(target_os))) == expected


@pytest.mark.parametrize(
    ("on_engine", "evidence"),
    [
        pytest.param([engine_volume("app_db_socket", "app", Options=BIND)], ["app_db_socket"], id="bind-device"),
        pytest.param([engine_volume("app_db_socket", "other")], ["app_db_socket"], id="foreign"),
    ],
)
def test_the_evidence_names_the_engine_volume(on_engine: list[dict[str, Any]], evidence: list[str]) -> None:
    found = find_volume_problems([SOCKET], on_engine, "app", True, TargetOS.MACOS)
    assert [e.source for f in found for e in f.evidence] == evidence
