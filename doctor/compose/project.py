"""Load a Compose project: read each file, interpolate, parse, then merge in order."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from doctor.compose.envfile import read_env_file
from doctor.compose.files import FileNotFound, discover_files, project_name
from doctor.compose.interpolate import interpolate_tree
from doctor.compose.model import ComposeProblem, ComposeProject, EnvValue, Origin, Service
from doctor.compose.parse import FileParser, FilePart, ServicePart, describe_path, volume_decl
from doctor.compose.validate import FileInput, check_file, check_includes, check_project
from doctor.compose.yamlload import YamlProblem, load_yaml, read_text

__all__ = ["FileNotFound", "interpolation_env", "load_project"]


def interpolation_env(
    project_dir: Path, env_file: str | None, environ: Mapping[str, str]
) -> tuple[dict[str, str], str | None]:
    """The variables Compose interpolates with: ``.env`` (or --env-file), then the shell's."""
    path = Path(env_file) if env_file else project_dir / ".env"
    if env_file and not path.is_absolute():
        path = Path.cwd() / path
    if env_file and not path.is_file():
        raise FileNotFound(f"the --env-file {path} does not exist")
    values: dict[str, str] = {}
    if path.is_file():
        try:
            values = read_env_file(path, environ)
        except YamlProblem:
            values = {}
    return {**values, **environ}, str(path) if path.is_file() else None


def load_project(
    project_dir: Path,
    files: Sequence[str] = (),
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | None = None,
    explicit_name: str | None = None,
) -> ComposeProject | None:
    """Return the project, or None when there is no Compose file. Raises FileNotFound."""
    environ = dict(os.environ if environ is None else environ)
    env, _ = interpolation_env(project_dir, env_file, environ)
    paths, _how = discover_files(project_dir, files, env)
    if not paths:
        return None
    home = environ.get("HOME", str(Path.home()))
    parts: list[FilePart] = []
    inputs: list[FileInput] = []
    project = ComposeProject(name="", name_source="", directory=str(project_dir), files=[str(p) for p in paths])
    for path in paths:
        display = _display(path, project_dir)
        try:
            text = read_text(path)
            loaded = load_yaml(text)
        except YamlProblem as exc:
            project.problems.append(ComposeProblem(Origin(display, exc.line), "", exc.message))
            continue
        project.texts[display] = text
        raw = copy.deepcopy(loaded.data)
        loaded.data, issues, errors = interpolate_tree(loaded.data, env)
        for where, message in errors:
            project.problems.append(
                ComposeProblem(Origin(display, loaded.lines.get(where)), describe_path(where), message)
            )
        for issue in issues:
            origin = Origin(display, loaded.lines.get(issue.path))
            if issue.required:
                project.missing_required.append((issue.name, issue.message, origin))
            else:
                project.unset_variables.append((issue.name, origin))
        inputs.append(FileInput(display, loaded.data, loaded.lines, loaded.tags))
        invalid = check_file(inputs[-1]) + check_includes(inputs[-1], path.parent)
        project.problems.extend(invalid)
        parser = FileParser(display, loaded, raw, str(project_dir), home)
        part = parser.parse()
        if not invalid:
            # Compose accepts the file (validate.py judges it); what the parser cannot model is
            # left out of the checks, and said so, but it does not make the file invalid.
            project.not_followed.extend((f"{p.path}: {p.message}", p.origin) for p in parser.problems)
        project.not_followed.extend(parser.not_followed)
        if part.top_volumes_line is not None:
            project.top_volumes_line[display] = part.top_volumes_line
        parts.append(part)
    if not project.problems:  # Compose stops at a file's own error before it checks the merged project
        project.problems.extend(check_project(inputs, env.get("COMPOSE_PROFILES", "").split(",")))
    top_name = next((p.name for p in reversed(parts) if p.name), None)
    project.name, project.name_source = project_name(explicit_name, env, top_name, project_dir)
    _merge(project, parts)
    _apply_env_files(project, parts, project_dir, env)
    return project


def _display(path: Path, project_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(project_dir.resolve()))
    except ValueError:
        return str(path)


def _merge(project: ComposeProject, parts: list[FilePart]) -> None:
    """Later files override earlier ones: scalars replace, environment merges by key, volumes
    merge by container path, depends_on by service (Compose's merge rules)."""
    for part in parts:
        for key, body in part.volumes.items():
            merged = {**_volume_body(project, key), **body}
            project.volumes[key] = volume_decl(key, merged, "", part.volume_origins[key])
        for name, incoming in part.services.items():
            current = project.services.get(name)
            project.services[name] = incoming.service if current is None else _merge_service(current, incoming)
    # Engine names depend on the project name, known only once every file is read.
    raw_bodies = _raw_volume_bodies(parts)
    for key, decl in list(project.volumes.items()):
        project.volumes[key] = volume_decl(key, raw_bodies[key], project.name, decl.origin)


def _volume_body(project: ComposeProject, key: str) -> dict[str, object]:
    decl = project.volumes.get(key)
    if decl is None:
        return {}
    body: dict[str, object] = {"driver_opts": decl.driver_opts}
    if decl.driver:
        body["driver"] = decl.driver
    return body


def _raw_volume_bodies(parts: list[FilePart]) -> dict[str, dict[str, object]]:
    bodies: dict[str, dict[str, object]] = {}
    for part in parts:
        for key, body in part.volumes.items():
            bodies[key] = {**bodies.get(key, {}), **body}
    return bodies


def _merge_service(current: Service, incoming: ServicePart) -> Service:
    new = incoming.service
    fields = incoming.set_fields
    reset, override = incoming.reset_fields, incoming.override_fields
    if "image" in fields:
        current.image = new.image
    if "command" in fields:
        current.command = new.command
    if "healthcheck" in fields:
        current.healthcheck = new.healthcheck
    if "environment" in fields:
        if "environment" in reset | override:
            current.environment = {}
        current.environment = {**current.environment, **new.environment}
    if "depends_on" in fields:
        if "depends_on" in reset | override:
            current.depends_on = {}
        current.depends_on = {**current.depends_on, **new.depends_on}
    if "volumes" in fields:
        by_target = {} if "volumes" in reset | override else {m.canonical_target: m for m in current.mounts}
        for mount in new.mounts:
            by_target[mount.canonical_target] = mount
        current.mounts = list(by_target.values())
        current.volumes_line, current.volumes_file = new.volumes_line, new.volumes_file
    return current


def _apply_env_files(project: ComposeProject, parts: list[FilePart], project_dir: Path, env: Mapping[str, str]) -> None:
    """What the container sees: env_file values, overridden by ``environment:``."""
    files_by_service: dict[str, list[tuple[str, bool, Origin]]] = {}
    for part in parts:
        for name, service_part in part.services.items():
            files_by_service.setdefault(name, []).extend(service_part.env_files)
    for name, entries in files_by_service.items():
        service = project.services.get(name)
        if service is None or not entries:
            continue
        from_files: dict[str, EnvValue] = {}
        for relative, required, origin in entries:
            path = Path(relative) if Path(relative).is_absolute() else project_dir / relative
            try:
                values = read_env_file(path, env)
            except YamlProblem as exc:
                if required:
                    project.problems.append(
                        ComposeProblem(origin, f"services.{name}.env_file", f"env_file {relative}: {exc.message}")
                    )
                continue
            for key, value in values.items():
                from_files[key] = EnvValue(value, Origin(relative))
        service.environment = {**from_files, **service.environment}
