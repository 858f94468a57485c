"""Check: the containers' own logs, streamed through the log classifier (bounded, never whole)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checks._common import requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject
from doctor.context import Context
from doctor.engine.nodes import session_for, stack_containers, stack_since
from doctor.engine.pool import bounded_map
from doctor.logscan import LogScan, failures, findings_for, scan_stream
from doctor.models import Finding, Status, skipped
from doctor.postgres import database_services

ID = catalog.CONTAINER_LOGS
SUMMARY = "The containers' logs show no socket, data-directory or connection failure"


@requires_project(ID, engine=True)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    engine = ctx.engine
    assert engine is not None  # requires_project(engine=True) has checked
    containers = engine.project_containers(project.name)
    if ctx.stack is not None:  # a stack's tasks run on several nodes: read each through its own engine
        containers = stack_containers(engine, ctx.nodes, ctx.stack, project.name)
    if not containers:
        yield skipped(ID, f"no containers of project {project.name} to read logs from")
        return
    since = {id(c): ctx.options.since for c in containers}
    if ctx.stack is not None:  # Swarm starts services together: skip each client's start race
        since.update(stack_since(containers, {d.name for d in database_services(project)}, ctx.options.since))

    def scan(container: Any) -> LogScan:
        stream = session_for(engine, ctx.nodes, container).log_stream(
            container, tail=ctx.options.log_lines, since=since[id(container)]
        )
        try:
            return scan_stream(stream, container.name)
        finally:
            stream.close()

    clean: list[str] = []
    for scanned in bounded_map(scan, containers):  # the reads overlap; findings keep their order
        produced = list(findings_for(scanned))
        yield from produced
        if not failures(produced):  # a transient "starting up" line is no failure
            clean.append(f"{scanned.source} ({scanned.lines} lines)")
    if clean:
        yield Finding(
            ID, Status.OK, f"No failure signature in the last {ctx.options.log_lines} lines of {', '.join(clean)}"
        )
