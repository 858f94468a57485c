"""The report: one value that every renderer and the bundle take as it is.

The application (doctor/app.py) makes it once per run: the target, the findings, the root
cause found once over them, what ``--fix`` did, and the command line as typed (redacted).
Nothing downstream recomputes any of it, so the terminal, Markdown, JSON and the bundle
cannot disagree about the root cause of one run."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from doctor.exitcodes import EXIT_OK, EXIT_PROBLEMS
from doctor.models import Finding, Status, Target, overall_status
from doctor.rootcause import RootCause, find_root_cause

if TYPE_CHECKING:
    from pathlib import Path


class FixReason(str, enum.Enum):
    """Why ``--fix`` did or did not write (the JSON report's ``fix.reason``)."""

    APPLIED = "applied"
    DRY_RUN = "dry-run"
    DECLINED = "declined"
    NOT_A_TERMINAL = "not-a-terminal"
    NOTHING_TO_FIX = "nothing-to-fix"
    CONFLICT = "conflict"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class FixSummary:
    applied: bool
    reason: FixReason
    diff: str = ""
    files: tuple[str, ...] = ()
    backups: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    by_hand: tuple[str, ...] = ()
    data_commands: tuple[str, ...] = ()
    message: str = ""

    @property
    def failed(self) -> bool:
        """The user asked for the fix and it could not be written (nothing of it remains)."""
        return self.reason in (FixReason.CONFLICT, FixReason.REFUSED, FixReason.FAILED)


@dataclass(frozen=True)
class BundleWritten:
    path: Path
    size: int


@dataclass(frozen=True)
class Report:
    target: Target
    findings: tuple[Finding, ...]
    root_cause: RootCause | None
    fix: FixSummary | None = None
    command_line: str | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    bundle: BundleWritten | None = None
    notice: str = ""  # one line for stderr about how the report was made (a re-read bundle)

    @property
    def status(self) -> Status:
        return overall_status(self.findings)

    @property
    def failed(self) -> bool:
        return any(f.status is Status.FAIL for f in self.findings)


def make_report(
    target: Target,
    findings: list[Finding] | tuple[Finding, ...],
    fix: FixSummary | None = None,
    *,
    command_line: str | None = None,
    generated_at: datetime | None = None,
    notice: str = "",
) -> Report:
    """The report of these findings, with their root cause worked out here and only here."""
    return Report(
        target=target,
        findings=tuple(findings),
        root_cause=find_root_cause(list(findings)),
        fix=fix,
        command_line=command_line,
        generated_at=generated_at or datetime.now(timezone.utc),
        notice=notice,
    )


def exit_code(report: Report, *, strict: bool) -> int:
    """EXIT_PROBLEMS when a finding fails or could not be examined (and, with --strict, warns)."""
    failing = {Status.FAIL, Status.ERROR} | ({Status.WARN} if strict else set())
    return EXIT_PROBLEMS if any(f.status in failing for f in report.findings) else EXIT_OK
