"""Finch's API end to end: lab/finchproxy.py answers as finch-daemon does in front of the lab's
dockerd; a project is deployed through it with the real Compose v2 (nerdctl compose's dropping
of driver_opts reproduced), and the doctor, pointed at the proxy, takes its Finch code path."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lab import ROOT, composev2, lab_dir
from lab.engine import Engine
from lab.finchapi import DEFAULT_API
from lab.finchproxy import FinchProxy, ProxyError
from tests.conftest import require

pytestmark = pytest.mark.lab
REPO = ROOT.parent
# Where the doctor's runtime detection looks: a path ending in /run/finch.sock is Finch on Linux
# (its deb/rpm socket); a path through Lima's data directory is Finch on macOS.
SOCKET_PATHS = {
    "linux": ("run", "finch.sock"),
    "macos": ("lima", "data", "finch", "sock", "finch.sock"),
    "elsewhere": ("finch.sock",),
}


def docker_client(host: str, version: str = "auto") -> Any:
    import docker

    return docker.APIClient(base_url=host, version=version, timeout=30)


def raw_get(path: Path, target: str) -> tuple[int, dict[str, str], bytes]:
    """One GET over the socket by hand, read until the server closes: what a client of a
    hijacked finch-daemon answer sees."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    try:
        sock.connect(str(path))
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: finch\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "chunked" in headers.get("transfer-encoding", ""):
        body = _dechunk(body)
    return int(lines[0].split()[1]), headers, body


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + rest[:size], rest[size + 2 :]
    return out


@pytest.fixture(scope="module")
def proxies(lab_engine: Engine) -> Iterator[dict[str, FinchProxy]]:
    """One proxy per socket path, each on its own listen socket in front of the same dockerd."""
    base = lab_dir() / f"finch-{uuid.uuid4().hex[:6]}"
    started: dict[str, FinchProxy] = {}
    try:
        for kind, parts in SOCKET_PATHS.items():
            listen = base.joinpath(kind, *parts)
            listen.parent.mkdir(parents=True, exist_ok=True)
            started[kind] = FinchProxy(lab_engine.host, listen, timeout=30).start()
        yield started
    finally:
        for proxy in started.values():
            proxy.stop()
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class FinchDeployment:
    project: str
    workdir: Path
    device: Path
    env: dict[str, str]
    engine: Engine


@pytest.fixture(scope="module")
def finch_deployment(lab_engine: Engine, lab_image: str, proxies: dict[str, FinchProxy]) -> Iterator[FinchDeployment]:
    """lab/finch/compose.yaml brought up with Compose v2 *through the proxy*, as `finch compose
    up` would reach finch-daemon; torn down directly on dockerd, always."""
    problem = composev2.why_unavailable()
    require(problem is None, problem or "")
    project = f"finch-{uuid.uuid4().hex[:6]}"
    workdir = lab_dir() / "deployments" / project
    workdir.mkdir(parents=True)
    shutil.copy(ROOT / "finch" / "compose.yaml", workdir / "compose.yaml")
    device = workdir / "bind-device"
    device.mkdir()
    env = {"LAB_IMAGE": lab_image, "LAB_BIND_DEVICE": str(device)}
    through = {**env, "DOCKER_HOST": f"unix://{proxies['linux'].listen}"}
    deployment = FinchDeployment(project, workdir, device, env, lab_engine)
    try:
        done = composev2.run(["-p", project, "up", "-d", "--wait"], cwd=workdir, env=through, timeout=180)
        assert done.returncode == 0, done.stderr
        assert _wait_for_log(lab_engine, project, "backend", "connected: PostgreSQL 15", timeout=60)
        yield deployment
    finally:
        direct = {**env, "DOCKER_HOST": lab_engine.host}
        composev2.run(["-p", project, "down", "--volumes", "--timeout", "2"], cwd=workdir, env=direct, timeout=120)
        _sweep(lab_engine, project)
        shutil.rmtree(workdir, ignore_errors=True)


