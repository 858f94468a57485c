"""The defects met on Podman, podman-compose and Compose v2 (issue 10): one-off containers, a
killed database's next step, which side of a drift is broken, and the Compose tool told from
labels. Containers are shaped as the engine's inspect answers them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from checks.containers import find_drift, oneoff_findings, state_findings
from checks.engine_volumes import WantedVolume, find_volume_problems
from checks.socket_vantage import Sight, Vantage, same_view, vantage_finding
from doctor.compose.model import ComposeProject
from doctor.compose.project import load_project
from doctor.engine.composetool import identify_tool
from doctor.engine.session import service_containers
from doctor.logscan import findings_for, scan_lines
from doctor.models import Finding, Status, TargetOS
from doctor.remedies import restart_commands
from doctor.rootcause import find_root_cause
from tests.conftest import FIXTURES

V2 = {
    "com.docker.compose.project": "app",
    "com.docker.compose.service": "backend",
    "com.docker.compose.version": "2.29.7",
}
V1 = {**V2, "com.docker.compose.version": "1.29.2"}
PODMAN_COMPOSE = {"com.docker.compose.project": "app", "com.docker.compose.service": "backend",
                  "com.docker.compose.config-hash": "123", "io.podman.compose.project": "app",
                  "io.podman.compose.version": "1.0.3"}  # fmt: skip
NERDCTL = {
    "com.docker.compose.project": "app",
    "com.docker.compose.service": "backend",
    "nerdctl/name": "app-backend-1",
}


@pytest.mark.parametrize(
    ("labels", "runtime", "name", "command", "waits"),
    [
        pytest.param([V2], "docker", "compose-v2", "docker compose", True, id="compose-v2"),
        pytest.param([V2], "podman", "compose-v2", "docker compose", True, id="compose-v2-on-podman"),
        pytest.param([V1], "docker", "docker-compose-v1", "docker-compose", True, id="compose-v1"),
        pytest.param([PODMAN_COMPOSE], "podman", "podman-compose", "podman-compose", False, id="podman-compose"),
        pytest.param([NERDCTL], "docker", "nerdctl-compose", "nerdctl compose", False, id="nerdctl"),
        pytest.param([{"com.docker.compose.project": "app"}], "finch", "nerdctl-compose", "finch compose", False, id="finch"),
        pytest.param([{}, V2], "docker", "compose-v2", "docker compose", True, id="first-that-tells"),
        pytest.param([], "finch", "unknown", "finch compose", True, id="nothing-deployed-finch"),
        pytest.param([], "podman", "unknown", "docker compose", True, id="nothing-deployed-podman"),
    ],
)  # fmt: skip
def test_compose_tool_from_labels(
    labels: list[dict[str, str]], runtime: str, name: str, command: str, waits: bool
) -> None:
    tool = identify_tool(labels, runtime)
    assert (tool.name, tool.command, tool.honours_healthy_wait) == (name, command, waits)


def container(
    service: str, state: dict[str, Any], *, oneoff: bool = False, mounts: list[dict[str, Any]] | None = None
) -> SimpleNamespace:
    suffix = "run-09a5aff39006" if oneoff else "1"
    labels = {"com.docker.compose.project": "app", "com.docker.compose.service": service,
              "com.docker.compose.oneoff": "True" if oneoff else "False"}  # fmt: skip
    return SimpleNamespace(name=f"app-{service}-{suffix}", labels=labels,
                           attrs={"State": state, "Mounts": mounts or [], "RestartCount": 0})  # fmt: skip


RUNNING = {"Status": "running"}
EXITED_0 = {"Status": "exited", "ExitCode": 0, "FinishedAt": "2026-01-01T09:12:00Z"}


def test_oneoff_containers_are_not_the_service() -> None:
    found = [container("backend", RUNNING), container("backend", EXITED_0, oneoff=True)]
    services = service_containers(found)
    assert [c.name for c in services] == ["app-backend-1"]
    assert [f.id for c in services for f in state_findings(c)] == []


def project(case: str) -> ComposeProject:
    loaded = load_project(FIXTURES / "compose" / case, environ={"HOME": "/home/op"})
    assert loaded is not None
    return loaded


def volume(name: str, destination: str = "/var/run/postgresql") -> dict[str, Any]:
    return {
        "Type": "volume",
        "Name": name,
        "Source": f"/var/lib/docker/volumes/{name}/_data",
        "Destination": destination,
    }


def bind(source: str, destination: str = "/var/run/postgresql") -> dict[str, Any]:
    return {"Type": "bind", "Source": source, "Destination": destination}


@pytest.mark.parametrize(
    ("mounts", "ids"),
    [
        pytest.param([volume("guide-correct_db_socket")], ["container-oneoff-socket"], id="holds-socket-volume"),
        pytest.param([volume("guide-correct_db_data", "/var/lib/postgresql/data")], [], id="data-only"),
    ],
)
def test_oneoff_mentioned_only_when_it_holds_the_socket_volume(mounts: list[dict[str, Any]], ids: list[str]) -> None:
    oneoff = container("backend", EXITED_0, oneoff=True, mounts=mounts)
    found = list(oneoff_findings([oneoff], project("guide-correct")))
    assert [(f.id, f.status) for f in found] == [(i, Status.INFO) for i in ids]


def test_a_killed_database_with_a_stale_socket_is_restarted_first() -> None:
    killed = container("database", {"Status": "exited", "ExitCode": 137, "FinishedAt": "2026-01-01T09:12:00Z"})
    restart = restart_commands("podman", "app", "database", "podman-compose")
    findings = [
        *state_findings(killed, restart, server=True),
        *findings_for(scan_lines(['2026-01-01T09:12:01 connection to server on socket "/run/pg/.s.PGSQL.5432" '
                                  "failed: Connection refused"], "app-backend-1")),
        vantage_finding([Sight(Vantage.HOST, False, "refused"), Sight(Vantage.CLIENT, False, "refused", "backend")]),
    ]  # fmt: skip
    cause = find_root_cause(findings)
    assert cause is not None
    assert cause.next_step.startswith("Restart database (`podman-compose -p app up -d database`)")
    assert "stale socket" in cause.next_step
    assert findings[0].remedy is not None and findings[0].remedy.commands == restart


def test_an_ordinary_exit_still_points_at_the_log() -> None:
    exited = container("database", {"Status": "exited", "ExitCode": 1})
    (finding,) = state_findings(exited, ("x",), server=True)
    assert finding.remedy is not None and finding.remedy.summary.startswith("Read its log")


@pytest.mark.parametrize(
    ("case", "target", "database", "backend", "broken_side", "recreates", "advice"),
    [
        pytest.param("guide-correct", "macos", volume("guide-correct_db_socket"), bind("/Users/me/s"),
                     "The running containers are the broken side", True, "Recreate the containers", id="running-broken"),
        pytest.param("guide-incorrect", "macos", volume("app_db_socket"), volume("app_db_socket"),
                     "The file on disk is the broken side", False, "Do not recreate from this file", id="file-broken"),
        pytest.param("guide-incorrect", "macos", volume("app_db_socket"), bind("/Users/me/other"),
                     "Both sides are broken", False, "Fix the file first", id="both-broken"),
    ],
)  # fmt: skip
def test_drift_says_which_side_is_broken(
    case: str,
    target: str,
    database: dict[str, Any],
    backend: dict[str, Any],
    broken_side: str,
    recreates: bool,
    advice: str,
) -> None:
    containers = {
        "database": container("database", RUNNING, mounts=[database]),
        "backend": container("backend", RUNNING, mounts=[backend]),
    }
    found = list(find_drift(project(case), containers, "podman", "podman-compose", TargetOS(target)))
    assert found and all(f.id == "container-socket-mount-drift" for f in found)
    first = found[0]
    assert first.detail.startswith(broken_side)
    commands = [c for f in found if f.remedy for c in f.remedy.commands]
    assert all(c.startswith("podman-compose -p ") for c in commands)
    assert any("--force-recreate" in c for c in commands) is recreates
    assert first.remedy is not None
    assert first.remedy.summary.startswith(advice)


def test_root_cause_of_a_broken_file_never_recreates_from_it() -> None:
    containers = {
        "database": container("database", RUNNING, mounts=[volume("app_db_socket")]),
        "backend": container("backend", RUNNING, mounts=[volume("app_db_socket")]),
    }
    findings = [Finding("socket-volume-ok", Status.OK, "ok"), *find_drift(project("guide-incorrect"), containers,
                                                                            "docker", "docker compose", TargetOS.MACOS)]  # fmt: skip
    cause = find_root_cause(findings)
    assert cause is not None and "--force-recreate" not in cause.next_step


def client(name: str, mount: dict[str, Any], user: str = "", status: str = "running") -> SimpleNamespace:
    return SimpleNamespace(
        name=name, labels={}, attrs={"State": {"Status": status}, "Mounts": [mount], "Config": {"User": user}}
    )


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param(client("b2", volume("app_db_socket")), True, id="replica-same-view"),
        pytest.param(client("b2", volume("app_other")), False, id="other-volume"),
        pytest.param(client("b2", volume("app_db_socket"), user="1000"), False, id="other-user"),
        pytest.param(client("b2", volume("app_db_socket"), status="exited"), False, id="not-running"),
        pytest.param(client("b2", bind("/srv/s")), False, id="bind"),
    ],
)  # fmt: skip
def test_clients_with_the_same_view_are_asked_once(other: SimpleNamespace, same: bool) -> None:
    first = client("b1", volume("app_db_socket"))
    directory = "/var/run/postgresql"
    assert (same_view(first, directory, 5432) == same_view(other, directory, 5432)) is same


def test_volume_remedies_use_the_compose_tool_and_runtime() -> None:
    wanted = [WantedVolume("db_socket", "app_db_socket", "socket", external=False)]
    on_engine = [{"Name": "app_db_socket", "Labels": {"com.docker.compose.project": "app"},
                  "Options": {"type": "none", "o": "bind", "device": "/srv/s"}}]  # fmt: skip
    (finding,) = find_volume_problems(
        wanted, on_engine, "app", True, TargetOS.LINUX, compose="podman-compose", runtime="podman"
    )
    assert finding.remedy is not None
    assert "`podman-compose -p app down`" in finding.remedy.summary
    assert "`podman volume rm app_db_socket`" in finding.remedy.summary
