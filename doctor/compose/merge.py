"""Compose v2's merge rules, applied to what each file says about a service: for override files
(``-f a -f b``, ``compose.override.yaml``) and for ``extends:``, which merge the same way.

From compose-go's ``override`` package: scalars (image, command) are replaced; ``environment`` and
``depends_on`` merge by name; ``volumes`` append and then keep one entry per target, the later
one in the earlier one's place; ``tmpfs`` and ``profiles`` append without repeats, ``env_file`` appends; a key whose new
value is null keeps the old one; ``!reset`` empties a key and ``!override`` replaces it whole."""

from __future__ import annotations

import copy
from typing import Any

from doctor.compose.model import Mount
from doctor.compose.parse import FilePart, ServicePart
from doctor.compose.values import healthcheck_enabled


def merge_file_parts(parts: list[FilePart]) -> FilePart:
    """Every file's services and top-level volumes, later files over earlier ones."""
    merged = FilePart()
    for part in parts:
        if part.name:
            merged.name = part.name
        for key, body in part.volumes.items():
            merged.volumes[key] = {**merged.volumes.get(key, {}), **body}
            merged.volume_origins[key] = part.volume_origins[key]
        for name, incoming in part.services.items():
            current = merged.services.get(name)
            if current is None:
                current = copy.deepcopy(incoming)
                # Compose keeps one entry per target within a single file too.
                current.service.mounts = _unique_targets([], current.service.mounts)
                current.service.tmpfs = _distinct([], current.service.tmpfs)
                current.service.profiles = tuple(dict.fromkeys(current.service.profiles))
                merged.services[name] = current
            else:
                merge_part(current, incoming)
    return merged


def merge_part(current: ServicePart, incoming: ServicePart) -> ServicePart:
    """``incoming`` over ``current`` (changed in place and returned)."""
    service, new = current.service, incoming.service
    fields = {key for key in incoming.set_fields if incoming.body.get(key) is not None}
    fields |= incoming.reset_fields | incoming.override_fields
    replace = incoming.reset_fields | incoming.override_fields
    if "image" in fields:
        service.image = new.image
    if "command" in fields:
        service.command = new.command
    if "healthcheck" in fields:
        base = current.body.get("healthcheck") if "healthcheck" not in replace else None
        health = {**(base if isinstance(base, dict) else {}), **_mapping(incoming.body.get("healthcheck"))}
        service.healthcheck = healthcheck_enabled(health)
        current.body["healthcheck"] = health
    if "environment" in fields:
        base_env = {} if "environment" in replace else service.environment
        service.environment = {**base_env, **new.environment}
    if "depends_on" in fields:
        base_deps = {} if "depends_on" in replace else service.depends_on
        service.depends_on = {**base_deps, **new.depends_on}
    if "volumes" in fields:
        service.mounts = _unique_targets([] if "volumes" in replace else service.mounts, new.mounts)
        service.volumes_line, service.volumes_file = new.volumes_line, new.volumes_file
    if "tmpfs" in fields:
        service.tmpfs = _distinct([] if "tmpfs" in replace else service.tmpfs, new.tmpfs)
    if "profiles" in fields:
        profiles = (*(() if "profiles" in replace else service.profiles), *new.profiles)
        service.profiles = tuple(dict.fromkeys(profiles))
    if "env_file" in fields:
        current.env_files = [*([] if "env_file" in replace else current.env_files), *incoming.env_files]
    current.set_fields |= incoming.set_fields
    for key in fields - {"healthcheck"}:
        current.body[key] = incoming.body.get(key)
    return current


def _unique_targets(current: list[Mount], incoming: list[Mount]) -> list[Mount]:
    """Compose keys ``volumes:`` entries by the target exactly as written (after interpolation)."""
    result: list[Mount] = []
    where: dict[str, int] = {}
    for mount in [*current, *incoming]:
        key = mount.merge_key or mount.target
        if key in where:
            result[where[key]] = mount
        else:
            where[key] = len(result)
            result.append(mount)
    return result


def _distinct(current: list[Mount], incoming: list[Mount]) -> list[Mount]:
    """``tmpfs:`` entries append, an entry written the same way twice counting once."""
    seen: dict[str, Mount] = {}
    for mount in [*current, *incoming]:
        seen.setdefault(mount.resolved, mount)
    return list(seen.values())


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
