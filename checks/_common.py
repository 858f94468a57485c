"""Small helpers shared by the Compose checks."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from doctor import catalog
from doctor.compose.model import ComposeProject, Mount, MountType
from doctor.context import Context
from doctor.models import Evidence, Finding, Status, skipped

ProjectCheck = Callable[[Context, ComposeProject], Iterator[Finding]]


def project_or_skip(ctx: Context, check_id: str) -> tuple[ComposeProject | None, Finding | None]:
    """The project when the Compose checks can judge it, else the skip finding saying why."""
    project = ctx.project
    if project is None:
        return None, skipped(check_id, "no Compose file was given or found")
    unreadable = [p for p in project.problems if not p.path]
    if unreadable or not project.texts:
        return None, skipped(check_id, "the Compose files could not be read", "see compose-invalid")
    return project, None


def requires_project(
    check_id: str, *, engine: bool = False
) -> Callable[[ProjectCheck], Callable[[Context], Iterator[Finding]]]:
    """Turn ``run(ctx, project)`` into ``run(ctx)`` that first yields the skip finding when the
    Compose files cannot be judged (or, with ``engine``, when the engine was not reached)."""

    def wrap(check: ProjectCheck) -> Callable[[Context], Iterator[Finding]]:
        @functools.wraps(check)
        def run(ctx: Context) -> Iterator[Finding]:
            project, skip = project_or_skip(ctx, check_id)
            if project is None:
                if skip is not None:
                    yield skip
                return
            if engine and ctx.engine is None:
                yield skipped(check_id, "the engine was not reached", "see engine")
                return
            yield from check(ctx, project)

        return run

    return wrap


def severity(ctx: Context, finding_id: str) -> Status:
    """The finding's status on the target OS, as the catalog declares it."""
    return catalog.get(finding_id).status_on(ctx.target_os)


def mount_evidence(mount: Mount, service: str) -> Evidence:
    text = f"{service}: - {mount.written}"
    if mount.resolved != mount.written:
        text += f"   (after interpolation: {mount.resolved})"
    return Evidence(str(mount.origin), text)


def describe_mount(mount: Mount | None) -> str:
    if mount is None:
        return "nothing (the container's own filesystem)"
    if mount.type == MountType.BIND:
        return f"the host folder {mount.source}"
    if mount.type == MountType.TMPFS:
        return "a tmpfs private to the container"
    if mount.source is None:
        return "an anonymous volume private to the container"
    return f"the named volume {mount.source}"
