"""The doctor against every lab scenario on a real engine: the right finding ids, root cause and
verdict, asserted from the JSON report; and proof that it changes nothing on the engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, cast

import pytest

from doctor.engine.session import PROBE_LABEL
from lab.scenarios import Deployment

ENGINE_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}) ")

pytestmark = pytest.mark.lab
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def doctor(deployment: Deployment, *extra: str) -> dict[str, Any]:
    env = {**os.environ, **{k: v for k, v in deployment.env().items() if k.startswith("LAB_")}}
    env.pop("DOCKER_HOST", None)
    command = [
        sys.executable, "-m", "doctor", "--format", "json",
        "--project-directory", str(deployment.workdir), "-p", deployment.project,
        "--docker-host", deployment.engine.host, *extra,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr
    return cast("dict[str, Any]", json.loads(done.stdout))


def by_id(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["id"], []).append(finding)
    return found


def problems(report: dict[str, Any]) -> set[str]:
    return {f["id"] for f in report["findings"] if f["status"] in ("fail", "warn")}


EXPECTED = [
    pytest.param("host-share", {"socket-host-path", "log-socket-create-failed", "container-not-running",
                                "log-backend-cannot-connect", "socket-vantage"}, "socket-host-path", id="host-share"),
    pytest.param("volume-mismatch", {"socket-volume-mismatch", "container-socket-mount-drift", "socket-vantage",
                                     "log-backend-cannot-connect"}, "socket-volume-mismatch", id="volume-mismatch"),
    pytest.param("no-socket-mount", {"backend-socket-not-mounted", "socket-vantage", "log-backend-cannot-connect"},
                 "backend-socket-not-mounted", id="no-socket-mount"),
    pytest.param("socket-too-long", {"socket-path-too-long", "log-socket-create-failed", "container-not-running"},
                 "socket-path-too-long", id="socket-too-long"),
    pytest.param("db-killed", {"container-not-running", "log-backend-cannot-connect", "socket-vantage"},
                 "container-not-running", id="db-killed"),
    pytest.param("db-stopped", {"container-not-running", "log-backend-cannot-connect", "socket-vantage"},
                 "container-not-running", id="db-stopped"),
    # On disk the backend mounts a host folder where the database has db_socket: a mismatch (fail)
    # that outranks the host path (a warn on Linux); the running containers still have the volume.
    pytest.param("drift", {"container-socket-mount-drift", "socket-host-path", "socket-volume-mismatch"},
                 "socket-volume-mismatch", id="drift"),
    pytest.param("data-share-chown", {"log-data-dir-permissions", "container-not-running"}, "log-data-dir-permissions",
                 id="data-share-chown"),
    pytest.param("sshfs-socket", {"socket-host-path", "log-socket-create-failed", "container-not-running",
                                  "log-backend-cannot-connect", "socket-vantage"}, "socket-host-path",
                 id="sshfs-socket"),
    pytest.param("sshfs-data-chown", {"log-data-dir-permissions", "container-not-running"},
                 "log-data-dir-permissions", id="sshfs-data-chown"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "expected", "first_cause"), EXPECTED)
def test_doctor_names_what_is_wrong(
    deploy: Callable[[str], Deployment], name: str, expected: set[str], first_cause: str
) -> None:
    report = doctor(deploy(name))
    assert expected <= problems(report), sorted(problems(report))
    assert report["status"] == "fail"
    root = report["root_cause"]
    assert root is not None and root["findings"][0] == first_cause, root
    assert root["next_step"]
    engine = by_id(report)["engine-info"][0]
    description, runtime = RUNTIMES[deploy_engine(report)]
    assert description in engine["title"]
    assert report["target"]["runtime"] == runtime
    assert report["target"]["compose_tool"].startswith("docker compose 2.")  # Compose v2 on both engines


RUNTIMES = {"dockerd": ("Docker Engine", "docker"), "podman": ("Podman", "podman")}


def deploy_engine(report: dict[str, Any]) -> str:
    """Which lab engine answered, from the endpoint in engine-info (each has its own socket)."""
    detail = by_id(report)["engine-info"][0]["detail"]
    return "podman" if "podman.sock" in detail else "dockerd"


def test_guide_failure_chain_and_cause(deploy: Callable[[str], Deployment]) -> None:
    report = doctor(deploy("host-share"), "--target-os", "macos")
    found = by_id(report)
    assert found["socket-host-path"][0]["status"] == "fail"
    assert found["log-socket-create-failed"][0]["detail"].startswith("Cause (unsupported-fs)")
    assert found["socket-vantage"][0]["title"].startswith("Server down")
    statement = report["root_cause"]["statement"]
    for part in ("host folder", "could not create its socket", "exited with code 1", "cannot reach the server"):
        assert part in statement, statement
    evidence = found["log-socket-create-failed"][0]["evidence"]
    assert all(e["source"].startswith(report["target"]["project"]) for e in evidence)
    # Each line as the engine gave it (timestamps=1): its RFC 3339 stamp first.
    assert evidence, found["log-socket-create-failed"]
    assert all(ENGINE_STAMP.match(e["text"]) for e in evidence), evidence


@pytest.mark.parametrize(
    ("name", "finding", "cause", "statement", "absent"),
    [
        # The entrypoint's refused chown of the socket directory is not a data-directory problem.
        pytest.param("sshfs-socket", "log-socket-create-failed", "reverse-sshfs",
                     "bind() is refused on a reverse-sshfs host share", "log-data-dir-permissions", id="socket"),
        pytest.param("sshfs-data-chown", "log-data-dir-permissions", "chown",
                     "chown of the data directory was refused", "log-socket-create-failed", id="data"),
    ],
)  # fmt: skip
def test_reverse_sshfs_cause_is_named(
    deploy: Callable[[str], Deployment], name: str, finding: str, cause: str, statement: str, absent: str
) -> None:
    """On the real reverse-sshfs share the root cause names what the share refused, and only that."""
    deployment = deploy(name)
    report = doctor(deployment, "--target-os", "macos")
    assert absent not in by_id(report), [e for f in by_id(report)[absent] for e in f["evidence"]]
    assert by_id(report)[finding][0]["detail"].startswith(f"Cause ({cause})")
    root = report["root_cause"]
    assert statement in root["statement"], root
    assert finding in root["findings"], root


@pytest.mark.parametrize(("name", "cause"), [("db-killed", "econnrefused"), ("db-stopped", "enoent")])
def test_backend_errors_are_classified_from_container_logs(
    deploy: Callable[[str], Deployment], name: str, cause: str
) -> None:
    finding = by_id(doctor(deploy(name)))["log-backend-cannot-connect"][0]
    assert finding["detail"].startswith(f"Cause ({cause})")


def test_not_shared_is_a_different_verdict_from_server_down(deploy: Callable[[str], Deployment]) -> None:
    report = doctor(deploy("no-socket-mount"))
    vantage = by_id(report)["socket-vantage"][0]
    assert vantage["title"].startswith("Server up, socket not shared with backend")
    sources = {e["source"]: e["text"] for e in vantage["evidence"]}
    assert sources["host"].startswith("answered")  # the server is up...
    assert sources["client:backend"].startswith("no answer")  # ...where the client looks, nothing


def test_healthy_has_no_failure_and_works_from_every_vantage_point(deploy: Callable[[str], Deployment]) -> None:
    report = doctor(deploy("healthy"))
    assert report["status"] != "fail", [f for f in report["findings"] if f["status"] == "fail"]
    found = by_id(report)
    vantage = found["socket-vantage"][0]
    assert vantage["status"] == "ok" and vantage["title"].startswith("The socket works everywhere")
    sights = {e["source"]: e["text"] for e in vantage["evidence"]}
    assert set(sights) == {"host", "probe", "client:backend"}
    assert sights["host"].startswith("answered") and sights["client:backend"].startswith("answered")
    assert sights["probe"].startswith("not looked — not needed")  # this machine reached it directly
    assert {"socket-volume-ok", "engine-volumes", "containers", "container-logs"} <= set(found)


def test_a_live_run_speaks_to_the_engine_without_docker_py(deploy: Callable[[str], Deployment]) -> None:
    """Issue 10: importing docker-py (requests, urllib3) cost about 80 ms of every run; Unix
    sockets go through the doctor's own client, and the verdict is the same."""
    deployment = deploy("healthy")
    env = {**os.environ, **{k: v for k, v in deployment.env().items() if k.startswith("LAB_")}}
    command = [
        sys.executable, "-X", "importtime", "-m", "doctor", "--format", "json",
        "--project-directory", str(deployment.workdir), "-p", deployment.project,
        "--docker-host", deployment.engine.host,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "doctor.engine.api" in names
    assert sorted(n for n in names if n.split(".")[0] in ("docker", "requests", "urllib3")) == []
    vantage = by_id(json.loads(done.stdout))["socket-vantage"][0]
    assert vantage["status"] == "ok", vantage


def events_during(deployment: Deployment, action: Callable[[], object]) -> list[dict[str, Any]]:
    """The engine's events while ``action`` runs, minus the engine's own health checks."""
    client = deployment.client()
    time.sleep(1 - time.time() % 1 + 0.05)  # events have whole-second times: start on a fresh second
    started = int(time.time())
    action()
    time.sleep(1)
    ended = int(time.time()) + 1
    try:
        events = list(client.events(since=started, until=ended, decode=True))
        health = {c.id: _healthcheck_command(c.attrs) for c in client.containers.list(all=True)}
    finally:
        client.close()
    return [e for e in events if not _is_healthcheck(e, health)]


def _healthcheck_command(attrs: dict[str, Any]) -> str | None:
    test = ((attrs.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
    return " ".join(test[1:]) if test and test[0] in ("CMD", "CMD-SHELL") else None


def _is_healthcheck(event: dict[str, Any], health: dict[str, str | None]) -> bool:
    action = str(event.get("Action", ""))
    if action.startswith("health_status") or action in ("exec_die", "exec_died"):
        # exec_die (Docker) and exec_died (Podman) name no command; Docker's exec is judged by its
        # exec_create. Podman reports no exec_create for the lab loop's `podman healthcheck run`.
        return True
    command = action.split(": ", 1)[1] if ": " in action else ""
    return action.startswith("exec_") and command != "" and command == health.get(str(event.get("id")))


MUTATIONS = {
    "create",
    "start",
    "restart",
    "stop",
    "kill",
    "die",
    "destroy",
    "pause",
    "unpause",
    "rename",
    "update",
    "remove",
}


def volumes_now(deployment: Deployment) -> dict[str, str]:
    client = deployment.client()
    try:
        return {v.name: v.attrs.get("CreatedAt", "") for v in client.volumes.list()}
    finally:
        client.close()


def test_doctor_changes_nothing_on_the_engine(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("healthy")
    project = deployment.project
    volumes_before = volumes_now(deployment)
    events = events_during(deployment, lambda: doctor(deployment, "--probe-container", "always"))
    container_events = [e for e in events if e.get("Type") == "container"]
    ours = [e for e in container_events if e["Actor"]["Attributes"].get(PROBE_LABEL) == project]
    theirs = [e for e in container_events if e not in ours]
    actions = {e["Action"] for e in ours}
    # The probe ran and was removed: Docker says destroy, Podman remove.
    assert actions >= {"create", "start"} and actions & {"destroy", "remove"}, actions
    assert not [e for e in theirs if e["Action"].split(":")[0] in MUTATIONS], theirs
    # Docker reports a volume "create" whenever a container mounts an existing named volume (the
    # probe does); the proof is that the volumes are the very same ones, made at the same time.
    assert volumes_now(deployment) == volumes_before
    assert not [e for e in events if e.get("Type") == "volume" and e["Action"] == "destroy"]
    client = deployment.client()
    try:
        assert client.containers.list(all=True, filters={"label": PROBE_LABEL}) == []
    finally:
        client.close()


def test_probe_container_answers_from_inside(deploy: Callable[[str], Deployment]) -> None:
    report = doctor(deploy("healthy"), "--probe-container", "always")
    sights = {e["source"]: e["text"] for e in by_id(report)["socket-vantage"][0]["evidence"]}
    assert sights["probe"].startswith("answered — pg_isready in a probe container")
    assert "accepting connections" in sights["probe"]


def test_read_only_runs_no_exec_and_no_probe(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("healthy")
    events = events_during(deployment, lambda: doctor(deployment, "--read-only", "--probe-container", "always"))
    assert [e.get("Action") for e in events if e.get("Type") == "container"] == []
