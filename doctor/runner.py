"""Run checks in order; a check that crashes becomes an ``error`` finding and the rest go on."""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from doctor import catalog
from doctor.history import file_waits, settle, works_everywhere
from doctor.models import Evidence, Facts, Finding, Status, skipped

if TYPE_CHECKING:
    from doctor.context import Context


class Check(Protocol):
    @property
    def ID(self) -> str: ...

    @property
    def SUMMARY(self) -> str: ...

    def run(self, ctx: Context) -> Iterator[Finding]: ...


def run_checks(
    ctx: Context,
    checks: Sequence[Check],
    progress: Callable[[str], None] | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> list[Finding]:
    """Each check in turn, until the run's deadline (--deadline): a check not started by then is
    skipped and says so. Every engine call inside a check keeps its own --timeout."""
    findings: list[Finding] = []
    deadline = clock() + ctx.options.deadline
    for number, check in enumerate(checks, 1):
        if progress is not None:
            progress(f"{check.ID} ({number}/{len(checks)})")
        started = time.perf_counter()
        if clock() > deadline:
            produced = [
                skipped(check.ID, f"not run: the run's deadline ({ctx.options.deadline:g} s, --deadline) passed")
            ]
        else:
            try:
                produced = list(check.run(ctx))
            except Exception as exc:
                produced = [_crashed(check, exc)]
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        for finding in produced:
            stamped = dataclasses.replace(finding, check=check.ID, duration_ms=elapsed)
            findings.append(ctx.redactor.finding(stamped))
    if works_everywhere(findings):  # only then is the Compose tool worth asking the engine about
        findings = settle(findings, ctx.compose_tool, file_waits(ctx.project))
    return findings


def _crashed(check: Check, exc: Exception) -> Finding:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else "unknown"
    return Finding(
        id=catalog.CHECK_CRASHED,
        status=Status.ERROR,
        title=f"The {check.ID} check crashed: {type(exc).__name__}: {exc}",
        detail="This is a bug in cultivate doctor, not in your deployment. The other checks ran.",
        evidence=(Evidence(where, f"{type(exc).__name__}: {exc}"),),
        facts=Facts(origin=where),
    )
