"""The doctor's log scan against `grep -n -F -f keywords` on a PostgreSQL log, with peak RSS.

Writes (or reuses, with --log) a PostgreSQL log of mostly ordinary lines (connections,
statements, checkpoints, autovacuum, constraint errors) with a few hundred failure lines (socket
creation, data directory, libpq, start-up), and the scanner's keywords to a file. Then, best of
--runs each, alternating:
  - `grep -n -F -f keywords log`, its output to a file: GNU grep stops at the first match when
    its output is /dev/null, which would time nothing;
  - the doctor's scan: a child Python that imports the installed package and runs
    `doctor.logscan.scan_stream` over the file (classification, counts, events and examples
    included, and the interpreter's start, as grep's process start is included), with its own
    peak RSS from wait4.
Before timing, it checks that the doctor's candidate lines are grep's lines, by number.

The bounds (issue 12): at most 1.5x grep's time, peak RSS under 64 MiB.
Usage: python bench/logscan.py [--megabytes 256] [--runs 5] [--log PATH] [--stdlib]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORDINARY = [
    "{t} UTC [{p}] LOG:  checkpoint starting: time",
    "{t} UTC [{p}] LOG:  checkpoint complete: wrote {n} buffers (0.{n}%); 0 WAL file(s) added, 0 removed, "
    "1 recycled; write={n}.101 s, sync=0.004 s, total={n}.120 s; sync files={n}, longest=0.002 s, "
    "average=0.001 s; distance={n} kB, estimate={n} kB",
    "{t} UTC [{p}] LOG:  connection received: host=172.18.0.{n} port={p}",
    "{t} UTC [{p}] LOG:  connection authorized: user=app database=app application_name=psql",
    "{t} UTC [{p}] LOG:  disconnection: session time: 0:00:0{n}.{p} user=app database=app host=172.18.0.3 port={p}",
    "{t} UTC [{p}] LOG:  statement: SELECT id, name, email FROM accounts WHERE id = {n}",
    "{t} UTC [{p}] LOG:  duration: {n}.{p} ms  statement: UPDATE orders SET status = 'shipped' WHERE id = {n}",
    '{t} UTC [{p}] LOG:  automatic vacuum of table "app.public.orders": index scans: 1',
    '{t} UTC [{p}] ERROR:  duplicate key value violates unique constraint "accounts_email_key"',
    "{t} UTC [{p}] DETAIL:  Key (email)=(user{n}@example.com) already exists.",
    "{t} UTC [{p}] LOG:  could not receive data from client: Connection reset by peer",
    "{t} UTC [1] LOG:  database system is ready to accept connections",
]
FAILURES = [
    [
        '{t} UTC [1] LOG:  could not set permissions of file "/var/run/postgresql/.s.PGSQL.5432": Invalid argument',
        '{t} UTC [1] WARNING:  could not create Unix-domain socket in directory "/var/run/postgresql"',
        "{t} UTC [1] FATAL:  could not create any Unix-domain sockets",
    ],
    [
        '{t} UTC [{p}] FATAL:  connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
        "No such file or directory"
    ],
    ["{t} UTC [{p}] FATAL:  the database system is starting up"],
    ["chown: changing ownership of '/var/lib/postgresql/data': Operation not permitted"],
    ['{t} UTC [1] FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership'],
]
SCAN = """
import sys
from doctor import logs
from doctor.logscan import KEYWORD_BYTES, scan_stream
finder = logs.find_finder(KEYWORD_BYTES) if sys.argv[2] == "stdlib" else None
with open(sys.argv[1], "rb") as stream:
    scan = scan_stream(stream, "postgres.log", finder)
print(scan.lines, sum(hits.count for hits in scan.hits.values()))
"""
CANDIDATES = """
import sys
from doctor.logs import CandidateLines
from doctor.logscan import KEYWORD_BYTES
with open(sys.argv[1], "rb") as stream:
    print("\\n".join(str(number) for number, _ in CandidateLines(stream, KEYWORD_BYTES)))
