"""Check: the Compose files parse, have the right shape, and every required variable is set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from doctor import catalog, safeio
from doctor.compose.model import ComposeProject
from doctor.context import Context
from doctor.models import Evidence, Facts, Finding, Remedy, Status, skipped
from doctor.postgres import database_services, unreadable_confs

ID = catalog.COMPOSE_FILE
SUMMARY = "The Compose files parse and merge as docker compose would read them"
UNREADABLE = catalog.FILE_UNREADABLE
ENV_MAX_BYTES = 1_048_576  # as doctor.compose.envfile reads it


def run(ctx: Context) -> Iterator[Finding]:
    project = ctx.project
    if project is None:
        yield skipped(ID, "no Compose file was given or found; only logs and sockets are examined")
        return
    yield from find_invalid(project)
    yield from find_missing_required(project)
    yield from find_unset_variables(project)
    yield from find_unreadable_confs(project)
    for what, origin in project.not_followed:  # remote include:/extends:, and entries the doctor cannot model
        yield Finding(
            catalog.COMPOSE_NOT_FOLLOWED,
            Status.INFO,
            f"{origin}: the doctor does not follow {what}",
            "Services, mounts and variables defined through it are not seen, so a socket mount defined "
            "there is not judged. `docker compose config` shows the merged result.",
            (Evidence(str(origin), what),),
            facts=Facts(origin=str(origin)),
        )
    if not project.texts:
        return
    databases = database_services(project)
    if project.services and not databases:
        yield Finding(
            catalog.COMPOSE_NO_DATABASE,
            Status.WARN,
            "No PostgreSQL service found in the Compose files",
            "A service counts as PostgreSQL when its image is postgres, postgis, timescaledb or "
            "pgvector, when it mounts /var/lib/postgresql, or when it sets PGDATA or "
            "POSTGRES_PASSWORD without pointing libpq elsewhere. The socket checks need one.",
            remedy=Remedy("Point the doctor at the Compose files that define the database (-f FILE)."),
            facts=Facts(account="No PostgreSQL service found in the Compose files"),
        )
    if not project.missing_required and not any(f.status is Status.FAIL for f in find_invalid(project)):
        names = ", ".join(project.services) or "none"
        yield Finding(
            ID,
            Status.OK,
            f"Read {len(project.texts)} Compose file(s): project {project.name}, services {names}",
            f"Project name from {project.name_source}. PostgreSQL: {', '.join(s.name for s in databases) or 'none'}.",
        )


# Problems that are the doctor's own bounds on hostile input, not Compose's rules.
_LIMITS = ("nested more than", "nested deeper than", "nested too deeply", "billion laughs", "MiB; a Compose file over")


def find_invalid(project: ComposeProject) -> Iterator[Finding]:
    for problem in project.problems:
        where = f" at {problem.path}" if problem.path and problem.path not in problem.message else ""
        if any(limit in problem.message for limit in _LIMITS):
            detail = (
                "The doctor stops at this safety limit on hostile input, so it does not judge the "
                "deployment; docker compose itself may accept the file (README, Safety and limits)."
            )
        else:
            detail = "docker compose would refuse this file, so the deployment cannot start as written."
        account = f"{problem.origin}: {problem.message}{where}"
        yield Finding(
            catalog.COMPOSE_INVALID,
            Status.FAIL,
            account,
            detail,
            (Evidence(str(problem.origin), problem.message),),
            Remedy("Correct the file at the place shown, then run `docker compose config -q` to confirm."),
            facts=Facts(origin=str(problem.origin), account=account),
        )


def find_missing_required(project: ComposeProject) -> Iterator[Finding]:
    for name, message, origin in project.missing_required:
        yield Finding(
            catalog.COMPOSE_VARIABLE_REQUIRED,
            Status.FAIL,
            account := f"Required variable {name} is not set ({origin})",
            f"Compose stops with: {message}",
            (Evidence(str(origin), f"${{{name}?...}} / ${{{name}:?...}}"),),
            Remedy(f"Set {name} in the shell or in the project's .env file (or pass --env-file)."),
            facts=Facts(origin=str(origin), account=account),
        )


def find_unset_variables(project: ComposeProject) -> Iterator[Finding]:
    by_name: dict[str, list[str]] = {}
    for name, origin in project.unset_variables:
        by_name.setdefault(name, []).append(str(origin))
    for name, places in by_name.items():
        yield Finding(
            catalog.COMPOSE_VARIABLE_UNSET,
            Status.INFO,
            f"Variable {name} is not set; Compose substitutes a blank string",
            f"Used at {', '.join(places)}.",
            tuple(Evidence(place, f"${name}") for place in places),
        )


def find_unreadable_confs(project: ComposeProject) -> Iterator[Finding]:
    """A file the project points at that is a FIFO, a device or too large is never read (it
    could block or never end): the project's ``.env`` and bind-mounted ``*.conf`` files."""
    dotenv = Path(project.directory) / ".env"
    reason = safeio.problem(dotenv) or safeio.too_large(dotenv, ENV_MAX_BYTES)
    if reason is not None and not reason.endswith("No such file or directory"):
        yield Finding(
            UNREADABLE,
            Status.INFO,
            f"{dotenv} is not read: {reason.removeprefix('cannot be read: ')}",
            "The doctor reads only regular files, so the variables it may set are taken as unset.",
            (Evidence(str(dotenv), reason),),
            facts=Facts(path=str(dotenv)),
        )
    for service in project.services.values():
        for source, why in unreadable_confs(service, project.conf_files):
            yield Finding(
                UNREADABLE,
                Status.INFO,
                f"{source}, bind-mounted into {service.name}, is not read: {why.removeprefix('cannot be read: ')}",
                "The doctor reads only regular files, so the socket directory and port it may set are not "
                "known; the image's defaults and the command line are assumed.",
                (Evidence(str(service.origin), source),),
                facts=Facts(service=service.name, path=source),
            )