def _container(engine: Engine, project: str, service: str) -> dict[str, Any]:
    client = docker_client(engine.host)
    try:
        labels = [f"com.docker.compose.project={project}", f"com.docker.compose.service={service}"]
        found: list[dict[str, Any]] = client.containers(all=True, filters={"label": labels})
        return found[0]
    finally:
        client.close()


def _wait_for_log(engine: Engine, project: str, service: str, text: str, timeout: float) -> bool:
    client = docker_client(engine.host)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in client.logs(_container(engine, project, service)["Id"]).decode(errors="replace"):
                return True
            time.sleep(0.5)
        return False
    finally:
        client.close()


def _sweep(engine: Engine, project: str) -> None:
    client = docker_client(engine.host)
    try:
        label = f"com.docker.compose.project={project}"
        for container in client.containers(all=True, filters={"label": label}):
            client.remove_container(container["Id"], force=True, v=True)
        for volume in client.volumes().get("Volumes") or []:
            if (volume.get("Labels") or {}).get("com.docker.compose.project") == project:
                client.remove_volume(volume["Name"], force=True)
    finally:
        client.close()


def doctor(deployment: FinchDeployment, proxy: FinchProxy, *extra: str) -> dict[str, Any]:
    env = {**os.environ, **deployment.env}
    env.pop("DOCKER_HOST", None)
    command = [
        sys.executable, "-m", "doctor", "--format", "json",
        "--project-directory", str(deployment.workdir), "-p", deployment.project,
        "--docker-host", f"unix://{proxy.listen}", *extra,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def by_id(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["id"], []).append(finding)
    return found


# The proxy itself, against the real dockerd --------------------------------------------------


def test_version_names_finch_daemon_and_negotiates_143(proxies: dict[str, FinchProxy]) -> None:
    client = docker_client(f"unix://{proxies['linux'].listen}")
    try:
        version = client.version()
        assert version["Platform"]["Name"].startswith("Finch Daemon - ")
        assert (version["ApiVersion"], version["MinAPIVersion"]) == ("1.43", "1.35")
        assert client.api_version == DEFAULT_API  # docker-py's "auto" took the proxy's answer
        assert client.info()["ServerVersion"]  # a versioned call in range reaches dockerd
    finally:
        client.close()
    status, headers, _ = raw_get(proxies["linux"].listen, "/_ping")
    assert status == 200 and headers["api-version"] == "1.43"


@pytest.mark.parametrize(
    ("version", "refusal"),
    [
        pytest.param("1.34", "your api version, v1.34, is below the minimum supported version, v1.35", id="1.34"),
        pytest.param("1.44", "your api version, v1.44, is newer than the server's version, v1.43", id="1.44"),
        pytest.param("1.45", "your api version, v1.45, is newer than the server's version, v1.43", id="1.45"),
        pytest.param("1.35", None, id="1.35"),
        pytest.param("1.43", None, id="1.43"),
    ],
)
def test_api_versions_outside_135_to_143_are_refused(
    proxies: dict[str, FinchProxy], version: str, refusal: str | None
) -> None:
    status, _, body = raw_get(proxies["linux"].listen, f"/v{version}/info")
    if refusal is None:
        assert status == 200 and "ServerVersion" in json.loads(body)
    else:
        assert (status, json.loads(body)) == (400, {"message": refusal})


def test_volumes_have_four_fields_label_filters_are_ignored_and_driver_opts_dropped(
    lab_engine: Engine, proxies: dict[str, FinchProxy], tmp_path: Path
) -> None:
    name = f"finchvol-{uuid.uuid4().hex[:6]}"
    finch = docker_client(f"unix://{proxies['linux'].listen}")
    direct = docker_client(lab_engine.host)
    try:
        made = finch.create_volume(
            name, driver="local", driver_opts={"type": "none", "o": "bind", "device": str(tmp_path)}, labels={"k": "v"}
        )
        assert set(made) == {"Name", "Mountpoint", "Labels"} and made["Labels"] == {"k": "v"}
        assert set(finch.inspect_volume(name)) == {"Name", "Mountpoint", "Labels"}
        assert not direct.inspect_volume(name).get("Options")  # nerdctl never passed the options on
        ignored = finch.volumes(filters={"label": "k=no-such-value"})  # Docker's key: dropped
        assert name in [v["Name"] for v in ignored["Volumes"]]
        assert set(ignored) == {"Volumes"}  # no Warnings
        honoured = finch.volumes(filters={"labels": "k=no-such-value"})  # finch-daemon's own key
        assert name not in [v["Name"] for v in honoured["Volumes"] or []]
        assert name not in [v["Name"] for v in direct.volumes(filters={"label": "k=no-such-value"})["Volumes"] or []]
    finally:
        direct.remove_volume(name, force=True)
        finch.close()
        direct.close()


def test_compose_v2_through_the_proxy_loses_driver_opts_as_nerdctl_compose_does(
    finch_deployment: FinchDeployment,
) -> None:
    model = composev2.config(
        [finch_deployment.workdir / "compose.yaml"], cwd=finch_deployment.workdir, env=finch_deployment.env
    )
    assert model["volumes"]["db_socket"]["driver_opts"]["o"] == "bind"  # the file asks for a bind...
    direct = docker_client(finch_deployment.engine.host)
    try:
        live = direct.inspect_volume(f"{finch_deployment.project}_db_socket")
    finally:
        direct.close()
    assert not live.get("Options")  # ...the engine made an ordinary volume
    assert live["Labels"]["com.docker.compose.volume"] == "db_socket"
    assert list(finch_deployment.device.iterdir()) == []  # nothing ever reached the host folder


@pytest.mark.parametrize(
    ("query", "status", "lines"),
    [
        pytest.param("stdout=1&stderr=1&since={future}", 200, 0, id="integer-since-honoured"),
        pytest.param("stdout=1&stderr=1&since={future}.5", 200, None, id="fractional-since-is-zero"),
        pytest.param("stdout=1&stderr=1&since=2030-01-01T00:00:00Z", 200, None, id="rfc3339-since-is-zero"),
        pytest.param("stdout=0&stderr=0", 400, 0, id="no-stream-refused"),
    ],
)
def test_container_logs_take_since_as_an_integer_only(
    finch_deployment: FinchDeployment, proxies: dict[str, FinchProxy], query: str, status: int, lines: int | None
) -> None:
    container = _container(finch_deployment.engine, finch_deployment.project, "database")["Id"]
    future = int(time.time()) + 3600
    got, headers, body = raw_get(
        proxies["linux"].listen, f"/v1.43/containers/{container}/logs?{query.format(future=future)}"
    )
    assert got == status
    if status == 400:
        assert json.loads(body) == {"message": "you must choose at least one stream"}
        return
    assert "content-length" not in headers and "transfer-encoding" not in headers  # hijacked: ends at close
    if lines == 0:
        assert body == b""
    else:
        assert b"database system is ready to accept connections" in body


def test_proxy_stops_cleanly_with_connections_open(lab_engine: Engine) -> None:
    listen = lab_dir() / f"finch-stop-{uuid.uuid4().hex[:6]}.sock"
    proxy = FinchProxy(lab_engine.host, listen, timeout=5).start()
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # a keep-alive client that never speaks
    idle.connect(str(listen))
    client = docker_client(f"unix://{listen}")
    try:
        assert client.version()["ApiVersion"] == "1.43"  # ping() is False here: finch-daemon answers it with no body
        started = time.monotonic()
        proxy.stop()
        assert time.monotonic() - started < 5
        assert proxy.alive_threads == 0
        assert not listen.exists()
    finally:
        idle.close()
        client.close()


def test_proxy_refuses_to_start_without_an_engine(tmp_path: Path) -> None:
    proxy = FinchProxy(f"unix://{tmp_path}/no-engine.sock", tmp_path / "finch.sock", timeout=2)
    with pytest.raises(FileNotFoundError):
        proxy.start()
    assert not (tmp_path / "finch.sock").exists()
    with pytest.raises(ProxyError, match="unix://"):
        FinchProxy("tcp://127.0.0.1:2375", tmp_path / "finch.sock")


def test_by_hand_from_the_command_line(lab_engine: Engine) -> None:
    listen = lab_dir() / f"finch-cli-{uuid.uuid4().hex[:6]}.sock"
    command = [sys.executable, "-m", "lab.finchproxy", "--upstream", lab_engine.host, "--listen", str(listen)]
    process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not listen.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        status, _, body = raw_get(listen, "/version")
        assert status == 200 and json.loads(body)["Platform"]["Name"].startswith("Finch Daemon - ")
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert not listen.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


# The doctor through the proxy --------------------------------------------------------------

TARGETS = [
    # (which socket path, target OS, why, data-volume-strategy for a named data volume)
    pytest.param("linux", "linux", "the engine: Finch", "info", id="finch-on-linux-socket"),
    pytest.param("macos", "macos", "the engine: Finch", "ok", id="finch-on-macos-socket"),
    # Neither path: the engine cannot tell where it runs, so --target-os auto keeps this machine's OS.
    pytest.param("elsewhere", "linux", "this machine's OS", "info", id="finch-on-an-unknown-socket"),
]


@pytest.mark.parametrize(("where", "target_os", "reason", "data_status"), TARGETS)
def test_doctor_takes_the_finch_code_path(
    finch_deployment: FinchDeployment,
    proxies: dict[str, FinchProxy],
    where: str,
    target_os: str,
    reason: str,
    data_status: str,
) -> None:
    proxy = proxies[where]
    before = len(proxy.requests())
    since = int(time.time()) + 1  # after the backend connected: the start-up retries are history
    time.sleep(max(0.0, since - time.time()))
    report = doctor(finch_deployment, proxy, "--since", str(since), "--probe-container", "always")
    target = report["target"]
    assert (target["runtime"], target["os"]) == ("finch", target_os)
    assert target["os_source"].startswith(reason), target["os_source"]
    found = by_id(report)
    assert "Finch Daemon - " in found["engine-info"][0]["title"]
    assert "API 1.43" in found["engine-info"][0]["title"]
    # The file binds a host folder; on Finch that is a warning whatever the target OS (on a Mac
    # with another runtime it fails), and the live volume, made without options, is clean.
    assert found["socket-volume-bind-device"][0]["status"] == "warn"
    assert found["data-volume-strategy"][0]["status"] == data_status
    assert "volume-bind-device" not in found and "volume-missing" not in found
    assert found["engine-volumes"][0]["status"] == "ok"  # found although the label filter is ignored
    assert {f["status"] for f in found["containers"]} == {"ok"}
    assert "log-backend-cannot-connect" not in found
    # Both logs were read through the proxy, from `since` on: nothing was logged after it.
    title = found["container-logs"][0]["title"]
    assert f"{finch_deployment.project}-database-1 (0 lines)" in title, title
    assert f"{finch_deployment.project}-backend-1 (0 lines)" in title, title
    sights = {e["source"]: e["text"] for e in found["socket-vantage"][0]["evidence"]}
    assert sights["client:backend"].startswith("answered")  # exec through the upgraded connection
    assert sights["probe"].startswith("answered")  # create, start, wait, logs, remove through it
    commands = [
        c
        for f in report["findings"]
        if f["remedy"]
        for c in [*f["remedy"]["verify"], *(s["command"] for s in f["remedy"]["steps"])]
    ]
    # Engine commands are Finch's; Compose commands are those of the tool that deployed the project,
    # told from its labels: here Compose v2 through the proxy (nerdctl compose would give `finch compose`).
    assert report["target"]["compose_tool"].startswith("docker compose 2."), report["target"]
    engine_commands = [c for c in commands if not c.startswith("docker compose ")]
    assert commands and all(c.split()[0] == "finch" for c in engine_commands if c.split()[0] in ("finch", "docker")), (
        commands
    )
    assert "finch volume inspect " + f"{finch_deployment.project}_db_socket" in commands
    asked = proxy.requests()[before:]
    logs = [r for r in asked if "/logs?" in r and "since=" in r]
    assert logs and all(f"since={since}&" in r + "&" for r in logs), logs
    assert any(r.startswith("GET /v1.43/volumes") for r in asked)
