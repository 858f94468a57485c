"""Check: PostgreSQL and backend logs for the socket failure signatures, with their causes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from doctor import catalog
from doctor.context import Context
from doctor.logs import LogUnreadable, open_log
from doctor.logscan import failures, findings_for, scan_stream  # the classifier lives in the core
from doctor.models import Finding, Status, skipped

ID = catalog.LOG_SIGNATURES
SUMMARY = "Logs show no socket-creation, data-directory or connection failure"


def run(ctx: Context) -> Iterator[Finding]:
    if not ctx.options.log_files:
        yield skipped(ID, "no --log-file given")
        return
    for path in ctx.options.log_files:
        source = "stdin" if path == "-" else Path(path).name
        try:
            stream = open_log(path)
            try:
                scan = scan_stream(stream, source)
            finally:
                if path != "-":
                    stream.close()
        except (LogUnreadable, OSError) as exc:
            yield Finding(catalog.LOG_FILE_UNREADABLE, Status.ERROR, f"Cannot read the log {path}: {exc}")
            continue
        produced = list(findings_for(scan))
        yield from produced
        if not failures(produced):
            yield Finding(ID, Status.OK, f"No known failure signature in {scan.lines} line(s) of {source}")
