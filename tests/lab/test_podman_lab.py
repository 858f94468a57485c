"""Podman as a lab engine: podman-compose's differences seen by the doctor, and a throwaway
Podman that is proven to leave no process, mount, network rule or storage behind."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from doctor.engine.composetool import identify_tool
from lab import lab_dir
from lab.engine import mounts_under
from lab.podman import PodmanEngine, ensure_image, netavark_rules, processes_naming
from lab.scenarios import Deployment, up
from tests.lab.test_doctor_live import by_id, doctor

pytestmark = pytest.mark.lab
ON_PODMAN = pytest.mark.parametrize("engine_and_image", ["podman"], indirect=True)


@ON_PODMAN
def test_podman_compose_ignores_the_wait_and_the_doctor_calls_it_history(
    deploy: Callable[[str], Deployment],
) -> None:
    deployment = deploy("podman-compose-wait")
    log = deployment.logs("backend")
    # The ignored wait, proven from the backend's own log: it failed before it connected.
    assert log.index("No such file or directory") < log.index("connected: PostgreSQL 15"), log[-2000:]
    backend = deployment.container("backend")
    assert backend.labels["io.podman.compose.project"] == deployment.project
    assert backend.labels["io.podman.compose.config-hash"] == "123"
    assert identify_tool([backend.labels], "podman").name == "podman-compose"
    volume = deployment.client().volumes.get(f"{deployment.project}_db_socket")
    assert "com.docker.compose.volume" not in (volume.attrs.get("Labels") or {})

    report = doctor(deployment)
    assert report["status"] == "ok", [(f["id"], f["status"], f["title"]) for f in report["findings"]]
    assert report["target"]["compose_tool"].startswith("podman-compose")
    assert report["root_cause"] is None
    (past,) = [f for f in by_id(report)["log-failures-past"] if "backend" in f["title"]]
    assert past["status"] == "info"
    assert "podman-compose ignores that condition" in past["detail"]
    # The time span of the past failures: first to last, two different moments in that order.
    stamp = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}[^ )]*(?: [A-Z]{2,5})?"
    span = re.search(rf", ({stamp}) to ({stamp})\)$", past["title"])
    assert span is not None, past["title"]
    assert span.group(1) < span.group(2), past["title"]


@ON_PODMAN
def test_remedies_use_podman_compose_on_its_deployment(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("podman-compose-wait")
    assert isinstance(deployment.engine, PodmanEngine)
    deployment.engine.podman("kill", "--signal", "KILL", f"{deployment.project}_database_1")
    assert deployment.wait_for({"database": {"state": "exited"}}, timeout=30)
    report = doctor(deployment)
    (stopped,) = by_id(report)["container-not-running"]
    assert stopped["remedy"]["steps"][0]["command"] == f"podman-compose -p {deployment.project} up -d database"
    assert report["root_cause"]["next_step"].startswith("Restart database (`podman-compose")
    assert "stale socket" in report["root_cause"]["next_step"]


def test_a_throwaway_podman_leaves_nothing_behind(podman_engine: PodmanEngine) -> None:
    """Its own root: the service, the health loop, conmon of exec sessions (the doctor's vantage
    execs), podman-compose's bridge network and its netavark rules all go at stop."""
    rules_before, links_before = netavark_rules(), links()
    root = lab_dir() / "podman-throwaway"
    engine = PodmanEngine(root)
    try:
        engine.start()
        image = ensure_image(engine)
        deployment = up(engine, "podman-compose-wait", image)
        try:
            report = doctor(deployment)  # runs execs in the backend
            assert report["status"] == "ok"
        finally:
            deployment.down()
        assert json.loads(engine.podman("ps", "--all", "--format", "json").stdout or "[]") == []
    finally:
        engine.stop()
    assert processes_naming(root) == []
    assert [m for m in mounts_under(root.parent) if m.startswith(str(root) + "/")] == []
    assert not root.exists()
    assert netavark_rules() == rules_before
    assert links() == links_before


def links() -> set[str]:
    """Network interfaces (a podman-compose bridge is podman1, podman2, …)."""
    return {entry.name for entry in Path("/sys/class/net").iterdir()}
