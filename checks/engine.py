"""Check: the live engine (volumes, containers, container logs). Placeholder until live diagnosis."""

from __future__ import annotations

from collections.abc import Iterator

from doctor.context import Context
from doctor.models import Finding, Status

ID = "engine"
SUMMARY = "Volumes and containers on the Docker/Finch engine (not available yet)"


def run(ctx: Context) -> Iterator[Finding]:
    if ctx.options.offline:
        yield Finding(ID, Status.SKIP, "Engine checks skipped: --offline")
        return
    yield Finding(
        ID,
        Status.SKIP,
        "Engine checks are not available in this version; only files, logs and sockets are examined",
    )
