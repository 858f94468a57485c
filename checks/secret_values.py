"""Check: no secret of the Compose files is also a name, part of a path, or an ordinary word.

Such a value cannot be masked wherever it appears without masking the names and paths the
report is about, so it is masked only where it stands as a value, and reported here."""

from __future__ import annotations

from collections.abc import Iterator

from doctor import catalog
from doctor.context import Context
from doctor.models import Evidence, Facts, Finding, Remedy, Status, skipped
from doctor.postgres import client_targets
from doctor.redact import Redactor, is_secret_name

ID = catalog.SECRET_VALUES
SUMMARY = "No password or secret in the Compose files is also a name, part of a path or an ordinary word"
WEAK = catalog.WEAK_SECRET


def run(ctx: Context) -> Iterator[Finding]:
    project = ctx.project
    if project is None:
        yield skipped(ID, "no Compose file was given or found")
        return
    found = False
    for service in project.services.values():
        secrets = [(name, entry.value, str(entry.origin)) for name, entry in service.environment.items()
                   if is_secret_name(name)]  # fmt: skip
        secrets += [(f"the password in {t.variable}", t.password, service.name) for t in client_targets(service)
                    if t.password]  # fmt: skip
        for finding in find_weak(ctx.redactor, service.name, secrets):
            found = True
            yield finding
    if not found:
        yield Finding(ID, Status.OK, "No secret value is also a name, a path or an ordinary word")


def find_weak(redactor: Redactor, service: str, secrets: list[tuple[str, str, str]]) -> Iterator[Finding]:
    """One info finding per secret whose value is weak; the value itself is never in it."""
    reported: set[str] = set()
    for name, value, where in secrets:
        reason = redactor.weakness(value) if value.strip() and not value.startswith("${") else None
        if reason is None or name in reported:
            continue
        reported.add(name)
        yield Finding(
            WEAK,
            Status.INFO,
            f"The value of {name} (service {service}) is also {reason}",
            "Names and paths are never masked, so this value is masked only where it stands as a "
            "value, not wherever it appears; and a password that is a name or a word is easy to guess.",
            (Evidence(where, f"{name}, value not shown"),),
            Remedy("Use a long random value, for example from `openssl rand -base64 24`."),
            facts=Facts(service=service),
        )
