"""The values every check produces and every renderer consumes. No I/O, no formatting."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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


class TargetOS(str, enum.Enum):
    """Where the containers run, which decides what a host folder can hold (a socket on macOS
    cannot live on a host share)."""

    LINUX = "linux"
    MACOS = "macos"
    WINDOWS = "windows"  # Docker Desktop on Windows: Linux containers in a VM, judged as Linux

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of_machine(cls, system: str) -> TargetOS:
        """This machine's OS from ``platform.system()``; other Unixes run containers as Linux does."""
        return {"Darwin": cls.MACOS, "Windows": cls.WINDOWS}.get(system, cls.LINUX)


class Errno(str, enum.Enum):
    """How a connection to the socket failed, as the kernel said it."""

    ENOENT = "enoent"  # no socket file (or directory) where the client looks
    ECONNREFUSED = "econnrefused"  # a socket file with nothing listening: a stale socket
    EACCES = "eacces"  # the directory or socket may not be entered or opened
    ETIMEDOUT = "etimedout"  # accepted, never answered


class VantageVerdict(str, enum.Enum):
    """What the vantage points together say about the socket (the socket-vantage check)."""

    WORKS_EVERYWHERE = "works-everywhere"  # the server answers, and every client sees it
    NOT_SHARED = "not-shared"  # the server answers, but not where a client looks
    SERVER_ONLY = "server-only"  # the server answers; no client could be asked
    SERVER_DOWN = "server-down"  # nothing answers from any vantage point
    UNSEEN = "unseen"  # no vantage point could look


@dataclass(frozen=True)
class Facts:
    """What a check knows, as values: the root cause, remedies, history and the bundle read
    these, never a finding's title or detail. Every field is optional; the JSON report lists
    only those that are set."""

    service: str | None = None  # the service the finding is about
    services: tuple[str, ...] = ()  # several: the services of a host folder, the clients that see no socket
    container: str | None = None
    state: str | None = None  # the container's state (exited, dead, created, restarting)
    exit_code: int | None = None
    count: int | None = None  # events in a log, restarts of a container
    first_seen: str | None = None  # the log's timestamps of the first and last event
    last_seen: str | None = None
    log: str | None = None  # the log it was read from: a container's name or a --log-file's
    cause: str | None = None  # the classifier's value: reverse-sshfs, unsupported-fs, enoent, chown…
    errno_class: Errno | None = None
    volume: str | None = None  # a volume's key in the file, or its name on the engine
    node: str | None = None  # a Swarm node's hostname
    path: str | None = None  # a host folder, or the socket file's path
    origin: str | None = None  # file:line where the finding's cause is written
    vantage: VantageVerdict | None = None
    reason: str | None = None  # why a check did not run (skip), as the verdict's sentence says it
    # The finding in one clause for the root cause's chain, in the check's own words and values
    # (Compose v2's message, the byte count): shown as written, never parsed.
    account: str | None = None


NO_FACTS = Facts()
_ENUMS: dict[str, type[enum.Enum]] = {"errno_class": Errno, "vantage": VantageVerdict}


def facts_dict(facts: Facts) -> dict[str, Any]:
    """The facts that are set, as JSON values (an enum by its value, a tuple as a list)."""
    out: dict[str, Any] = {}
    for item in dataclasses.fields(facts):
        value = getattr(facts, item.name)
        if value is None or value == ():
            continue
        out[item.name] = (
            value.value if isinstance(value, enum.Enum) else list(value) if isinstance(value, tuple) else value
        )
    return out


def facts_from_dict(data: Mapping[str, Any]) -> Facts:
    """Facts read back from a report (a bundle: untrusted): a key of another version, or a value
    of the wrong type, is left out rather than trusted."""
    values: dict[str, Any] = {}
    for item in dataclasses.fields(Facts):
        value = data.get(item.name)
        if item.name in _ENUMS:
            kind = _ENUMS[item.name]
            if isinstance(value, str) and value in {member.value for member in kind}:
                values[item.name] = kind(value)
        elif item.name == "services":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                values[item.name] = tuple(value)
        elif item.name in ("exit_code", "count"):
            if isinstance(value, int) and not isinstance(value, bool):
                values[item.name] = value
        elif isinstance(value, str):
            values[item.name] = value
    return Facts(**values)


def map_text(facts: Facts, change: Callable[[str], str]) -> Facts:
    """The facts with every text value (names, paths, times) passed through ``change``: the
    redactor's, so facts carry what titles may carry and nothing more. Enums and numbers stay."""
    values: dict[str, Any] = {}
    for item in dataclasses.fields(facts):
        value = getattr(facts, item.name)
        if isinstance(value, str) and not isinstance(value, enum.Enum):
            values[item.name] = change(value)
        elif isinstance(value, tuple):
            values[item.name] = tuple(change(v) for v in value)
    return dataclasses.replace(facts, **values) if values else facts


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
    facts: Facts = NO_FACTS


def skipped(check_id: str, reason: str, aside: str = "") -> Finding:
    """A check that did not run: ``reason`` is the sentence the verdict lists ("the engine was
    not reached"); the title is the same sentence capitalised, with the aside ("see engine")."""
    title = reason[:1].upper() + reason[1:] + (f" ({aside})" if aside else "")
    return Finding(check_id, Status.SKIP, title, facts=Facts(reason=reason))


@dataclass(frozen=True)
class Target:
    """What the report is about, shown in every report's header."""

    os: TargetOS
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


def overall_status(findings: Iterable[Finding]) -> Status:
    present = {finding.status for finding in findings}
    for status in (Status.FAIL, Status.WARN):
        if status in present or (status is Status.FAIL and Status.ERROR in present):
            return status
    return Status.OK


def summary_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {status.value: 0 for status in SEVERITY_ORDER}
    for finding in findings:
        counts[finding.status.value] += 1
    return counts
