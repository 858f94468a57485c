"""One root-cause statement per report: the evidence chained across layers (file → volume →
log → container → connection), the findings it rests on, and the single most useful next step.
When layers contradict each other it says so instead of guessing."""

from __future__ import annotations

from dataclasses import dataclass

from doctor import catalog
from doctor.catalog import Layer
from doctor.logcauses import CAUSES
from doctor.models import Finding, Status, VantageVerdict

LAYERS: tuple[tuple[Layer, tuple[str, ...]], ...] = catalog.layers()


@dataclass(frozen=True)
class RootCause:
    statement: str
    findings: tuple[str, ...]
    next_step: str
    conflict: bool = False


def _phrase(finding: Finding) -> str:
    """The finding as a link of the chain, from its facts and the catalog; a finding the catalog
    does not know (a test's, or a future doctor's in a bundle) is named by its title as written."""
    facts = finding.facts
    entry = catalog.FINDINGS.get(finding.id)
    if entry is None:
        return _lower_first(finding.title) if finding.title else finding.id
    cause = CAUSES.get(facts.cause or "")
    if finding.id == catalog.SOCKET_HOST_PATH:
        return entry.meaning + (f" ({facts.origin})" if facts.origin and ":" in facts.origin else "")
    if finding.id == catalog.LOG_SOCKET_CREATE_FAILED:
        label = f"PostgreSQL could not create its socket: {cause.label}" if cause is not None else entry.meaning
        return (cause.statement if cause is not None and cause.statement else label) + _count(finding)
    if finding.id == catalog.LOG_DATA_DIR_PERMISSIONS and cause is not None:
        return f"{entry.meaning}: {cause.label}"
    if finding.id == catalog.LOG_BACKEND_CANNOT_CONNECT:
        return "the backend cannot reach the server" + _cause(finding)
    if finding.id == catalog.CONTAINER_NOT_RUNNING and facts.service and facts.state:
        return f"the {facts.service} container {facts.state}" + (
            f" with code {facts.exit_code}" if facts.exit_code is not None else ""
        )
    if finding.id == catalog.CONTAINER_RESTARTING and facts.service:
        return f"the {facts.service} container keeps restarting" + (
            f" ({facts.count} restarts)" if facts.count is not None else ""
        )
    if finding.id == catalog.SOCKET_VANTAGE and facts.vantage is VantageVerdict.NOT_SHARED:
        return f"server up, socket not shared with {', '.join(facts.services) or 'a client'}"
    if finding.id == catalog.SOCKET_VANTAGE and facts.vantage is VantageVerdict.SERVER_DOWN:
        return "server down: nothing answers on the socket from any vantage point"
    if facts.account:
        return _lower_first(facts.account)
    where = [part for part in (facts.service, facts.origin or facts.path or facts.volume) if part]
    return entry.meaning + (f" ({', '.join(where)})" if where else "")


def _lower_first(text: str) -> str:
    """Lower only an ordinary capitalised word ("Cannot"), never a name ("PostgreSQL",
    "Compose.yaml", "db")."""
    word = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if word in _OUR_CAPITALS else text


def _upper_first(text: str) -> str:
    """Capitalise only a phrase of ours ("the socket…"); a path or a service name keeps its case."""
    word = text.split(" ", 1)[0]
    return text[0].upper() + text[1:] if word in _OUR_WORDS else text


_OUR_WORDS = frozenset({"the", "a", "an", "no", "nothing", "cannot", "every", "server", "something", "more"})
# The doctor's own sentence starts; a service called "Backend" is a name and keeps its capital.
_OUR_CAPITALS = frozenset(word.capitalize() for word in _OUR_WORDS)


def _count(finding: Finding) -> str:
    """How often and since when: "(14 times since 09:12:03)", from the log's facts."""
    facts = finding.facts
    if facts.count is None:
        return ""
    times = "once" if facts.count == 1 else f"{facts.count} times"
    return f" ({times}" + (f" since {facts.first_seen})" if facts.first_seen else ")")


def _cause(finding: Finding) -> str:
    cause = finding.facts.cause
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
    next_step = lead.remedy.summary if lead.remedy is not None else _upper_first(_phrase(lead))
    works_now = any(f.id == catalog.SOCKET_VANTAGE and f.status is Status.OK for f in findings)
    past = [f for f in problems if f.id in (catalog.LOG_BACKEND_CANNOT_CONNECT, catalog.LOG_SOCKET_CREATE_FAILED)]
    if works_now and past:
        return RootCause(
            "The evidence conflicts: the socket works from every vantage point now, but the logs show earlier "
            f"failures ({', '.join(_phrase(f) for f in past)}). They are in the past: a restart, or a client that "
            "started before the database was ready.",
            tuple(dict.fromkeys(f.id for f in [*past, *chain] if f.id != catalog.SOCKET_VANTAGE)),
            "Read the logs since the last restart (--since), and make clients wait for a healthy database "
            "(backend-start-order).",
            conflict=True,
        )
    file_clean = any(f.id == catalog.SOCKET_VOLUME_OK for f in findings)
    socket_trouble = any(
        f.id in (catalog.LOG_SOCKET_CREATE_FAILED, catalog.CONTAINER_SOCKET_MOUNT_DRIFT) for f in problems
    )
    if file_clean and socket_trouble:
        statement = (
            "The evidence conflicts: the Compose file on disk is right (socket-volume-ok), yet the running "
            f"deployment shows: {statement}. The containers may come from an older file or another project."
        )
        drift = next((f for f in problems if f.id == catalog.CONTAINER_SOCKET_MOUNT_DRIFT and f.remedy), None)
        # The drift finding knows which side is broken and the Compose tool's own command.
        step = (
            drift.remedy.summary + "".join(f" `{c}`" for c in drift.remedy.commands[:1])
            if drift is not None and drift.remedy is not None
            else "Recreate the containers from the current file (`compose up -d --force-recreate`), then run the "
            "doctor again."
        )
        return RootCause(statement, tuple(f.id for f in chain), step, conflict=True)
    return RootCause(statement, tuple(f.id for f in chain), next_step)
