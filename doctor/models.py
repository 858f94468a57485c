"""The values every check produces and every renderer consumes. No I/O, no formatting."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from doctor.steps import Step, split


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
    """What to do: a summary, the file change as a diff, and commands. Every renderer shows the
    commands split (doctor.steps): ``steps`` change the deployment, in order; ``verify`` only read."""

    summary: str
    diff: str = ""
    commands: tuple[str, ...] = ()

    @property
    def steps(self) -> tuple[Step, ...]:
        return split(self.commands)[0]

    @property
    def verify(self) -> tuple[str, ...]:
        return split(self.commands)[1]


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
    # The classified cause as a stable kebab-case value (a log finding's "reverse-sshfs",
    # "unsupported-fs", "enoent"…), so the root cause reads a value instead of parsing prose.
    cause: str = ""


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
    stack: str | None = None  # a Swarm stack's name (the project name), else None
    nodes: int | None = None  # the swarm's node count, when the engine listed them


def deployment_name(target: Target) -> str:
    """The header's subject: ``stack NAME on N nodes`` for a Swarm stack, else ``project NAME``."""
    if target.stack is not None:
        nodes = f" on {target.nodes} node{'s' if target.nodes != 1 else ''}" if target.nodes else ""
        return f"stack {target.stack}{nodes}"
    return f"project {target.project or 'none'}"


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
