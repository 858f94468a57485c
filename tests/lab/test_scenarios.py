"""Each lab scenario really reaches the state it describes, proven from the engine, the logs and
the filesystem, independently of the doctor."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import yaml

from lab.engine import Engine, alive, mounts_under
from lab.scenarios import Deployment, load, names
from tests.lab.conftest import ENGINES

pytestmark = pytest.mark.lab


def check_expectations(deployment: Deployment) -> None:
    """Assert every expectation of scenario.yaml, each with a message that shows what is there."""
    expect = deployment.scenario.expect
    for service in ("database", "backend"):
        if service in expect:
            wanted, state = expect[service], deployment.state(service)
            assert state["state"] == wanted["state"], (service, state, deployment.logs(service)[-2000:])
            code = wanted.get("exit_code")
            if code == "nonzero":
                assert state["exit_code"] != 0, (service, state)
            elif code is not None:
                assert state["exit_code"] == code, (service, state)
            if "health" in wanted:
                assert state["health"] == wanted["health"], (service, state)
    for key in ("database_log", "backend_log"):
        text = deployment.logs(key.removesuffix("_log"))
        for line in expect.get(key, []):
            assert line in text, (key, line, text[-3000:])
    if "socket_file" in expect:
        path = deployment.socket_path()
        assert path is not None
        assert path.exists() == (expect["socket_file"] == "present"), (path, expect["socket_file"])


@pytest.mark.parametrize(
    ("engine_and_image", "name"),
    [pytest.param(engine, name, id=f"{engine}-{name}") for engine in ENGINES for name in names(engine)],
    indirect=["engine_and_image"],
)
def test_scenario_reaches_its_state(deploy: Callable[[str], Deployment], name: str) -> None:
    check_expectations(deploy(name))


def test_healthy_socket_works_from_this_machine(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("healthy")
    path = deployment.socket_path()
    assert path is not None and path.is_socket()
    with psycopg.connect(host=str(path.parent), user="app", dbname="app", connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("app",)


@pytest.mark.parametrize("name", ["healthy", "no-socket-mount"])
def test_clients_start_only_after_the_final_server(deploy: Callable[[str], Deployment], name: str) -> None:
    """The health check passes for the final server only, never for the entrypoint's temporary
    initialisation server: the backend's first attempt meets a server that is ready."""
    deployment = deploy(name)
    assert "lab entrypoint: initialised" in deployment.logs("database")  # through initialisation
    first = deployment.logs("backend").splitlines()[0]
    expected = deployment.scenario.expect["backend_log"][0]  # connected, or the scenario's own failure
    assert expected in first, deployment.logs("backend")[-2000:]
    assert "the database system is" not in deployment.logs("backend")


def test_host_share_prints_exactly_the_guide_lines(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("host-share")
    lines = [re.sub(r"^\S+ \S+ \S+ \[\d+\] ", "", line) for line in deployment.logs("database").splitlines()]
    expected = deployment.scenario.expect["database_log"]
    start = lines.index(expected[0])
    assert lines[start : start + 3] == expected


def test_killed_database_leaves_a_socket_nobody_listens_on(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("db-killed")
    path = deployment.socket_path()
    assert path is not None and path.is_socket()
    probe = socket.socket(socket.AF_UNIX)
    with pytest.raises(ConnectionRefusedError):
        probe.connect(str(path))
    probe.close()


def test_drift_running_containers_differ_from_the_file_on_disk(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("drift")
    drift = deployment.scenario.expect["drift"]
    running = deployment.mounts(drift["service"])[drift["target"]]
    assert running["Type"] == drift["running"]
    on_disk = yaml.safe_load((deployment.workdir / "compose.yaml").read_text())
    entry = next(v for v in on_disk["services"][drift["service"]]["volumes"] if v.endswith(":" + drift["target"]))
    assert entry.startswith("${LAB_SHARE") and drift["on_disk"] == "bind"
    deployed = yaml.safe_load((deployment.workdir / "deployed.yaml").read_text())
    assert deployed != on_disk


def test_every_scenario_is_documented() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in names():
        assert load(name).description
        assert f"`{name}`" in readme, name


def test_nothing_is_left_behind_by_the_scenarios(lab_engine: Engine) -> None:
    import docker

    client = docker.DockerClient(base_url=lab_engine.host, version="auto", timeout=30)
    try:
        assert client.containers.list(all=True) == []
        assert client.volumes.list() == []
    finally:
        client.close()
    assert [m for m in mounts_under(lab_engine.root.parent) if "deployments" in m] == []


def test_lab_command_cleans_up_after_itself(tmp_path: Path, lab_engine: Engine) -> None:
    """A second, throwaway lab: engine up, a scenario up and down, engine down; nothing remains."""
    root = Path("/tmp") / f"cd-lab-{tmp_path.name[-12:]}"
    env = {"CULTIVATE_LAB_DIR": str(root), "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "lab", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)

    try:
        started = run("scenario", "healthy")
        assert started.returncode == 0, started.stderr
        project = re.search(r"# project (\S+)", started.stdout)
        assert project is not None
        # The printed commands work as printed: the exports, then Compose v2's `ps`.
        look = re.search(r"^# look:  (.+)$", started.stdout, re.MULTILINE)
        assert look is not None, started.stdout
        exports = "\n".join(line for line in started.stdout.splitlines() if line.startswith("export "))
        shown = subprocess.run(["bash", "-c", f"{exports}\n{look.group(1)}"], env=env, capture_output=True,
                               text=True, timeout=60, check=False)  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert f"{project.group(1)}-database-1" in shown.stdout and "healthy" in shown.stdout, shown.stdout
        # So does the printed doctor command, with the installed console script on PATH.
        doctor = re.search(r"^# doctor: (.+)$", started.stdout, re.MULTILINE)
        assert doctor is not None, started.stdout
        with_script = {**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"}
        verdict = subprocess.run(["bash", "-c", f"{exports}\n{doctor.group(1)} --format json"], env=with_script,
                                 cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert verdict.returncode == 0, verdict.stderr
        assert json.loads(verdict.stdout)["status"] == "ok"
        pid = int((root / "engine" / "docker.pid").read_text())
        stopped = run("down")
        assert stopped.returncode == 0, stopped.stderr
        assert not alive(pid)
        assert mounts_under(root) == []
        assert not root.exists()
    finally:
        run("down")