"""
KEYWORDS = "from doctor.logscan import KEYWORDS; print('\\n'.join(KEYWORDS))"


def write_log(path: Path, megabytes: int) -> None:
    """About 1 MiB of varied ordinary lines, repeated with new timestamps, and one failure
    event (one to three lines) in each MiB."""
    rnd = random.Random(12)
    target = megabytes * 1024 * 1024
    written, block, second = 0, 0, 0
    with path.open("wb") as stream:
        while written < target:
            lines = []
            for i in range(8500):
                second += 1 if i % 40 == 0 else 0
                stamp = f"2026-03-02 {second // 3600 % 24:02d}:{second // 60 % 60:02d}:{second % 60:02d}.{i % 1000:03d}"
                lines.append(rnd.choice(ORDINARY).format(t=stamp, p=rnd.randint(10, 99999), n=rnd.randint(1, 999)))
                if i == 4000:
                    event = FAILURES[block % len(FAILURES)]
                    lines.extend(x.format(t=stamp, p=rnd.randint(10, 99999)) for x in event)
            data = ("\n".join(lines) + "\n").encode()
            stream.write(data)
            written += len(data)
            block += 1


def timed(command: list[str], out: Path, cwd: Path) -> tuple[float, int, str]:
    """Wall time in seconds, the process's own peak RSS in KiB (wait4), and its output."""
    with out.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.DEVNULL, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4
    if process.returncode not in (0, 1):  # grep's 1 is "no line matched"
        sys.exit(f"{command[0]} failed with exit code {process.returncode}")
    return elapsed, usage.ru_maxrss, out.read_text()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--log", type=Path, help="reuse this log (written there first if it does not exist)")
    parser.add_argument(
        "--stdlib", action="store_true", help="the scan without ahocorasick-rs: a bytes.find per keyword"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)  # the children run here, so `doctor` is the installed package
        log = args.log.resolve() if args.log else directory / "postgres.log"
        if not log.exists():
            write_log(log, args.megabytes)
        keywords = directory / "keywords"
        keywords.write_text(subprocess.check_output([sys.executable, "-c", KEYWORDS], cwd=directory, text=True))
        out = directory / "out"
        grep = ["grep", "-n", "-F", "-f", str(keywords), str(log)]
        doctor = [sys.executable, "-c", SCAN, str(log), "stdlib" if args.stdlib else "automaton"]
        grep_lines = [line.split(":", 1)[0] for line in timed(grep, out, directory)[2].splitlines()]
        doctor_lines = timed([sys.executable, "-c", CANDIDATES, str(log)], out, directory)[2].split()
        if grep_lines != doctor_lines:
            sys.exit(f"the doctor's candidate lines differ from grep's ({len(doctor_lines)} against {len(grep_lines)})")
        grep_times, doctor_times, peak = [], [], 0
        for _ in range(args.runs):
            grep_times.append(timed(grep, out, directory)[0])
            elapsed, rss, answer = timed(doctor, out, directory)
            doctor_times.append(elapsed)
            peak = max(peak, rss)
        start = min(timed([sys.executable, "-c", "pass"], out, directory)[0] for _ in range(args.runs))
        mib = log.stat().st_size / 1_048_576
    lines, hits = answer.split()
    grep_best, doctor_best = min(grep_times), min(doctor_times)
    ratio = doctor_best / grep_best
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}")
    print(
        f"log: {mib:.0f} MiB, {lines} lines, {len(grep_lines)} with a keyword, {hits} failure lines; best of {args.runs}"
    )
    print(f"grep -n -F -f keywords : {grep_best:6.3f} s  {mib / grep_best:6.0f} MiB/s")
    label = "doctor, bytes.find" if args.stdlib else "doctor scan_stream"
    print(
        f"{label:23}: {doctor_best:6.3f} s  {mib / doctor_best:6.0f} MiB/s  peak RSS {peak / 1024:.0f} MiB"
        f"  (python -c pass: {start:.3f} s)"
    )
    verdicts = [f"ratio {ratio:.2f}x grep's time: " + ("within 1.5x" if ratio <= 1.5 else "OVER the 1.5x bound")]
    verdicts.append(
        f"peak RSS {peak / 1024:.0f} MiB: " + ("under 64 MiB" if peak < 64 * 1024 else "OVER the 64 MiB bound")
    )
    print("; ".join(verdicts))


if __name__ == "__main__":
    main()
