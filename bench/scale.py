"""Time to verdict at scale: one database and N socket clients in the lab (dockerd, Compose v2),
the doctor against a manual script of the same commands with Compose v2 and the docker CLI:

  docker compose config -q; docker volume inspect (each volume); docker logs --tail 5000 (each
  container); docker exec <client> pg_isready -h <socket dir> (each client)

at 2 containers (1 database + 1 client) and 31 (1 + 30). Also the doctor's own peak RSS: the
child's rusage from wait4, which covers the doctor's process only (not the compose and docker
processes the benchmark started before it, which RUSAGE_CHILDREN would include).

Each side runs once untimed first (a warm-up: the engine's and the file system's caches), then
the two take turns, run by run, so that a drift of the machine falls on both. The doctor runs
with its bytecode cache writable: users' installs hold .pyc files (pip compiles them), so a
PYTHONDONTWRITEBYTECODE inherited from a development shell would time Python compiling the
doctor's modules on every run, which no user waits for. Beside the wall time, the CPU time (user +
system) of the doctor's process and of the script's whole process tree, a figure that a busy
machine disturbs less than the wall time. The load average is printed before and after.

Needs the lab (root; `lab/lab install`). Usage: python bench/scale.py [--runs N] [--clients 1,30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import Run, doctor_command, timed  # noqa: E402
from lab import composev2, lab_dir  # noqa: E402
from lab.engine import default_engine, teardown  # noqa: E402
from lab.image import ensure_image  # noqa: E402

MANUAL = """set -u
"$COMPOSE" -p "$P" -f "$F" config -q
for v in $(docker volume ls -q --filter label=com.docker.compose.project="$P"); do docker volume inspect "$v" >/dev/null; done
for c in $(docker ps -aq --filter label=com.docker.compose.project="$P"); do docker logs --tail 5000 "$c" >/dev/null 2>&1; done
for c in $(docker ps -q --filter label=com.docker.compose.project="$P" --filter label=bench.client=1); do
  docker exec "$c" pg_isready -h /var/run/postgresql -t 5 >/dev/null || true
done
"""


def compose_file(clients: int) -> dict[str, object]:
    """The healthy lab deployment with ``clients`` backends sharing the socket volume."""
    database = {
        "image": "${LAB_IMAGE}",
        "network_mode": "none",
        "environment": {"POSTGRES_USER": "app", "POSTGRES_DB": "app", "POSTGRES_PASSWORD": "lab-only-password"},
        "volumes": ["db_data:/var/lib/postgresql/data", "db_socket:/var/run/postgresql"],
        "healthcheck": {"test": ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "app"], "interval": "1s", "retries": 60},
    }
    services: dict[str, object] = {"database": database}
    for number in range(1, clients + 1):
        services[f"backend{number}"] = {
            "image": "${LAB_IMAGE}",
            "network_mode": "none",
            "command": ["backend"],
            "labels": {"bench.client": "1"},
            "environment": {
                "DATABASE_URL": "postgresql://app@localhost/app?host=/var/run/postgresql",
                "BACKEND_RETRY_SECONDS": "30",  # a quiet client: the benchmark measures reads, not load
            },
            "volumes": ["db_socket:/var/run/postgresql"],
            "depends_on": {"database": {"condition": "service_healthy"}},
        }
    return {"services": services, "volumes": {"db_data": {}, "db_socket": {}}}


def alternating(sides: list[tuple[list[str], dict[str, str]]], runs: int) -> list[list[Run]]:
    """``runs`` timed runs of each side after one warm-up each, the sides taking turns: whatever
    drifts while the benchmark runs (a deployment settling after ``up``, its health checks,
    another process) falls on both sides alike, not on whichever ran first."""
    for command, env in sides:
        timed(command, env)  # the warm-up: not counted
    results: list[list[Run]] = [[] for _ in sides]
    for _ in range(runs):
        for (command, env), runs_of_side in zip(sides, results, strict=True):
            runs_of_side.append(timed(command, env))
    return results


def load() -> str:
    return "load average " + " ".join(f"{figure:.2f}" for figure in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", default="1,30")
    args = parser.parse_args()
    engine = default_engine()
    ours = engine.pid() is None  # stop only an engine this benchmark started
    engine.start()
    image = ensure_image(engine.host)
    print(
        f"machine: {os.cpu_count()} cores; {args.runs} runs each after a warm-up, taking turns, median; dockerd, Compose v2"
    )
    print(f"before: {load()}")
    results: dict[int, float] = {}
    try:
        for clients in (int(n) for n in args.clients.split(",")):
            project = f"bench-scale-{clients}"
            workdir = lab_dir() / "deployments" / project
            workdir.mkdir(parents=True, exist_ok=True)
            (workdir / "compose.yaml").write_text(yaml.safe_dump(compose_file(clients), sort_keys=False))
            env = {**engine.env(), "LAB_IMAGE": image, "P": project, "F": str(workdir / "compose.yaml"),
                   "COMPOSE": composev2.command()[0]}  # fmt: skip
            base = ["-p", project, "-f", str(workdir / "compose.yaml")]
            try:
                done = composev2.run([*base, "up", "-d", "--wait"], cwd=workdir, env=env, timeout=600)
                if done.returncode != 0:
                    raise SystemExit(f"compose up failed: {done.stderr[-2000:]}")
                doctor = doctor_command("--format", "json", "--project-directory", str(workdir),
                                        "-p", project, "--docker-host", engine.host)  # fmt: skip
                doctor_env = {key: value for key, value in env.items() if key != "PYTHONDONTWRITEBYTECODE"}
                manual = ["bash", "-c", MANUAL]
                doctor_runs, manual_runs = alternating([(doctor, doctor_env), (manual, env)], args.runs)
                doctor_ms = statistics.median(run.wall_ms for run in doctor_runs)
                manual_ms = statistics.median(run.wall_ms for run in manual_runs)
                doctor_cpu = statistics.median(run.cpu_ms for run in doctor_runs)
                manual_cpu = statistics.median(run.cpu_ms for run in manual_runs)
                results[clients + 1] = doctor_ms
                print(f"{clients + 1:3} containers: doctor {doctor_ms:6.0f} ms (CPU {doctor_cpu:4.0f} ms, peak RSS "
                      f"{max(run.rss_kib for run in doctor_runs) / 1024:.0f} MiB)   manual script {manual_ms:6.0f} ms "
                      f"(CPU {manual_cpu:4.0f} ms)   ratio {doctor_ms / manual_ms:.2f}   {load()}")  # fmt: skip
            finally:
                composev2.run([*base, "down", "-v", "-t", "2"], cwd=workdir, env=env, timeout=300)
        if len(results) == 2:
            small, large = sorted(results)
            print(f"{large} containers take {results[large] / results[small]:.2f}x the time of {small}")
    finally:
        if ours:
            teardown(lab_dir())


if __name__ == "__main__":
    main()
