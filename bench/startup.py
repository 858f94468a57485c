"""Start-up and whole-run time of the doctor, as an operator experiences them.

Prints the median and the worst of N runs of:
  - `cultivate doctor --help` (what every on-call sees first; must stay light: rich, psycopg
    and docker are not imported for it),
  - a whole offline run over the bundled failing example, text report,
  - the same with --format json.

Usage: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "macos-host-socket"


def timed(command: list[str], runs: int) -> tuple[float, float]:
    samples = []
    env = {**os.environ, "NO_COLOR": "1"}
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False, env=env, cwd=REPO)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    doctor = [sys.executable, "-m", "doctor"]
    cases = {
        "doctor --help": [*doctor, "--help"],
        "offline run, text": [*doctor, "--project-directory", str(EXAMPLE), "--target-os", "macos", "--offline"],
        "offline run, json": [*doctor, "--project-directory", str(EXAMPLE), "--format", "json", "--offline"],
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
    }
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {runs} runs each"
    )
    for name, command in cases.items():
        median, worst = timed(command, runs)
        print(f"{name:28} median {median:7.1f} ms   worst {worst:7.1f} ms")


if __name__ == "__main__":
    main()
