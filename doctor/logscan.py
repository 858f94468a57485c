"""The log classifier: the failure signatures of PostgreSQL and its clients, and the scan of a
log stream that counts them (events, first and last seen, example lines). The log-signatures
and container-logs checks turn a LogScan into findings."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from doctor import catalog
from doctor.logcauses import log_cause
from doctor.logs import CandidateLines, Finder
from doctor.models import Evidence, Facts, Finding, Remedy, Status

SOCKET_FAILED = catalog.LOG_SOCKET_CREATE_FAILED
DATA_DIR = catalog.LOG_DATA_DIR_PERMISSIONS
CANNOT_CONNECT = catalog.LOG_BACKEND_CANNOT_CONNECT
NOT_READY = catalog.LOG_SERVER_NOT_READY
MAX_EXAMPLES = 4

_TIMESTAMP = re.compile(
    r"^\s*(?:\S+\s+\|\s+)?(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2}| [A-Z]{2,5})?)"
)
# One cheap test before the specific patterns: most lines of a log match none.
# Every signature below contains one of these phrases; keep them in step.
KEYWORDS = (
    "Unix", "permissions of", "lock file", "data directory", "chown", "chmod", "on socket",
    "connect to server", "connection failed", "P1001", "reach database", "the database system is",
)  # fmt: skip
_PREFILTER = re.compile("|".join(map(re.escape, KEYWORDS)))
KEYWORD_BYTES = tuple(keyword.encode() for keyword in KEYWORDS)
_UNSUPPORTED = r"Invalid argument|Operation not permitted|Operation not supported|No such device or address"
# libpq's socket message; quotes may arrive escaped (\") inside JSON-structured application logs.
_ON_SOCKET = r'connection to server on socket \\?"[^"]*\\?" failed: '


@dataclass(frozen=True)
class Signature:
    finding: str
    cause: str
    pattern: re.Pattern[str]


def _sig(finding: str, cause: str, pattern: str) -> Signature:
    return Signature(finding, cause, re.compile(pattern))


# The server's answer while it starts, stops or recovers from a crash (PostgreSQL's
# canAcceptConnections): the socket works, the server is just not ready. libpq prints it after
# "connection to server on socket ... failed: FATAL:  ", so it is matched before the socket
# failures below, and it is never a socket failure: an informational, transient start-up error.
TRANSIENT = _sig(
    NOT_READY,
    "not-ready",
    r"the database system is (?:starting up|shutting down|in recovery mode|not yet accepting connections"
    r"|not accepting connections)",
)

SIGNATURES = (
    TRANSIENT,
    _sig(
        SOCKET_FAILED,
        "unsupported-fs",
        rf'could not (?:set permissions of file|bind Unix address) "[^"]*": (?:{_UNSUPPORTED})',
    ),
    _sig(SOCKET_FAILED, "too-long", r'Unix-domain socket path "[^"]*" is too long \(maximum \d+ bytes\)'),
    _sig(
        SOCKET_FAILED,
        "in-use",
        r'lock file "[^"]*\.s\.PGSQL\.\d+\.lock" already exists|could not bind Unix address "[^"]*": Address already in use',
    ),
    _sig(
        SOCKET_FAILED,
        "permission",
        r'could not (?:bind Unix address|create lock file|set permissions of file) "[^"]*": Permission denied',
    ),
    _sig(
        SOCKET_FAILED,
        "missing-dir",
        r'could not (?:bind Unix address|create lock file) "[^"]*": No such file or directory',
    ),
    _sig(
        SOCKET_FAILED,
        "anchor",
        r"could not create any Unix-domain sockets|could not create Unix-domain socket in directory",
    ),
    _sig(DATA_DIR, "ownership", r'data directory "[^"]*" has wrong ownership'),
    _sig(DATA_DIR, "mode", r'data directory "[^"]*" has (?:invalid permissions|group or world access)'),
    _sig(DATA_DIR, "chmod", r'could not change permissions of directory "[^"]*": \w'),
    # Not the socket directory: the entrypoint chowns /var/run/postgresql too, and a refusal there
    # (the lab image ignores it; the official image stops on it) says nothing of the data directory.
    _sig(
        DATA_DIR,
        "chown",
        r"chown: (?!(?:changing ownership of )?'?(?:/var)?/run/postgresql(?:[/':]|$)).*"
        r"(?:Operation not permitted|Permission denied)",
    ),
    _sig(DATA_DIR, "chmod", r"chmod: .*(?:Operation not permitted|Permission denied)"),
    _sig(
        CANNOT_CONNECT,
        "enoent",
        _ON_SOCKET + r"No such file or directory|could not connect to server: No such file or directory",
    ),
    _sig(
        CANNOT_CONNECT,
        "econnrefused",
        _ON_SOCKET + r"Connection refused|could not connect to server: Connection refused",
    ),
    _sig(
        CANNOT_CONNECT,
        "eacces",
        _ON_SOCKET + r"Permission denied|could not connect to server: Permission denied",
    ),
    _sig(CANNOT_CONNECT, "prisma", r"P1001|Can't reach database server at"),
    _sig(CANNOT_CONNECT, "other", _ON_SOCKET + "|connection failed: .*socket"),
)
# sshfs creates regular files only, so bind() on a reverse-sshfs share (Lima's mount for Finch
# with vmType: qemu) fails with EPERM, where 9p and virtiofs answer EINVAL. It goes first, because
# unsupported-fs above matches the same line.
REVERSE_SSHFS = _sig(SOCKET_FAILED, "reverse-sshfs", r'could not bind Unix address "[^"]*": Operation not permitted')
IN_ORDER = (REVERSE_SSHFS, *SIGNATURES)  # the order classify_line tries them in


@dataclass(frozen=True)
class LineMatch:
    finding: str
    cause: str


def classify_line(line: str) -> LineMatch | None:
    if not _PREFILTER.search(line):
        return None
    for signature in IN_ORDER:
        if signature.pattern.search(line):
            return LineMatch(signature.finding, signature.cause)
    return None


def timestamp_of(line: str) -> str | None:
    match = _TIMESTAMP.match(line)
    return match.group(1) if match else None


@dataclass
class SignatureHits:
    count: int = 0
    events: int = 0
    causes: Counter[str] = field(default_factory=Counter)
    first: str | None = None
    last: str | None = None
    examples: list[Evidence] = field(default_factory=list)
    _previous: tuple[int, str | None, bool] | None = None  # (line number, timestamp, ended the event)

    def add(self, cause: str, line: str, where: str, number: int = 0) -> None:
        """One more matching line; a new event unless it continues the last one. PostgreSQL
        writes one start-up failure as LOG + WARNING + FATAL lines with the same timestamp: one
        event, not three. A FATAL or PANIC line ends its event."""
        stamp_now = timestamp_of(line)
        previous = self._previous
        continues = (
            previous is not None and not previous[2] and 0 < number - previous[0] <= 2 and previous[1] == stamp_now
        )
        self.events += 0 if continues else 1
        self._previous = (number, stamp_now, bool(_EVENT_END.search(line)))
        self.count += 1
        self.causes[cause] += 1
        stamp = timestamp_of(line)
        if stamp:
            self.first = self.first or stamp
            self.last = stamp
        if len(self.examples) < MAX_EXAMPLES and all(e.text != line for e in self.examples):
            self.examples.append(Evidence(where, line.strip()))

    def main_cause(self) -> str:
        specific = [(n, c) for c, n in self.causes.items() if c not in ("anchor", "other")]
        return max(specific)[1] if specific else next(iter(self.causes))


@dataclass
class LogScan:
    source: str
    lines: int = 0
    hits: dict[str, SignatureHits] = field(default_factory=dict)


def scan_lines(lines: Iterable[str], source: str) -> LogScan:
    scan = LogScan(source)
    for number, line in enumerate(lines, 1):
        scan.lines = number
        _record(scan, number, line)
    return scan


def scan_stream(stream: BinaryIO, source: str, finder: Finder | None = None) -> LogScan:
    """The same as scan_lines over a byte stream, without decoding lines that cannot match.
    ``finder`` chooses the keyword search (doctor.logs.default_finder when None)."""
    scan = LogScan(source)
    candidates = CandidateLines(stream, KEYWORD_BYTES, finder)
    for number, line in candidates:
        _record(scan, number, line)
    scan.lines = candidates.lines
    return scan


_EVENT_END = re.compile(r"\b(?:FATAL|PANIC):")


def _record(scan: LogScan, number: int, line: str) -> None:
    match = classify_line(line)
    if match is not None:
        hits = scan.hits.setdefault(match.finding, SignatureHits())
        hits.add(match.cause, line, f"{scan.source}:{number}", number)


def failures(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that are failures; transient start-up errors are informational only."""
    return [f for f in findings if f.status is not Status.INFO]


_EVENTS = {True: "event", False: "events"}


def findings_for(scan: LogScan) -> Iterator[Finding]:
    for finding_id in (SOCKET_FAILED, DATA_DIR, CANNOT_CONNECT, NOT_READY):
        hits = scan.hits.get(finding_id)
        if hits is None:
            continue
        cause = log_cause(hits.main_cause())
        span = (
            f", {hits.first} to {hits.last}"
            if hits.first and hits.first != hits.last
            else (f", at {hits.first}" if hits.first else "")
        )
        meaning = catalog.get(finding_id).meaning
        yield Finding(
            finding_id,
            Status.INFO if finding_id == NOT_READY else Status.FAIL,
            f"{meaning[:1].upper()}{meaning[1:]}: {cause.label} "
            f"({hits.events} {_EVENTS[hits.events == 1]} in {scan.source}{span})",
            f"Cause ({cause.name}): {cause.explanation}. Seen in {hits.count} log line(s).",
            tuple(hits.examples),
            Remedy(cause.remedy),
            facts=Facts(
                cause=cause.name,
                errno_class=cause.errno,
                count=hits.events,
                first_seen=hits.first,
                last_seen=hits.last,
                log=scan.source,
            ),
        )
