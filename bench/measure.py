"""How the benchmarks run a command and what they read of it.

- **The installed package.** Every command runs from a folder outside the repository, so that
  ``python -m doctor`` imports the doctor pip installed (the wheel a user has), not this tree.
- **The process's own figures.** Wall time around the process; CPU time (user + system) and
  peak RSS from ``wait4`` on that process: the process and the children it reaped, never the
  processes the benchmark started before it (``RUSAGE_CHILDREN`` would count the compose and
  docker processes that brought a deployment up).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    wall_ms: float
    cpu_ms: float  # user + system of the process and of the children it waited for
    rss_kib: int  # peak RSS: the largest of the process and those children
    stdout: bytes = b""


def doctor_command(*args: str) -> list[str]:
    """``python -m doctor …`` with this interpreter, the one whose environment holds the install."""
    return [sys.executable, "-m", "doctor", *args]


def timed(command: list[str], env: dict[str, str], *, capture: bool = False) -> Run:
    """One run of ``command``; with ``capture``, its stdout is kept (stderr is always dropped)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=tempfile.gettempdir(),
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    output = process.stdout.read() if process.stdout is not None else b""
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped by wait4; keep Popen from waiting again
    if process.stdout is not None:
        process.stdout.close()
    wall = (time.perf_counter() - started) * 1000
    return Run(wall, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss, output)
