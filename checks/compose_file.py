"""Check: the Compose files parse, have the right shape, and every required variable is set."""

from __future__ import annotations

from collections.abc import Iterator

from doctor.compose.model import ComposeProject
from doctor.context import Context
from doctor.models import Evidence, Finding, Remedy, Status
from doctor.postgres import database_services

ID = "compose-file"
SUMMARY = "The Compose files parse and merge as docker compose would read them"


def run(ctx: Context) -> Iterator[Finding]:
    project = ctx.project
    if project is None:
        yield Finding(ID, Status.SKIP, "No Compose file was given or found; only logs and sockets are examined")
        return
    yield from find_invalid(project)
    yield from find_missing_required(project)
    yield from find_unset_variables(project)
    for what, origin in project.not_followed:  # remote include:/extends: (Git, OCI)
        yield Finding(
            "compose-not-followed",
            Status.INFO,
            f"{origin}: the doctor does not follow {what}",
            "Services, mounts and variables defined through it are not seen, so a socket mount defined "
            "there is not judged. `docker compose config` shows the merged result.",
            (Evidence(str(origin), what),),
        )
    if not project.texts:
        return
    databases = database_services(project)
    if project.services and not databases:
        yield Finding(
            "compose-no-database",
            Status.WARN,
            "No PostgreSQL service found in the Compose files",
            "A service counts as PostgreSQL when its image is postgres, postgis, timescaledb or "
            "pgvector, when it mounts /var/lib/postgresql, or when it sets PGDATA or "
            "POSTGRES_PASSWORD without pointing libpq elsewhere. The socket checks need one.",
            remedy=Remedy("Point the doctor at the Compose files that define the database (-f FILE)."),
        )
    if not any(f.status is Status.FAIL for f in find_invalid(project)):
        names = ", ".join(project.services) or "none"
        yield Finding(
            ID,
            Status.OK,
            f"Read {len(project.texts)} Compose file(s): project {project.name}, services {names}",
            f"Project name from {project.name_source}. PostgreSQL: {', '.join(s.name for s in databases) or 'none'}.",
        )


def find_invalid(project: ComposeProject) -> Iterator[Finding]:
    for problem in project.problems:
        where = f" at {problem.path}" if problem.path else ""
        yield Finding(
            "compose-invalid",
            Status.FAIL,
            f"{problem.origin}: {problem.message}{where}",
            "docker compose would refuse this file, so the deployment cannot start as written.",
            (Evidence(str(problem.origin), problem.message),),
            Remedy("Correct the file at the place shown, then run `docker compose config -q` to confirm."),
        )


def find_missing_required(project: ComposeProject) -> Iterator[Finding]:
    for name, message, origin in project.missing_required:
        yield Finding(
            "compose-variable-required",
            Status.FAIL,
            f"Required variable {name} is not set ({origin})",
            f"Compose stops with: {message}",
            (Evidence(str(origin), f"${{{name}?...}} / ${{{name}:?...}}"),),
            Remedy(f"Set {name} in the shell or in the project's .env file (or pass --env-file)."),
        )


def find_unset_variables(project: ComposeProject) -> Iterator[Finding]:
    by_name: dict[str, list[str]] = {}
    for name, origin in project.unset_variables:
        by_name.setdefault(name, []).append(str(origin))
    for name, places in by_name.items():
        yield Finding(
            "compose-variable-unset",
            Status.INFO,
            f"Variable {name} is not set; Compose substitutes a blank string",
            f"Used at {', '.join(places)}.",
            tuple(Evidence(place, f"${name}") for place in places),
        )
