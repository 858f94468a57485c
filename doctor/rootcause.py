"""One root-cause statement per report: the evidence chained across layers (file → volume →
log → container → connection), the findings it rests on, and the single most useful next step.
When layers contradict each other it says so instead of guessing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from doctor.models import Finding, Status

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("file", ("compose-invalid", "compose-variable-required", "socket-host-path", "socket-volume-bind-device",
              "socket-volume-undeclared", "socket-volume-mismatch", "backend-socket-not-mounted",
              "database-url-socket-mismatch", "socket-dir-not-mounted", "socket-path-too-long",
              "stack-database-replicas", "stack-placement-apart")),
    ("volume", ("container-socket-mount-drift", "volume-bind-device", "volume-missing", "volume-foreign-project")),
    ("log", ("log-socket-create-failed", "log-data-dir-permissions")),
    ("container", ("stack-tasks-apart", "container-not-running", "container-restarting", "container-unhealthy", "container-oom-killed")),
    ("connection", ("log-backend-cannot-connect", "socket-vantage", "socket-missing", "socket-refused",
                    "socket-timeout", "socket-permission-denied", "socket-not-a-socket", "socket-connect-failed")),
)  # fmt: skip


# Socket-creation causes that name the host share's kind, phrased from the classifier's value.
SOCKET_CAUSES = {
    "reverse-sshfs": "PostgreSQL could not create its socket: bind() is refused on a reverse-sshfs host share "
    "(Finch with vmType: qemu)",
}


@dataclass(frozen=True)
class RootCause:
    statement: str
    findings: tuple[str, ...]
    next_step: str
    conflict: bool = False


def _phrase(finding: Finding) -> str:
    where = f" ({finding.evidence[0].source})" if finding.evidence and ":" in finding.evidence[0].source else ""
    title = re.sub(r" \(\d+ events? in .*\)$|\s*\([^()]*\)$", "", finding.title)  # drop the trailing aside
    exited = re.match(r"(\S+) \(.*\) is not running: (\w+), exit code (-?\d+)", finding.title)
    short = {
        "socket-host-path": f"the socket directory is a host folder{where}",
        "socket-volume-bind-device": "the socket volume binds a host folder through driver_opts",
        "log-socket-create-failed": (
            SOCKET_CAUSES[finding.cause]
            if finding.cause in SOCKET_CAUSES
            else title.replace(
                "PostgreSQL could not create its Unix socket: ", "PostgreSQL could not create its socket: "
            )
        )
        + _count(finding),
        "log-backend-cannot-connect": "the backend cannot reach the server" + _cause(finding),
    }
    if exited:
        short["container-not-running"] = (
            f"the {exited.group(1)} container {exited.group(2)} with code {exited.group(3)}"
        )
    return short.get(finding.id, _lower_first(title) if title else finding.id)


def _lower_first(text: str) -> str:
    """Lower only an ordinary capitalised word ("Cannot"), never a name ("PostgreSQL",
    "Compose.yaml", "db")."""
    word = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if word in _OUR_CAPITALS else text


def _upper_first(text: str) -> str:
    """Capitalise only a phrase of ours ("the socket…"); a path or a service name keeps its case."""
    word = text.split(" ", 1)[0]
    return text[0].upper() + text[1:] if word in _OUR_WORDS else text


_OUR_WORDS = frozenset({"the", "a", "an", "no", "nothing", "cannot", "every", "server", "engine", "something"})
# The doctor's own sentence starts; a service called "Backend" is a name and keeps its capital.
_OUR_CAPITALS = frozenset(word.capitalize() for word in _OUR_WORDS)


def _count(finding: Finding) -> str:
    match = re.search(r"\((\d+) events? in [^,)]+(?:, (?:at )?([^)]*?))?\)$", finding.title)
    if not match:
        return ""
    since = match.group(2).split(" to ")[0] if match.group(2) else ""
    times = "once" if match.group(1) == "1" else f"{match.group(1)} times"
    return f" ({times}" + (f" since {since})" if since else ")")


def _cause(finding: Finding) -> str:
    # The value the classifier set; findings made without one fall back to the "Cause (x)" detail.
    match = re.match(r"Cause \(([a-z-]+)\)", finding.detail)
    cause = finding.cause or (match.group(1) if match else "")
    return f" ({'P1001' if cause == 'prisma' else cause.upper()})" if cause else ""


def find_root_cause(findings: list[Finding]) -> RootCause | None:
    problems = [f for f in findings if f.status in (Status.FAIL, Status.WARN)]
    if not problems:
        return None
    chain: list[Finding] = []
    for _layer, ids in LAYERS:
        layer = [f for f in problems if f.id in ids]
        if layer:
            chain.append(min(layer, key=lambda f: (f.status is not Status.FAIL, ids.index(f.id))))
    if not chain:
        first = next((f for f in problems if f.status is Status.FAIL), problems[0])
        chain = [first]
    statement = " → ".join(_phrase(f) for f in chain)
    statement = _upper_first(statement)
    lead = next((f for f in chain if f.remedy is not None), chain[0])
    next_step = lead.remedy.summary if lead.remedy is not None else lead.title
    works_now = any(f.id == "socket-vantage" and f.status is Status.OK for f in findings)
    past = [f for f in problems if f.id in ("log-backend-cannot-connect", "log-socket-create-failed")]
    if works_now and past:
        return RootCause(
            "The evidence conflicts: the socket works from every vantage point now, but the logs show earlier "
            f"failures ({', '.join(_phrase(f) for f in past)}). They are in the past: a restart, or a client that "
            "started before the database was ready.",
            tuple(dict.fromkeys(f.id for f in [*past, *chain] if f.id != "socket-vantage")),
            "Read the logs since the last restart (--since), and make clients wait for a healthy database "
            "(backend-start-order).",
            conflict=True,
        )
    file_clean = any(f.id == "socket-volume-ok" for f in findings)
    socket_trouble = any(f.id in ("log-socket-create-failed", "container-socket-mount-drift") for f in problems)
    if file_clean and socket_trouble:
        statement = (
            "The evidence conflicts: the Compose file on disk is right (socket-volume-ok), yet the running "
            f"deployment shows: {statement}. The containers may come from an older file or another project."
        )
        drift = next((f for f in problems if f.id == "container-socket-mount-drift" and f.remedy), None)
        # The drift finding knows which side is broken and the Compose tool's own command.
        step = (
            drift.remedy.summary + "".join(f" `{c}`" for c in drift.remedy.commands[:1])
            if drift is not None and drift.remedy is not None
            else "Recreate the containers from the current file (`compose up -d --force-recreate`), then run the "
            "doctor again."
        )
        return RootCause(statement, tuple(f.id for f in chain), step, conflict=True)
    return RootCause(statement, tuple(f.id for f in chain), next_step)
