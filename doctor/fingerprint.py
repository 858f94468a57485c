"""A stable fingerprint of a diagnosis, so a ticket system can recognise repeats: the problem
finding ids, the effective socket and data strategy, and the image references. Paths, project
names, times and counts stay out of it, so the same mistake on two machines gives the same value."""

from __future__ import annotations

import hashlib
import json

from doctor.compose.model import ComposeProject, Mount
from doctor.models import PROBLEMS, Finding
from doctor.postgres import data_dir, database_services
from doctor.topology import client_uses, server_uses


def _kind(mount: Mount | None) -> str:
    if mount is None:
        return "none"
    return "anonymous" if mount.type == "volume" and not mount.source else mount.type


def fingerprint(project: ComposeProject | None, findings: list[Finding]) -> str:
    facts: dict[str, list[str]] = {"problems": sorted({f.id for f in findings if f.status in PROBLEMS})}
    if project is not None and project.texts:
        uses = [*server_uses(project), *client_uses(project)]
        facts["socket"] = sorted({f"{u.role}:{u.service.name}:{_kind(u.mount)}" for u in uses})
        facts["data"] = sorted({f"{s.name}:{_kind(s.mount_covering(data_dir(s)))}" for s in database_services(project)})
        facts["images"] = sorted({s.image for s in project.services.values() if s.image})
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
