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
              "database-url-socket-mismatch", "socket-dir-not-mounted", "socket-path-too-long")),
    ("volume", ("container-socket-mount-drift", "volume-bind-device", "volume-missing", "volume-foreign-project")),
    ("log", ("log-socket-create-failed", "log-data-dir-permissions")),
    ("container", ("container-not-running", "container-restarting", "container-unhealthy", "container-oom-killed")),
    ("connection", ("log-backend-cannot-connect", "socket-vantage", "socket-missing", "socket-refused",
                    "socket-timeout", "socket-permission-denied", "socket-not-a-socket", "socket-connect-failed")),
)  # fmt: skip


@dataclass(frozen=True)
class RootCause:
    statement: str
    findings: tuple[str, ...]
    next_step: str
    conflict: bool = False


def _phrase(finding: Finding) -> str:
    where = f" ({finding.evidence[0].source})" if finding.evidence and ":" in finding.evidence[0].source else ""
    title = re.sub(r" \(\d+ line\(s\) in .*\)$|\s*\([^()]*\)$", "", finding.title)  # drop the trailing aside
    exited = re.match(r"(\S+) \(.*\) is not running: (\w+), exit code (-?\d+)", finding.title)
    short = {
        "socket-host-path": f"the socket directory is a host folder{where}",
        "socket-volume-bind-device": "the socket volume binds a host folder through driver_opts",
        "log-socket-create-failed": title.replace(
            "PostgreSQL could not create its Unix socket: ", "PostgreSQL could not create its socket: "
        )
        + _count(finding),
        "log-backend-cannot-connect": "the backend cannot reach the server" + _cause(finding),
    }
    if exited:
        short["container-not-running"] = (
            f"the {exited.group(1)} container {exited.group(2)} with code {exited.group(3)}"
        )
    return short.get(finding.id, title[0].lower() + title[1:] if title else finding.id)


def _count(finding: Finding) -> str:
    match = re.search(r"\((\d+) line\(s\) in [^,)]+(?:, (?:at )?([^)]*?))?\)$", finding.title)
    if not match:
        return ""
    since = match.group(2).split(" to ")[0] if match.group(2) else ""
    return f" ({match.group(1)} times" + (f" since {since})" if since else ")")


def _cause(finding: Finding) -> str:
    match = re.match(r"Cause \(([a-z-]+)\)", finding.detail)
    return (
        f" ({match.group(1).upper() if match and match.group(1) != 'prisma' else 'P1001' if match else ''})"
        if match
        else ""
    )


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
    statement = statement[0].upper() + statement[1:]
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
