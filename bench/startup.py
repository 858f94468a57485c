"""Start-up and whole-run time of the doctor, as an operator experiences them.

Prints the median and the worst of N runs of:
  - `cultivate doctor --help` (what every on-call sees first; must stay light: rich, psycopg
    and docker are not imported for it),
  - a whole offline run over the bundled failing example, text report,
  - the same with --format json.

Each command runs once untimed first, with its bytecode cache writable: users' installs hold
.pyc files (pip compiles them), so a PYTHONDONTWRITEBYTECODE inherited from a development shell
would time Python compiling the doctor's modules on every run. Beside the wall time, the median
CPU time (user + system) of the process, which a busy machine disturbs less.

Usage: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import doctor_command  # noqa: E402
from bench.measure import timed as timed_once  # noqa: E402

EXAMPLE = REPO / "examples" / "macos-host-socket"


def summary(command: list[str], runs: int) -> tuple[float, float, float]:
    """Median and worst wall time, and median CPU time, in ms, of ``runs`` runs after a warm-up."""
    walls, cpus = [], []
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    for number in range(runs + 1):
        run = timed_once(command, env)
        if number:  # the first run is the warm-up
            walls.append(run.wall_ms)
            cpus.append(run.cpu_ms)
    return statistics.median(walls), max(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    doctor = doctor_command()
    cases = {
        "doctor --help": [*doctor, "--help"],
        "offline run, text": [*doctor, "--project-directory", str(EXAMPLE), "--target-os", "macos", "--offline"],
        "offline run, json": [*doctor, "--project-directory", str(EXAMPLE), "--format", "json", "--offline"],
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
    }
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {runs} runs each"
    )
    print("load average before: " + " ".join(f"{figure:.2f}" for figure in os.getloadavg()))
    for name, command in cases.items():
        median, worst, cpu = summary(command, runs)
        print(f"{name:28} median {median:7.1f} ms   worst {worst:7.1f} ms   CPU {cpu:7.1f} ms")
    print("load average after: " + " ".join(f"{figure:.2f}" for figure in os.getloadavg()))


if __name__ == "__main__":
    main()
