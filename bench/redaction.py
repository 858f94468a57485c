"""Redaction and log classification are linear in their input.

For line lengths from 1 KiB to 1 MiB, builds inputs that made the old redactor quadratic (hex
runs, long identifier runs, many `KEY=` candidates, a long Compose `content:` line), then times:
  - Redactor.text over one line of that length (tokens on, as in a bundle);
  - the structural Compose pass (redact_compose.compose_text) over a file with such a line;
  - the log classifier (doctor/logs.py's CandidateLines + doctor/logscan.py's signatures) over a file of
    such lines, side by side with `grep -n -F -f keywords` on the same file.
Linear time shows as a constant MiB/s down each column.

Usage: python bench/redaction.py [--max-kib 1024]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from doctor import logscan
from doctor.logs import CandidateLines
from doctor.redact import Redactor
from doctor.redact_compose import compose_text

KINDS: dict[str, Callable[[int], str]] = {
    "hex": lambda n: ("0123456789abcdef" * (n // 16 + 1))[:n],
    "identifier run": lambda n: ("ab_cd.ef-" * (n // 9 + 1))[:n],
    "many KEY= candidates": lambda n: ("MONKEY=x " * (n // 9 + 1))[:n],
    "unterminated quotes": lambda n: ('PASSWORD="x ' * (n // 12 + 1))[:n],
    "urls without @": lambda n: ("postgresql://u:p/x " * (n // 19 + 1))[:n],
}


def best_of(function: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def rate(size: int, seconds: float) -> str:
    return f"{size / 1048576 / seconds:8.1f} MiB/s" if seconds else "        -"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-kib", type=int, default=1024)
    max_kib = parser.parse_args().max_kib
    sizes = [kib for kib in (1, 4, 16, 64, 256, 1024) if kib <= max_kib]
    print("Redactor.text, one line (tokens on)")
    for kind, make in KINDS.items():
        cells = []
        for kib in sizes:
            line = make(kib * 1024)
            redact = partial(Redactor(tokens=True).text, line, "x")
            cells.append(f"{kib:>5} KiB {rate(len(line), best_of(redact))}")
        print(f"  {kind:22} " + " | ".join(cells))
    print("Compose copy with one long content: line (structure, then patterns)")
    cells = []
    for kib in sizes:
        body = KINDS["hex"](kib * 1024)
        text = f'services:\n  db:\n    image: postgres\nsecrets:\n  s:\n    content: "{body}"\n'
        redact_compose = partial(compose_text, Redactor(tokens=True), text, "c")
        cells.append(f"{kib:>5} KiB {rate(len(text), best_of(redact_compose))}")
    print("  " + " | ".join(cells))
    print("Log classification, 32 MiB of lines of each length, against grep -n -F -f keywords")
    keywords = "\n".join(logscan.KEYWORDS) + "\n"
    with tempfile.TemporaryDirectory() as directory:
        keyword_file = Path(directory) / "keywords"
        keyword_file.write_text(keywords)
        for kib in sizes:
            path = Path(directory) / f"log-{kib}"
            encoded = (KINDS["hex"](kib * 1024 - 60) + " could not create any Unix-domain sockets\n").encode()
            with path.open("wb") as stream:
                for _ in range(max(1, 32 * 1024 // kib)):
                    stream.write(encoded)
            size = path.stat().st_size

            def classify(path: Path = path) -> None:
                with path.open("rb") as stream:
                    for _number, text in CandidateLines(stream, logscan.KEYWORD_BYTES):
                        for signature in logscan.SIGNATURES:
                            signature.pattern.search(text)

            def grep_lines(path: Path = path) -> None:
                # Into a file: GNU grep stops at the first match when its output is /dev/null.
                with (Path(directory) / "grep.out").open("wb") as sink:
                    subprocess.run(["grep", "-n", "-F", "-f", str(keyword_file), str(path)], stdout=sink, check=False)

            doctor = best_of(classify, 1)
            grep = best_of(grep_lines, 1)
            print(
                f"  lines of {kib:>5} KiB: doctor {rate(size, doctor)}   grep {rate(size, grep)}   ({doctor / grep:.1f}x)"
            )
            os.unlink(path)


if __name__ == "__main__":
    main()
