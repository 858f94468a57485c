"""The lab's failing scenario, fixed by the doctor and brought up again, reaches the healthy state."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from lab.scenarios import Deployment
from tests.lab.test_doctor_live import doctor

pytestmark = pytest.mark.lab


def test_fixed_host_share_deployment_becomes_healthy(deploy: Callable[[str], Deployment]) -> None:
    deployment = deploy("host-share")
    report = doctor(deployment, "--fix", "--yes", "--target-os", "macos", "--read-only")
    assert report["fix"]["applied"] is True, report["fix"]
    assert "socket-host-path" not in {f["id"] for f in report["findings"] if f["status"] == "fail"}
    # The failed first start left a half-initialised data directory (initdb ran, the role was never
    # created), as the official image does; start again from empty volumes, as an operator would.
    down = deployment.compose("down", "--volumes", "--timeout", "2", file="compose.yaml")
    assert down.returncode == 0, down.stderr
    up = deployment.compose("up", "-d", file="compose.yaml")
    assert up.returncode == 0, up.stderr
    # This scenario's database has no health check: running, and the backend connected, is healthy.
    healthy = {"database": {"state": "running"}, "backend_log": ["connected: PostgreSQL 15"]}
    assert deployment.wait_for(healthy, timeout=90), deployment.logs("backend")[-2000:]
    # The backend started before the database was ready (this scenario has no health check), so
    # its log holds real failures from before the restart. The socket works from every vantage
    # point now, so they are history: log-failures-past with their time span, and no root cause.
    after = doctor(deployment)
    vantage = next(f for f in after["findings"] if f["id"] == "socket-vantage")
    assert vantage["title"].startswith("The socket works everywhere")
    past = [f for f in after["findings"] if f["id"] == "log-failures-past"]
    assert past and all(f["status"] == "info" for f in past), [f["title"] for f in after["findings"]]
    root = after["root_cause"]  # a warning (backend-start-order) may still make one, never from the past
    assert root is None or "log-backend-cannot-connect" not in root["findings"], root
    assert "log-backend-cannot-connect" not in {f["id"] for f in after["findings"]}
    # ...and read from a whole second after the backend connected, nothing fails. Log times have
    # whole-second resolution for --since, so start on a fresh second, then let the backend's
    # one-second loop run again.
    time.sleep(1.05 - time.time() % 1)
    start = int(time.time())
    time.sleep(2)
    since = doctor(deployment, "--since", str(start))
    assert since["status"] != "fail", [f["title"] for f in since["findings"] if f["status"] == "fail"]
