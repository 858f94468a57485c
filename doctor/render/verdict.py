"""The verdict every report opens (and the terminal report also closes) with: the root cause
and next step when something is wrong; when nothing is, what was and was not examined, never
a "Root cause" heading over nothing."""

from __future__ import annotations

from dataclasses import dataclass

from doctor.models import Finding, Status
from doctor.report import Report


@dataclass(frozen=True)
class Verdict:
    lines: tuple[tuple[str, str], ...]  # (label, sentence), in order


def verdict_of(report: Report) -> Verdict:
    # A root cause only over a failure: a warning alone (an engine that was not reached) is
    # not the cause of anything, and a passing run must not open with "Root cause".
    findings = report.findings
    cause = report.root_cause if report.failed else None
    if cause is not None:
        return Verdict(
            (
                ("Root cause", cause.statement),
                ("Next step", cause.next_step),
                ("Rests on", ", ".join(cause.findings)),
            )
        )
    errors = [f for f in findings if f.status is Status.ERROR]
    lines: list[tuple[str, str]] = []
    if errors:
        ids = ", ".join(dict.fromkeys(f.id for f in errors))
        lines.append(("Could not examine", f"{len(errors)} error(s): {ids}; see below"))
        lines.append(("Next step", errors[0].remedy.summary if errors[0].remedy else errors[0].title))
    warnings = [f for f in findings if f.status is Status.WARN]
    if warnings:
        lines.append(("Warnings", "; ".join(f"{f.title} ({f.id})" for f in warnings)))
        if not errors:
            lead = next((f for f in warnings if f.remedy is not None), warnings[0])
            lines.append(("Next step", lead.remedy.summary if lead.remedy else lead.title))
    examined = [f.check or f.id for f in findings if f.status in (Status.OK, Status.INFO)]
    if examined:
        lines.append(("Examined, no problem", ", ".join(dict.fromkeys(examined))))
    skipped = [f for f in findings if f.status is Status.SKIP]
    if skipped:
        lines.append(("Not examined", skip_reasons(skipped)))
    return Verdict(tuple(lines))


def skip_reasons(skipped: list[Finding]) -> str:
    """'engine-volumes, containers (the engine was not reached); socket-probe (no --socket-dir given)'."""
    by_reason: dict[str, list[str]] = {}
    for finding in skipped:
        # The reason the check gave (models.skipped); a skip from elsewhere is shown by its title.
        by_reason.setdefault(finding.facts.reason or finding.title, []).append(finding.check or finding.id)
    return "; ".join(f"{', '.join(dict.fromkeys(checks))} ({reason})" for reason, checks in by_reason.items())
