"""The lab's health-check loop for its private Podman (``python -m lab.podmanhealth ROOT``).

Podman schedules health checks with systemd timers; without systemd it logs "unable to get
systemd connection to add healthchecks" and a container never becomes healthy, so Compose's
``depends_on: condition: service_healthy`` and ``up --wait`` would wait forever. This loop runs
``podman healthcheck run`` once a second for every running container that has a health check,
the role systemd's timer plays. It ends on SIGTERM (the engine's stop)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from lab.podman import PodmanEngine

INTERVAL = 1.0
_STATE = {"running": True}


def _stop(signum: int, frame: FrameType | None) -> None:
    _STATE["running"] = False


def checked_containers(engine: PodmanEngine) -> list[str]:
    listed = engine.podman("ps", "--filter", "health=starting", "--format", "{{.ID}}", timeout=20)
    healthy = engine.podman("ps", "--filter", "health=healthy", "--format", "{{.ID}}", timeout=20)
    unhealthy = engine.podman("ps", "--filter", "health=unhealthy", "--format", "{{.ID}}", timeout=20)
    return [line for done in (listed, healthy, unhealthy) for line in done.stdout.split() if line]


def main(root: str) -> int:
    signal.signal(signal.SIGTERM, _stop)
    engine = PodmanEngine(Path(root))
    while _STATE["running"]:
        started = time.monotonic()
        try:
            for container in checked_containers(engine):
                if not _STATE["running"]:
                    break
                engine.podman("healthcheck", "run", container, timeout=30)
        except (subprocess.SubprocessError, OSError):
            pass  # the engine is stopping or busy: try again on the next round
        time.sleep(max(0.1, INTERVAL - (time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
