"""Check: the data directory follows the guide's strategy for the target OS."""

from __future__ import annotations

from collections.abc import Iterator

from checks._common import mount_evidence, requires_project
from doctor import catalog
from doctor.compose.model import ComposeProject, Mount, MountType, Service
from doctor.context import Context
from doctor.models import Facts, Finding, Remedy, Status, TargetOS, skipped
from doctor.postgres import data_dir, database_services
from doctor.remedies import data_move_commands

ID = catalog.DATA_VOLUME_STRATEGY
SUMMARY = "The data directory is a named volume on macOS (a host path is fine on Linux)"


def find_data_mounts(project: ComposeProject) -> list[tuple[Service, str, Mount | None]]:
    return [(s, data_dir(s), s.mount_covering(data_dir(s))) for s in database_services(project)]


def judge(target_os: TargetOS, mount: Mount | None) -> Status:
    if mount is None or mount.type == MountType.TMPFS:
        return Status.INFO
    if mount.type == MountType.BIND:  # the guide's rule itself: the catalog's statuses
        return catalog.get(ID).status_on(target_os)
    return Status.OK if target_os is TargetOS.MACOS else Status.INFO


@requires_project(ID)
def run(ctx: Context, project: ComposeProject) -> Iterator[Finding]:
    mounts = find_data_mounts(project)
    if not mounts:
        yield skipped(ID, "no PostgreSQL service in the Compose files")
        return
    for service, directory, mount in mounts:
        yield data_finding(ctx, project, service, directory, mount)


def data_finding(
    ctx: Context, project: ComposeProject, service: Service, directory: str, mount: Mount | None
) -> Finding:
    status = judge(ctx.target_os, mount)
    facts = Facts(
        service=service.name,
        volume=mount.source if mount is not None and mount.type == MountType.VOLUME else None,
        path=mount.source if mount is not None and mount.type == MountType.BIND else None,
        origin=str(mount.origin) if mount is not None else None,
        account=f"{service.name} keeps its data on the host folder {mount.source}"
        if mount is not None and mount.type == MountType.BIND
        else None,
    )
    evidence = (mount_evidence(mount, service.name),) if mount is not None else ()
    if mount is None or mount.type == MountType.TMPFS:
        # Only a failing file names the planner's volume: the planner loads then.
        from doctor.plan import DATA_VOLUME

        return Finding(
            ID,
            status,
            f"{service.name} keeps its data directory {directory} on no named volume",
            "The image's anonymous volume holds it: it survives restarts but not `compose down -v`, "
            "and it is hard to find for a backup.",
            remedy=Remedy(f"Mount a named volume ({DATA_VOLUME}) at {directory}."),
            facts=facts,
        )
    if mount.type == MountType.BIND and status is Status.WARN:
        # Only a failing file needs a diff: the planner and its YAML editor load then.
        from doctor.plan import DATA_VOLUME, plan_for

        engine_name = project.engine_volume_name(DATA_VOLUME)
        diff = plan_for(ctx).diff(ID, service.name)
        return Finding(
            ID,
            status,
            f"{service.name} keeps its data on the host folder {mount.source}",
            "On macOS the guide puts data on a named volume: a host folder crosses the VM boundary, "
            "where ownership changes fail and the data directory can end up with the wrong owner. "
            "Move the data before switching; the doctor never moves data.",
            evidence,
            Remedy(
                f"Back up the folder (the first two commands), apply the diff to switch {directory} to the "
                f"named volume {DATA_VOLUME} ({engine_name}), then let Compose create it, restore into it and "
                "start, in this order.",
                diff,
                data_move_commands(
                    ctx.runtime, mount.source or directory, engine_name, project.name, ctx.compose_command
                ),
            ),
            facts=facts,
        )
    if mount.type == MountType.BIND:
        return Finding(
            ID,
            status,
            f"{service.name} keeps its data on the host folder {mount.source}",
            "On Linux a host path is the guide's choice: easy to back up with tar.",
            evidence,
            facts=facts,
        )
    if status is Status.INFO:
        return Finding(
            ID,
            status,
            f"{service.name} keeps its data on the named volume {mount.source} ({project.engine_volume_name(mount.source or '')})",
            "That works on Linux; the guide prefers a host path there because it is easier to back up.",
            evidence,
            facts=facts,
        )
    return Finding(
        ID, status, f"{service.name} keeps its data on the named volume {mount.source}", "", evidence, facts=facts
    )
