"""Log-scanning throughput and peak memory of the classifier against `grep -c -F`.

Writes a synthetic PostgreSQL log (ordinary lines with a failure signature now and then,
the mix a crash-looping database produces), then measures:
  - the doctor's scan (`cultivate doctor --log-file`), in a child process, with its peak RSS,
  - `grep -c -F "Unix-domain"` over the same file, the floor any scanner is compared with.

Usage: python bench/logscan.py [--megabytes N]   (default 256; the engine issue asks for 1 GB)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORDINARY = [
    "2024-05-01 09:12:03.123 UTC [1] LOG:  checkpoint starting: time",
    "2024-05-01 09:12:03.123 UTC [57] LOG:  statement: SELECT id, name FROM accounts WHERE id = 42",
    "2024-05-01 09:12:03.123 UTC [1] LOG:  database system is ready to accept connections",
    "backend-1  | GET /api/health 200 2.1ms",
]
FAILURE = [
    '2024-05-01 09:12:03.123 UTC [1] LOG:  could not set permissions of file "/var/run/postgresql/.s.PGSQL.5432": Invalid argument',
    '2024-05-01 09:12:03.123 UTC [1] WARNING:  could not create Unix-domain socket in directory "/var/run/postgresql"',
    "2024-05-01 09:12:03.123 UTC [1] FATAL:  could not create any Unix-domain sockets",
]


def write_log(path: Path, megabytes: int) -> int:
    block = ("\n".join(ORDINARY * 250 + FAILURE) + "\n").encode()
    target = megabytes * 1024 * 1024
    written = 0
    with path.open("wb") as stream:
        while written < target:
            stream.write(block)
            written += len(block)
    return written


def run(command: list[str]) -> tuple[float, int]:
    """Wall time and the child's peak RSS in KiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=256)
    megabytes = parser.parse_args().megabytes
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "postgres.log"
        size = write_log(log, megabytes)
        mib = size / 1_048_576
        doctor_time, doctor_rss = run([sys.executable, "-m", "doctor", "--log-file", str(log), "--format", "json"])
        grep_time, _ = run(["grep", "-c", "-F", "Unix-domain", str(log)])
    print(f"machine: {os.cpu_count()} cores; log {mib:.0f} MiB")
    print(
        f"doctor --log-file : {doctor_time:6.2f} s  {mib / doctor_time:7.1f} MiB/s  peak RSS {doctor_rss / 1024:.0f} MiB"
    )
    print(f"grep -c -F        : {grep_time:6.2f} s  {mib / grep_time:7.1f} MiB/s")
    print(f"ratio             : {doctor_time / grep_time:.1f}x grep's time")


if __name__ == "__main__":
    main()
