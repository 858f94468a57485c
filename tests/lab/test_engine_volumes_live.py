"""Volume findings on a real engine: volumes made under another project name, outside Compose,
or binding a host folder through their options."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from lab.scenarios import Deployment
from tests.lab.test_doctor_live import by_id, doctor

pytestmark = pytest.mark.lab


def test_renamed_project_finds_the_old_volumes(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("healthy")
    renamed = f"renamed{uuid.uuid4().hex[:6]}"
    report = doctor(deployment, "-p", renamed)  # the last -p wins: a directory rename or -p change
    found = by_id(report)
    missing = found["volume-missing"]
    assert {f["status"] for f in missing} == {"warn"}  # nothing deployed under the new name
    assert any(f"{renamed}_db_data" in f["title"] for f in missing)
    titles = " ".join(f["title"] for f in found["volume-other-projects"])
    assert f"{deployment.project}_db_data" in titles and f"{deployment.project}_db_socket" in titles


def test_volume_made_outside_compose_with_a_bind_device(deploy: Callable[[str], Deployment], tmp_path: Path) -> None:
    deployment = deploy("healthy")
    project = f"handmade{uuid.uuid4().hex[:6]}"
    client = deployment.client()
    device = tmp_path / "socket"
    device.mkdir()
    volume = client.volumes.create(
        f"{project}_db_socket", driver="local", driver_opts={"type": "none", "o": "bind", "device": str(device)}
    )
    try:
        report = doctor(deployment, "-p", project, "--target-os", "macos")
    finally:
        volume.remove(force=True)
        client.close()
    found = by_id(report)
    bind = found["volume-bind-device"][0]
    assert bind["status"] == "fail" and str(device) in bind["title"]
    assert "outside Compose" in found["volume-foreign-project"][0]["title"]
