"""The values every check produces and every renderer consumes. No I/O, no formatting."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Status(enum.Enum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def is_problem(self) -> bool:
        return self in PROBLEMS


PROBLEMS = frozenset({Status.WARN, Status.FAIL, Status.ERROR})

# Worst first: the order of the summary line and of the overall status.
SEVERITY_ORDER = (Status.ERROR, Status.FAIL, Status.WARN, Status.INFO, Status.OK, Status.SKIP)


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: where it was seen (``file:line``, a log name) and the text."""

    source: str
    text: str


@dataclass(frozen=True)
class Remedy:
    summary: str
    diff: str = ""
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    id: str
    status: Status
    title: str
    detail: str = ""
    evidence: tuple[Evidence, ...] = ()
    remedy: Remedy | None = None
    check: str = ""
    duration_ms: float | None = None


@dataclass(frozen=True)
class Target:
    """What the report is about, shown in every report's header."""

    os: str
    os_reason: str
    runtime: str | None = None
    compose_tool: str | None = None  # the Compose tool that deployed the project, from its labels
    project: str | None = None
    compose_files: tuple[str, ...] = ()
    project_directory: str | None = None
    volumes: tuple[tuple[str, str], ...] = field(default=())  # (compose key, engine name)
    fingerprint: str | None = None


def overall_status(findings: list[Finding]) -> Status:
    present = {finding.status for finding in findings}
    for status in (Status.FAIL, Status.WARN):
        if status in present or (status is Status.FAIL and Status.ERROR in present):
            return status
    return Status.OK


def summary_counts(findings: list[Finding]) -> dict[str, int]:
    counts = {status.value: 0 for status in SEVERITY_ORDER}
    for finding in findings:
        counts[finding.status.value] += 1
    return counts
