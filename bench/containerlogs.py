"""Scanning a container's log through the engine: the doctor's container-logs check against
`docker logs <c> | grep -c -F "Unix-domain"` on the same container, with the doctor's peak RSS.
A lab container writes the log (ordinary lines with the failure signature now and then).
Needs the lab (root). Usage: python bench/containerlogs.py [--megabytes N]   (default 1024)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import doctor_command, timed  # noqa: E402
from lab import composev2, lab_dir  # noqa: E402
from lab.engine import default_engine, teardown  # noqa: E402
from lab.image import ensure_image  # noqa: E402

WRITER = """
import sys
ordinary = "2024-05-01 09:12:03.123 UTC [57] LOG:  statement: SELECT id, name FROM accounts WHERE id = 42\\n"
failure = ("2024-05-01 09:12:03.123 UTC [1] LOG:  could not set permissions of file \\"/var/run/postgresql/.s.PGSQL.5432\\": Invalid argument\\n"
           "2024-05-01 09:12:03.123 UTC [1] FATAL:  could not create any Unix-domain sockets\\n")
block = (ordinary * 1000 + failure).encode()
target = int(sys.argv[1]) * 1024 * 1024
out = sys.stdout.buffer
written = 0
while written < target:
    out.write(block)
    written += len(block)
out.flush()
"""

COMPOSE = """services:
  database:
    image: {image}
    network_mode: none
    entrypoint: ["python3", "/writer.py", "{megabytes}"]
    volumes:
      - ./writer.py:/writer.py:ro
"""


def seconds(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, the process's own peak RSS (KiB) and its stdout."""
    run = timed(command, env, capture=True)
    return run.wall_ms / 1000, run.rss_kib, run.stdout.decode(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=1024)
    megabytes = parser.parse_args().megabytes
    engine = default_engine()
    engine.start()
    image = ensure_image(engine.host)
    env = {**os.environ, "DOCKER_HOST": engine.host}
    project = "logbench"
    try:
        with tempfile.TemporaryDirectory() as directory:
            compose = Path(directory) / "compose.yaml"
            (Path(directory) / "writer.py").write_text(WRITER)
            compose.write_text(COMPOSE.format(image=image, megabytes=megabytes))
            up = composev2.run(["-p", project, "-f", str(compose), "up", "-d"], cwd=Path(directory), env=env)
            if up.returncode != 0:
                raise SystemExit(f"docker compose up failed: {up.stderr}")
            container = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
                                       env=env, capture_output=True, text=True, check=True).stdout.split()[0]  # fmt: skip
            subprocess.run(["docker", "wait", container], env=env, check=True, capture_output=True)
            grep_time, _, grep_out = seconds(
                ["bash", "-c", f"docker logs {container} 2>&1 | grep -c -F Unix-domain"], env
            )
            doctor = doctor_command("--format", "json", "--project-directory", directory, "-p", project,
                                    "--log-lines", "1000000000", "--read-only", "container-logs")  # fmt: skip
            doctor_time, peak, report = seconds(doctor, env)
            found = [f["title"] for f in json.loads(report)["findings"] if f["id"] == "log-socket-create-failed"]
            if not found:  # a fast wrong answer is no benchmark
                raise SystemExit(f"the doctor did not find the signature: {report[:2000]}")
            composev2.run(["-p", project, "-f", str(compose), "down", "-v"], cwd=Path(directory), env=env)
        print(f"machine: {os.cpu_count()} cores; container log {megabytes} MiB")
        print(
            f"docker logs | grep -c -F : {grep_time:6.1f} s  {megabytes / grep_time:6.1f} MiB/s  ({grep_out.strip()} lines)"
        )
        print(
            f"doctor container-logs    : {doctor_time:6.1f} s  {megabytes / doctor_time:6.1f} MiB/s  peak RSS {peak / 1024:.0f} MiB"
        )
        print(f"ratio                    : {doctor_time / grep_time:.2f}x")
        print(f"doctor's finding         : {found[0]}")
    finally:
        teardown(lab_dir())


if __name__ == "__main__":
    main()
