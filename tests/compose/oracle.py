"""The comparison behind tests/compose/test_oracle.py: one view of a project, from Compose v2's
``config --format json`` and from the doctor's model, holding exactly what must agree.

Deliberate differences, each normalised here and explained in the README ("Compose v2 as the
oracle"):

- PASSTHROUGH_UNSET: ``environment: [VAR]`` with VAR set nowhere. Compose prints ``VAR: null``
  (the container gets no VAR, and the ``env_file:`` value is gone); the doctor leaves VAR out.
- UNUSED_VOLUMES: Compose prints only the top-level volumes that an active service mounts; the
  doctor keeps every declared volume (a declared socket volume matters to the checks). Engine
  names are compared for the volumes Compose prints.
- UNDECLARED_VOLUME: a service mounts a named volume missing from top-level ``volumes:``. Compose
  refuses the file; the doctor models it anyway, so that ``socket-volume-undeclared`` can offer the
  diff that declares it. The test accepts that refusal when the doctor's model shows such a mount.
- TRAILING_SLASH: one container path written with and without a trailing slash (``/srv/x/``
  and ``/srv/x``) in entries of different files. Compose v2 cleans a short entry's target when
  the file it is in has been merged, not before, so whether it replaces an entry of another file
  or clashes with it (``already mounted``) depends on the syntax and the file order. The doctor
  merges by the target as written and refuses two different mounts at one cleaned path; the
  generated override files write targets without a trailing slash, where both agree.
- ORDER: mounts are compared as sorted lists; Compose prints them in merge order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from doctor.compose.model import ComposeProject
from doctor.compose.project import load_project

DIFFERENCES = ("PASSTHROUGH_UNSET", "UNUSED_VOLUMES", "UNDECLARED_VOLUME", "TRAILING_SLASH", "ORDER")

MountView = tuple[str, "str | None", str, bool]


@dataclass
class ServiceView:
    mounts: list[MountView]
    environment: dict[str, str]
    depends_on: dict[str, str]


@dataclass
class View:
    name: str
    services: dict[str, ServiceView] = field(default_factory=dict)
    volumes: dict[str, str | None] = field(default_factory=dict)


def _tmpfs(entry: str) -> MountView:
    target, _, options = entry.partition(":")
    return ("tmpfs", None, target, "ro" in options.split(","))


def _unescape(value: Any) -> Any:
    """``config`` prints every ``$`` of a value doubled, so that its output reads back the same."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, dict):
        return {key: _unescape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unescape(item) for item in value]
    return value


def compose_view(printed: dict[str, Any]) -> View:
    model = _unescape(printed)
    view = View(model["name"])
    for name, body in (model.get("services") or {}).items():
        mounts: list[MountView] = [
            (v["type"], v.get("source") or None, v["target"], bool(v.get("read_only")))
            for v in body.get("volumes") or []
        ]
        mounts += [_tmpfs(entry) for entry in body.get("tmpfs") or []]
        environment = {k: v for k, v in (body.get("environment") or {}).items() if v is not None}  # PASSTHROUGH_UNSET
        depends = {k: (d or {}).get("condition", "service_started") for k, d in (body.get("depends_on") or {}).items()}
        view.services[name] = ServiceView(sorted(mounts, key=repr), environment, depends)  # ORDER
    view.volumes = {key: (body or {}).get("name") for key, body in (model.get("volumes") or {}).items()}
    return view


def doctor_view(project: ComposeProject, volume_keys: list[str]) -> View:
    view = View(project.name)
    for name, service in project.services.items():
        mounts: list[MountView] = [(m.type, m.source, m.target, m.read_only) for m in service.all_mounts]
        environment = {key: entry.value for key, entry in service.environment.items()}
        view.services[name] = ServiceView(sorted(mounts, key=repr), environment, dict(service.depends_on))
    # UNUSED_VOLUMES: only the volumes Compose prints.
    view.volumes = {key: (project.volumes[key].engine_name if key in project.volumes else None) for key in volume_keys}
    return view


@dataclass(frozen=True)
class Case:
    """How both are run: the current directory, -f files, --project-directory, --profile, variables."""

    cwd: Path
    files: tuple[str, ...] = ()
    project_directory: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    profiles: tuple[str, ...] = ()

    @property
    def environ(self) -> dict[str, str]:
        # lab.composev2.run gives Compose PATH and HOME besides ``env``; the doctor sees the same.
        base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
        return {**base, **dict(self.env)}

    def doctor(self) -> ComposeProject | None:
        directory = self.cwd / self.project_directory if self.project_directory is not None else None
        return load_project(directory, self.files, environ=self.environ, cwd=self.cwd, profiles=self.profiles)


def refuses(project: ComposeProject | None) -> bool:
    """The doctor's own verdict that the project cannot start as written."""
    return project is None or bool(project.problems or project.missing_required)


def undeclared_volume(project: ComposeProject) -> bool:
    """UNDECLARED_VOLUME: a named volume mounted but not declared (socket-volume-undeclared)."""
    return any(
        m.type == "volume" and m.source and m.source not in project.volumes
        for service in project.services.values()
        for m in service.mounts
    )


def differences(doctor: View, compose: View) -> list[str]:
    """Each disagreement in one line: where, the doctor's value, Compose's value."""
    found = []
    if doctor.name != compose.name:
        found.append(f"project name: doctor {doctor.name!r}, compose {compose.name!r}")
    if set(doctor.services) != set(compose.services):
        found.append(f"services: doctor {sorted(doctor.services)}, compose {sorted(compose.services)}")
    for name in set(doctor.services) & set(compose.services):
        ours, theirs = doctor.services[name], compose.services[name]
        for what in ("mounts", "environment", "depends_on"):
            if getattr(ours, what) != getattr(theirs, what):
                found.append(f"{name}.{what}: doctor {getattr(ours, what)}, compose {getattr(theirs, what)}")
    if doctor.volumes != compose.volumes:
        found.append(f"volume engine names: doctor {doctor.volumes}, compose {compose.volumes}")
    return found
