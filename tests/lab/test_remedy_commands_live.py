"""The remedies' commands work as printed: each one, run in order in the project directory with
Docker Compose v2 on the lab's engine, succeeds, and the deployment ends where the remedy says.

The printed text runs through a shell unchanged. `docker` is a small shim: `docker compose …`
runs the Compose v2 binary, anything else the real docker CLI. The one substitution is the
guide's `alpine` image, which the lab (it never pulls) replaces with its own image."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lab import composev2
from lab.scenarios import Deployment
from tests.conftest import require
from tests.lab.test_doctor_live import by_id, doctor

pytestmark = pytest.mark.lab

SHIM = """#!/bin/sh
if [ "$1" = compose ]; then shift; exec "$CULTIVATE_COMPOSE_BINARY" "$@"; fi
exec "$CULTIVATE_DOCKER_CLI" "$@"
"""
# On the Podman lab engine, `podman` is the real CLI on the engine's private storage; `docker
# compose` stays Compose v2 (through DOCKER_HOST), as an operator runs it against Podman.
PODMAN_SHIM = """#!/bin/sh
exec "$CULTIVATE_PODMAN_CLI" $CULTIVATE_PODMAN_ARGS "$@"
"""


def cli(deployment: Deployment) -> str:
    """The runtime command the doctor prints for this engine."""
    return "podman" if deployment.engine.name == "podman" else "docker"


def shell_env(deployment: Deployment, bindir: Path) -> dict[str, str]:
    docker = shutil.which("docker")
    require(docker is not None, "the docker CLI is missing (apt-get install docker.io)")
    shim = bindir / "docker"
    shim.write_text(SHIM)
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = deployment.env()
    # The commands must name the project themselves, as they do for an operator.
    env.pop("COMPOSE_PROJECT_NAME", None)
    env.update(
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
        CULTIVATE_COMPOSE_BINARY=composev2.command()[0],
        CULTIVATE_DOCKER_CLI=str(docker),
    )
    if deployment.engine.name == "podman":
        podman = shutil.which("podman")
        require(podman is not None, "the podman CLI is missing (apt-get install podman)")
        shim = bindir / "podman"
        shim.write_text(PODMAN_SHIM)
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
        engine: Any = deployment.engine
        env.update(CULTIVATE_PODMAN_CLI=str(podman), CULTIVATE_PODMAN_ARGS=" ".join(engine.global_args()))
    return env


def run_in_order(deployment: Deployment, commands: list[str], env: dict[str, str]) -> list[str]:
    """Run each command as printed, in the project directory; each must succeed."""
    outputs = []
    for command in commands:
        text = command.replace(" alpine ", f" {deployment.image} ")
        done = subprocess.run(
            ["bash", "-c", text],
            cwd=deployment.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
        outputs.append(done.stdout + done.stderr)
    return outputs


def apply(deployment: Deployment, diff: str) -> None:
    assert diff, "the remedy has no diff"
    subprocess.run(["patch", "-p1", "--no-backup-if-mismatch"], input=diff.encode(), cwd=deployment.workdir,
                   check=True, capture_output=True, timeout=30)  # fmt: skip


def remedy(report: dict[str, Any], finding_id: str) -> dict[str, Any]:
    found = by_id(report).get(finding_id)
    assert found, sorted(by_id(report))
    result: dict[str, Any] = found[0]["remedy"]
    # As printed: the steps in their order, then the read-only verify commands.
    result["commands"] = [step["command"] for step in result["steps"]] + result["verify"]
    return result


def labels(deployment: Deployment, volume: str) -> dict[str, str]:
    client = deployment.client()
    try:
        return dict(client.volumes.get(volume).attrs.get("Labels") or {})
    finally:
        client.close()


def test_host_path_fix_then_verify_commands_in_order(deploy: Callable[[str], Deployment], tmp_path: Path) -> None:
    deployment = deploy("host-share")
    fix = remedy(doctor(deployment, "--target-os", "macos"), "socket-host-path")
    volume = f"{deployment.project}_db_socket"
    assert fix["commands"][0].endswith(f"-p {deployment.project} up -d --force-recreate")
    assert f"{cli(deployment)} volume inspect {volume}" in fix["commands"]
    apply(deployment, fix["diff"])
    # The volume does not exist yet: Compose v2 makes it at `up`, the first command.
    outputs = run_in_order(deployment, fix["commands"], shell_env(deployment, tmp_path))
    inspect = outputs[fix["commands"].index(f"{cli(deployment)} volume inspect {volume}")]
    assert f'"Name": "{volume}"' in inspect or f'"Name": "{volume}",' in inspect
    assert labels(deployment, volume)["com.docker.compose.project"] == deployment.project
    mounts = deployment.mounts("backend")
    assert mounts["/var/run/postgresql"]["Name"] == volume


def test_data_move_commands_in_order_around_the_diff(deploy: Callable[[str], Deployment], tmp_path: Path) -> None:
    deployment = deploy("data-share-chown")
    fix = remedy(doctor(deployment, "--target-os", "macos"), "data-volume-strategy")
    commands = fix["commands"]
    env = shell_env(deployment, tmp_path)
    run_in_order(deployment, commands[:2], env)  # stop, back up
    assert (deployment.workdir / "db_data.tar.gz").is_file()
    apply(deployment, fix["diff"])
    run_in_order(deployment, commands[2:], env)  # Compose creates the volume, restore, start
    volume = f"{deployment.project}_db_data"
    assert labels(deployment, volume).get("com.docker.compose.project") == deployment.project
    healthy = {"database": {"state": "running"}, "backend_log": ["connected: PostgreSQL 15"]}
    assert deployment.wait_for(healthy, timeout=90), deployment.logs("database")[-2000:]
    after = by_id(doctor(deployment, "--target-os", "macos"))
    assert "volume-foreign-project" not in after
    assert {f["status"] for f in after["data-volume-strategy"]} == {"ok"}, after["data-volume-strategy"]


def test_bind_device_volume_is_replaced_in_order(deploy: Callable[[str], Deployment], tmp_path: Path) -> None:
    deployment = deploy("healthy")
    device = tmp_path / "device"
    device.mkdir()
    compose = deployment.workdir / "compose.yaml"
    text = compose.read_text()
    assert text.endswith("  db_socket:\n    driver: local\n")
    compose.write_text(text + f"    driver_opts:\n      type: none\n      o: bind\n      device: {device}\n")
    volume = f"{deployment.project}_db_socket"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    env = shell_env(deployment, bindir)
    # Deploy the bind-device volume for real: Compose keeps an existing volume, so replace it.
    run_in_order(deployment, ["docker compose -p $P down", f"{cli(deployment)} volume rm {volume}",
                              "docker compose -p $P up -d --wait"], {**env, "P": deployment.project})  # fmt: skip
    assert labels(deployment, volume)["com.docker.compose.project"] == deployment.project
    fix = remedy(doctor(deployment, "--target-os", "macos"), "socket-volume-bind-device")
    apply(deployment, fix["diff"])
    outputs = run_in_order(deployment, fix["commands"], env)
    assert str(device) not in outputs[-1] and f'"Name": "{volume}"' in outputs[-1]  # volume inspect, last
    after = by_id(doctor(deployment, "--target-os", "macos"))
    assert "socket-volume-bind-device" not in after and "volume-bind-device" not in after
