"""Check: PostgreSQL and backend logs for the socket failure signatures, with their causes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from doctor.context import Context
from doctor.logs import CandidateLines, LogUnreadable, open_log
from doctor.models import Evidence, Finding, Remedy, Status
from doctor.remedies import GUIDE

ID = "log-signatures"
SUMMARY = "Logs show no socket-creation, data-directory or connection failure"

SOCKET_FAILED = "log-socket-create-failed"
DATA_DIR = "log-data-dir-permissions"
CANNOT_CONNECT = "log-backend-cannot-connect"
NOT_READY = "log-server-not-ready"
MAX_EXAMPLES = 4

_TIMESTAMP = re.compile(
    r"^\s*(?:\S+\s+\|\s+)?(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2}| [A-Z]{2,5})?)"
)
# One cheap test before the specific patterns: most lines of a log match none.
# Every signature below contains one of these phrases; keep them in step.
_KEYWORDS = (
    "Unix", "permissions of", "lock file", "data directory", "chown", "chmod", "on socket",
    "connect to server", "connection failed", "P1001", "reach database", "the database system is",
)  # fmt: skip
_PREFILTER = re.compile("|".join(map(re.escape, _KEYWORDS)))
_KEYWORD_BYTES = tuple(keyword.encode() for keyword in _KEYWORDS)
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


def scan_stream(stream: BinaryIO, source: str) -> LogScan:
    """The same as scan_lines over a byte stream, without decoding lines that cannot match."""
    scan = LogScan(source)
    candidates = CandidateLines(stream, _KEYWORD_BYTES)
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


CAUSES = {
    "reverse-sshfs": (
        "the socket directory is a host folder mounted into the VM over reverse-sshfs, where bind() of a "
        "Unix socket is refused (EPERM): Finch with vmType: qemu, or another Lima VM on QEMU with "
        "reverse-sshfs mounts",
        f"Make the socket directory a named volume shared by the database and the backend ({GUIDE}).",
    ),
    "unsupported-fs": (
        "the socket directory is on a filesystem that cannot hold Unix sockets: a host folder shared "
        "into the VM over virtiofs, 9p or sshfs (macOS with Finch, Docker Desktop or Colima)",
        f"Make the socket directory a named volume shared by the database and the backend ({GUIDE}).",
    ),
    "too-long": (
        "the socket path is longer than the kernel allows (107 bytes on Linux)",
        "Use a shorter socket directory, such as /var/run/postgresql.",
    ),
    "in-use": (
        "another server already uses this socket directory and port, or a lock file was left by a "
        "server that crashed in an earlier container (the same PID reused in a new container)",
        "Give each server its own socket volume or port; when no other server runs, recreate the "
        "containers (`compose down` then `up -d`).",
    ),
    "permission": (
        "the server may not write in the socket directory (ownership or AppArmor)",
        "Let the postgres user own the socket directory (the official image does this for a named volume).",
    ),
    "missing-dir": (
        "the socket directory does not exist in the container",
        "Mount the socket volume at the directory named in unix_socket_directories.",
    ),
    "anchor": (
        "the cause line before the FATAL is not in this excerpt",
        f"Look for the LOG line just before the FATAL; most often the socket directory is a host folder ({GUIDE}).",
    ),
    "ownership": (
        "the data directory belongs to another user, as on a host folder shared into a VM",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    "mode": (
        "the data directory's permissions cannot be set as PostgreSQL requires (0700 or 0750)",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    "chmod": (
        "permissions of the data directory cannot be changed: a host share that refuses chmod",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    "chown": (
        "ownership of the data directory cannot be changed: a host share (sshfs, 9p) that refuses chown",
        "On macOS, keep the data directory on a named volume (db_data), as the guide prescribes.",
    ),
    "enoent": (
        "no socket file where the client looks: the socket directory is not shared with this "
        "container, or the server is down",
        "Mount the database's socket volume in the backend at the directory in DATABASE_URL, and "
        "check that the database container is running.",
    ),
    "econnrefused": (
        "a socket file exists but nothing listens: a stale socket left by a server that was "
        "killed, or a socket created by another kernel across a host share",
        "Restart the database; keep the socket directory on a named volume.",
    ),
    "eacces": (
        "the client may not open the socket (directory or socket permissions)",
        "Mount the socket volume read-write or readable by the client's user; check unix_socket_permissions.",
    ),
    "prisma": (
        "Prisma cannot reach the server (P1001); over a socket that means the socket file is "
        "missing or nothing answers on it",
        "Check that the database is up and that the backend mounts the database's socket volume "
        "at the directory in DATABASE_URL's host= parameter.",
    ),
    "other": (
        "the client's connection over the socket failed",
        "Read the evidence lines; compare the socket directory in DATABASE_URL with the mounts.",
    ),
    "not-ready": (
        "the socket answered, but the server was starting up, shutting down or recovering from a "
        "crash; a client that retries connects once it is ready. Frequent lines late in the log mean "
        "the server keeps restarting, or clients start before it is ready",
        "Nothing, if the client connected afterwards. Otherwise let clients wait for a healthy "
        "database (depends_on with condition: service_healthy), with a health check that only the "
        "final server passes (pg_isready -h 127.0.0.1; the image's initialisation server listens on "
        "the socket only).",
    ),
}

LABELS = {
    "reverse-sshfs": "its directory is a reverse-sshfs host share (Finch with vmType: qemu)",
    "unsupported-fs": "its directory cannot hold sockets (a host folder shared into the VM)",
    "too-long": "the socket path is too long",
    "in-use": "the socket is in use or a stale lock file remains",
    "permission": "permission denied in the socket directory",
    "missing-dir": "the socket directory does not exist",
    "anchor": "the cause is not in this excerpt",
    "ownership": "the data directory has the wrong owner",
    "mode": "the data directory has the wrong permissions",
    "chmod": "chmod of the data directory was refused",
    "chown": "chown of the data directory was refused",
    "enoent": "no socket file where it looks",
    "econnrefused": "connection refused (a stale socket)",
    "eacces": "permission denied on the socket",
    "prisma": "Prisma P1001",
    "other": "the connection failed",
    "not-ready": "the server was not ready yet (transient)",
}

TITLES = {
    SOCKET_FAILED: "PostgreSQL could not create its Unix socket",
    DATA_DIR: "PostgreSQL could not use its data directory",
    CANNOT_CONNECT: "The backend cannot connect to PostgreSQL over the socket",
    NOT_READY: "A client met a server that was starting up or shutting down",
}


_EVENTS = {True: "event", False: "events"}


def findings_for(scan: LogScan) -> Iterator[Finding]:
    for finding_id in (SOCKET_FAILED, DATA_DIR, CANNOT_CONNECT, NOT_READY):
        hits = scan.hits.get(finding_id)
        if hits is None:
            continue
        cause = hits.main_cause()
        explanation, remedy = CAUSES[cause]
        span = (
            f", {hits.first} to {hits.last}"
            if hits.first and hits.first != hits.last
            else (f", at {hits.first}" if hits.first else "")
        )
        yield Finding(
            finding_id,
            Status.INFO if finding_id == NOT_READY else Status.FAIL,
            f"{TITLES[finding_id]}: {LABELS[cause]} ({hits.events} {_EVENTS[hits.events == 1]} in {scan.source}{span})",
            f"Cause ({cause}): {explanation}. Seen in {hits.count} log line(s).",
            tuple(hits.examples),
            Remedy(remedy),
            cause=cause,
        )


def run(ctx: Context) -> Iterator[Finding]:
    if not ctx.options.log_files:
        yield Finding(ID, Status.SKIP, "No --log-file given")
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
            yield Finding("log-file-unreadable", Status.ERROR, f"Cannot read the log {path}: {exc}")
            continue
        produced = list(findings_for(scan))
        yield from produced
        if not failures(produced):
            yield Finding(ID, Status.OK, f"No known failure signature in {scan.lines} line(s) of {source}")


def failures(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that are failures; transient start-up errors are informational only."""
    return [f for f in findings if f.status is not Status.INFO]
