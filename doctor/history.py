"""History is not the present: once every check has run, log failures that the socket itself
contradicts now become a record of the past. Pure over the findings and two facts of the run.

The socket-vantage check is the present: when the server answers from every vantage point (this
machine or a probe, and inside every client), an earlier ENOENT in a client's log, or a socket
the server once failed to create, describes a start-up or an earlier deployment, not this one.
Such findings are kept, with their time span, as ``log-failures-past`` at info, and say which
Compose tool started the clients without waiting when the file does ask for the wait."""

from __future__ import annotations

import dataclasses

from doctor import catalog
from doctor.compose.model import ComposeProject
from doctor.engine.composetool import ComposeTool
from doctor.models import Finding, Remedy, Status, VantageVerdict
from doctor.postgres import database_services
from doctor.topology import client_uses

PAST = catalog.LOG_FAILURES_PAST
LOG_FAILURES = catalog.log_failures()


def works_everywhere(findings: list[Finding]) -> bool:
    return any(
        f.id == catalog.SOCKET_VANTAGE and f.status is Status.OK and f.facts.vantage is VantageVerdict.WORKS_EVERYWHERE
        for f in findings
    )


def file_waits(project: ComposeProject | None) -> bool:
    """Every socket client waits in the file for every database to be healthy."""
    if project is None:
        return False
    clients = {use.service.name: use.service for use in client_uses(project)}
    databases = database_services(project)
    return bool(clients and databases) and all(
        client.depends_on.get(db.name) == "service_healthy" for client in clients.values() for db in databases
    )


def settle(findings: list[Finding], tool: ComposeTool | None, file_waits: bool) -> list[Finding]:
    """The findings with past log failures turned into ``log-failures-past``; unchanged when the
    socket does not work from every vantage point now. ``file_waits``: every socket client
    has ``depends_on: {database: {condition: service_healthy}}`` in the file."""
    if not works_everywhere(findings):
        return findings
    return [_as_past(f, tool, file_waits) if _is_failure(f) else f for f in findings]


def _is_failure(finding: Finding) -> bool:
    return finding.id in LOG_FAILURES and finding.status in (Status.FAIL, Status.WARN)


def _as_past(finding: Finding, tool: ComposeTool | None, file_waits: bool) -> Finding:
    connect = finding.id == catalog.LOG_BACKEND_CANNOT_CONNECT
    if connect and file_waits and tool is not None and not tool.honours_healthy_wait:
        why = (
            f" The file already makes the clients wait (depends_on: condition: service_healthy), but {tool.command} "
            "ignores that condition: it started the clients before the database was ready, so they failed until it was."
        )
        remedy = Remedy(
            f"Nothing is broken now. To keep the start-up clean under {tool.command}, let the client retry its "
            "first connection, or deploy with Compose v2 (`docker compose`, which honours service_healthy; it "
            "speaks to Podman's socket through DOCKER_HOST)."
        )
    elif connect:
        why = " A client that started before the database was ready, or a restart of the database, explains them."
        remedy = Remedy("Nothing is broken now; to read only the present, run the doctor with --since.")
    else:
        why = " They come from an earlier start or deployment: the server runs and answers now."
        remedy = Remedy("Nothing is broken now; to read only the present, run the doctor with --since.")
    return dataclasses.replace(
        finding,
        id=PAST,
        status=Status.INFO,
        title=f"In the past, now resolved: {finding.title}",
        detail=f"{finding.detail} The socket works from every vantage point now (socket-vantage), so these "
        f"lines ({finding.id}) are history.{why}",
        remedy=remedy,
    )
