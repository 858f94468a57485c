"""Debian's podman-compose (1.0) against the lab's private Podman, for the scenarios that show
how it differs from Compose v2: it ignores ``depends_on: condition: service_healthy``, labels
its containers ``io.podman.compose.*`` (``io.podman.compose.config-hash`` is ``123``), always adds a project
network (netavark bridge with iptables chains), and leaves that network after ``down -v``."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.scenarios import Deployment


def run(
    engine: Any, arguments: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """podman-compose with the engine's private storage passed to every podman call it makes."""
    command = ["podman-compose", "--podman-args", shlex.join(engine.global_args()), *arguments]
    return subprocess.run(
        command, cwd=cwd, env={**env, **engine.cli_env()}, capture_output=True, text=True, timeout=timeout, check=False
    )


def down(deployment: Deployment) -> None:
    """``down -v``, then the project networks podman-compose leaves behind: removing them through
    Podman lets netavark delete its iptables chains."""
    deployment.compose("down", "-v", "-t", "2", timeout=120)
    engine: Any = deployment.engine
    listed = engine.podman("network", "ls", "--format", "{{.Name}}", timeout=30).stdout.split()
    for network in listed:
        if network.startswith(f"{deployment.project}_"):
            engine.podman("network", "rm", "--force", network, timeout=60)
