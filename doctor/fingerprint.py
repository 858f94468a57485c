"""A stable fingerprint of a diagnosis, so a ticket system can recognise repeats: the problem
finding ids, the effective socket and data strategy, and the image references. Paths, project
names, times and counts stay out of it, so the same mistake on two machines gives the same value."""

from __future__ import annotations

import hashlib
import json

from doctor import catalog
from doctor.compose.model import ComposeProject, Mount, MountType
from doctor.models import PROBLEMS, Finding
from doctor.postgres import data_dir, database_services
from doctor.topology import client_uses, server_uses


def _kind(mount: Mount | None) -> str:
    if mount is None:
        return "none"
    return "anonymous" if mount.type == MountType.VOLUME and not mount.source else mount.type


# Whether the engine was contacted says nothing about the project: --offline and an engine that
# is down must give the same fingerprint for the same files and logs.
NOT_ABOUT_THE_PROJECT = frozenset({catalog.ENGINE_UNREACHABLE})


def fingerprint(project: ComposeProject | None, findings: list[Finding]) -> str:
    problems = {f.id for f in findings if f.status in PROBLEMS and f.id not in NOT_ABOUT_THE_PROJECT}
    facts: dict[str, list[str]] = {"problems": sorted(problems)}
    if project is not None and project.texts:
        uses = [*server_uses(project), *client_uses(project)]
        facts["socket"] = sorted({f"{u.role}:{u.service.name}:{_kind(u.mount)}" for u in uses})
        facts["data"] = sorted({f"{s.name}:{_kind(s.mount_covering(data_dir(s)))}" for s in database_services(project)})
        facts["images"] = sorted({s.image for s in project.services.values() if s.image})
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
