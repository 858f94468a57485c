"""Load a Compose project as Compose v2 does: find the directory, the files and the variables,
read each file (interpolate, parse, follow ``extends:`` and ``include:``), merge the files in
order, keep the services of the active profiles, and resolve what each container's environment
holds (``env_file:``, pass-through variables)."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from doctor.compose.envfile import read_env_file
from doctor.compose.files import FileNotFound, discover_files, project_name
from doctor.compose.interpolate import interpolate_tree
from doctor.compose.merge import merge_file_parts, merge_part
from doctor.compose.model import ComposeProblem, ComposeProject, EnvValue, Mount, MountType, Origin, Service
from doctor.compose.parse import FileParser, FilePart, ServicePart, describe_path
from doctor.compose.validate import FileInput, check_file, check_project
from doctor.compose.values import volume_decl
from doctor.compose.yamlload import YamlProblem, load_yaml, read_text

VALID_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")

__all__ = ["FileNotFound", "active_profiles", "interpolation_env", "load_project"]


def interpolation_env(
    project_dir: Path, env_file: str | None, environ: Mapping[str, str]
) -> tuple[dict[str, str], str | None, str | None]:
    """The variables Compose interpolates with: ``.env`` (or --env-file), then the shell's; the
    file read, and why it could not be read (None when it could, or there is none)."""
    path = Path(env_file) if env_file else project_dir / ".env"
    if env_file and not path.is_absolute():
        path = Path.cwd() / path
    if env_file and not path.is_file():
        raise FileNotFound(f"the --env-file {path} does not exist")
    values: dict[str, str] = {}
    if path.is_file():
        try:
            values = read_env_file(path, environ)
        except YamlProblem as exc:
            # Compose v2 stops here ("failed to read .env: …"); the doctor says so and reads on
            # with the shell's values, so the other checks still see the files.
            return dict(environ), str(path), exc.message
    return {**values, **environ}, str(path) if path.is_file() else None, None


def active_profiles(flags: Sequence[str], env: Mapping[str, str]) -> frozenset[str]:
    """``--profile`` flags, else ``COMPOSE_PROFILES`` (the flags replace it, as in Compose v2)."""
    if flags:
        return frozenset(flags)
    return frozenset(p.strip() for p in env.get("COMPOSE_PROFILES", "").split(",") if p.strip())


def load_project(
    project_dir: Path | None,
    files: Sequence[str] = (),
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | None = None,
    explicit_name: str | None = None,
    profiles: Sequence[str] = (),
    cwd: Path | None = None,
) -> ComposeProject | None:
    """Return the project, or None when there is no Compose file. Raises FileNotFound.

    ``project_dir`` is ``--project-directory`` (None when not given): Compose v2 then uses the
    folder of the first Compose file. ``-f`` names are relative to ``cwd``."""
    environ = dict(os.environ if environ is None else environ)
    cwd = (cwd or Path.cwd()).absolute()
    explicit = project_dir.absolute() if project_dir is not None else None
    # Compose reads .env twice: from the directory it knows before finding the files (it may
    # set COMPOSE_FILE), then from the project directory; values already set win.
    first_dir = explicit or ((cwd / os.path.expanduser(files[0])).parent if files else cwd)
    env, dotenv_path, unreadable = interpolation_env(first_dir, env_file, environ)
    paths, _how = discover_files(explicit or cwd, files, env, cwd)
    if not paths:
        return None
    directory = explicit or paths[0].absolute().parent
    if env_file is None and directory != first_dir:
        more, more_path, more_unreadable = interpolation_env(directory, None, env)
        env = {**more, **env}
        if unreadable is None:
            dotenv_path, unreadable = more_path, more_unreadable
    home = environ.get("HOME", str(Path.home()))
    project = ComposeProject(name="", name_source="", directory=str(directory), files=[str(p) for p in paths])
    project.interpolation = env
    if unreadable is not None and dotenv_path is not None:
        project.problems.append(ComposeProblem(Origin(_display(Path(dotenv_path), directory)), "", unreadable))
    project.dotenv = {key: value for key, value in env.items() if key not in environ}
    loader = _Loader(project, directory, home)
    parts = [part for path in paths if (part := loader.read(path, str(directory), env, ())) is not None]
    active = active_profiles(profiles, env)
    if not project.problems and not project.missing_required:
        # Compose stops at a file's own error before it checks the merged project.
        project.problems.extend(check_project(loader.inputs, active))
    merged = merge_file_parts(parts)
    project.name, project.name_source = project_name(explicit_name, env, merged.name, directory)
    given = explicit_name or env.get("COMPOSE_PROJECT_NAME")
    if given and not VALID_NAME.fullmatch(given):
        # Compose v2 normalises only the directory's and ``name:``; a given name must be valid.
        message = (
            f"invalid project name {given!r} (from {project.name_source}): only lowercase letters, digits, "
            "'-' and '_', starting with a letter or digit"
        )
        project.problems.append(ComposeProblem(Origin(project.name_source), "", message))
    for key, body in merged.volumes.items():
        project.volumes[key] = volume_decl(key, body, project.name, merged.volume_origins[key])
    for name, service_part in merged.services.items():
        service = service_part.service
        if service.profiles and not (active & set(service.profiles)) and "*" not in active:
            project.inactive_services.append(name)
            continue
        project.services[name] = service
        _resolve_environment(project, service_part, env)
        _check_mounts(project, service)
    return project


class _Loader:
    """Reads files for one project, following ``extends:`` and ``include:``."""

    def __init__(self, project: ComposeProject, root: Path, home: str) -> None:
        self.project = project
        self.root = root
        self.home = home
        self.extended: dict[str, FilePart | None] = {}  # extends: files, read once
        self.inputs: list[FileInput] = []  # the project's own files, for the checks on the merged project

    def read(
        self, path: Path, base_dir: str, env: Mapping[str, str], including: tuple[str, ...], *, follow: bool = True
    ) -> FilePart | None:
        project = self.project
        display = _display(path, self.root)
        try:
            text = read_text(path)
        except YamlProblem as exc:
            project.problems.append(ComposeProblem(Origin(display, exc.line), "", exc.message))
            return None
        try:
            loaded = load_yaml(text)
        except YamlProblem as exc:
            project.problems.append(ComposeProblem(Origin(display, exc.line), "", exc.message))
            project.unloaded[display] = text
            return None
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
        checked = FileInput(display, loaded.data, loaded.lines, loaded.tags)
        if follow and not including:
            self.inputs.append(checked)
        # Missing include:/extends: files are found by the loader below, relative to the project
        # directory as Compose resolves them (validate.check_includes assumes the file's folder).
        # Compose interpolates a file before it validates it, and stops at a required variable
        # without a value: what the blank would break next (an image of "") is never reached.
        stopped = any(issue.required for issue in issues)
        invalid = [] if stopped else check_file(checked)
        project.problems.extend(invalid)
        parser = FileParser(display, loaded, raw, base_dir, self.home)
        part = parser.parse()
        if invalid or stopped:
            follow = False  # Compose stops at this file's error; following it would repeat the problem
        else:
            # Compose accepts the file (validate.py judges it); what the parser cannot model is
            # left out of the checks, and said so, but it does not make the file invalid.
            project.not_followed.extend((f"{p.path}: {p.message}", p.origin) for p in parser.problems)
        project.not_followed.extend(parser.not_followed)
        if part.top_volumes_line is not None:
            project.top_volumes_line.setdefault(display, part.top_volumes_line)
        if follow:
            # Compose's order within a file: extends, then include.
            for name in list(part.services):
                self.extend(part, str(path), name, env, ())
            self.include(part, str(path), env, including)
        return part

    def extend(
        self, part: FilePart, file: str, name: str, env: Mapping[str, str], chain: tuple[tuple[str, str], ...]
    ) -> ServicePart:
        service_part = part.services[name]
        if (file, name) in chain:
            self._problem(service_part.service.origin, f"extends of service {name} loops back to itself")
            return service_part
        ref = service_part.extends
        if ref is None:
            return service_part
        service_part.extends = None
        base_file, base_part = file, part
        if ref.file is not None:
            base_file, found = ref.file, self._extended_file(ref.file, env)
            if found is None:
                self._problem(ref.origin, f"cannot extend service {name}: cannot read {ref.file}")
                return service_part
            base_part = found
        if ref.service not in base_part.services:
            self._problem(ref.origin, f"cannot extend service {name}: service {ref.service} not found")
            return service_part
        base = self.extend(base_part, base_file, ref.service, env, (*chain, (file, name)))
        merged = merge_part(copy.deepcopy(base), service_part)
        merged.service.name, merged.service.origin = service_part.service.name, service_part.service.origin
        part.services[name] = merged
        return merged

    def _extended_file(self, file: str, env: Mapping[str, str]) -> FilePart | None:
        if file not in self.extended:
            self.extended[file] = None
            path = Path(file)
            if path.is_file():
                # Paths in an extended file are relative to that file's own folder.
                self.extended[file] = self.read(path, str(path.parent), env, (), follow=False)
        return self.extended[file]

    def include(self, part: FilePart, file: str, env: Mapping[str, str], including: tuple[str, ...]) -> None:
        for entry in part.includes:
            first = Path(entry.paths[0])
            if entry.paths[0] in (*including, file):
                self._problem(entry.origin, f"include cycle: {first} includes a file that includes it")
                continue
            missing = next((p for p in entry.paths if not Path(p).is_file()), None)
            if missing is not None:
                self._problem(entry.origin, f"the included file {missing} does not exist")
                continue
            directory = Path(entry.project_directory) if entry.project_directory else first.parent
            env_files = list(entry.env_files) or ([str(directory / ".env")] if (directory / ".env").is_file() else [])
            own_env = dict(env)
            for env_path in env_files:
                try:
                    values = read_env_file(Path(env_path), own_env)
                except YamlProblem as exc:
                    self._problem(entry.origin, f"include env_file {env_path}: {exc.message}")
                    continue
                for key, value in values.items():
                    own_env.setdefault(key, value)  # the including project's variables win
            chain = (*including, file)
            parts = [p for path in entry.paths if (p := self.read(Path(path), str(directory), own_env, chain))]
            imported = merge_file_parts(parts)
            for name, service_part in imported.services.items():
                # Pass-through variables of an included service come from its own environment.
                _resolve_passthrough(service_part.service, own_env, keep_unset=True)
                if name in part.services and part.services[name].body != service_part.body:
                    self._problem(entry.origin, f"services.{name} conflicts with the included service {name}")
                    continue
                part.services[name] = service_part
            for key, body in imported.volumes.items():
                if key in part.volumes and part.volumes[key] != body:
                    self._problem(entry.origin, f"volumes.{key} conflicts with the included volume {key}")
                    continue
                part.volumes[key] = body
                part.volume_origins[key] = imported.volume_origins[key]

    def _problem(self, origin: Origin, message: str) -> None:
        self.project.problems.append(ComposeProblem(origin, "", message))


def _check_mounts(project: ComposeProject, service: Service) -> None:
    """A bind needs a source. Two mounts at one container path: Compose v2 drops an exact repeat (a short entry's target
    cleaned, a long one's as written) and refuses anything else (``already mounted``)."""
    seen: dict[str, Mount] = {}
    kept: list[Mount] = []
    for mount in service.mounts:
        if mount.type == MountType.BIND and not mount.source:
            where = f"services.{service.name}.volumes[{mount.index}]"
            project.problems.append(ComposeProblem(mount.origin, where, "a bind mount needs a 'source'"))
            continue
        first = seen.setdefault(mount.target, mount)
        if first is mount:
            kept.append(mount)
        elif _same(first, mount):
            continue
        else:
            message = (
                f"target {mount.target} is mounted twice in {service.name} ({first.resolved} and {mount.resolved})"
            )
            project.problems.append(ComposeProblem(mount.origin, f"services.{service.name}.volumes", message))
    service.mounts = kept
    for mount in service.tmpfs:
        if mount.target in seen and seen[mount.target] is not mount:
            message = f"target {mount.target} is mounted twice in {service.name} ({seen[mount.target].resolved} and tmpfs {mount.resolved})"
            project.problems.append(ComposeProblem(mount.origin, f"services.{service.name}.tmpfs", message))
        seen.setdefault(mount.target, mount)


def _same(a: Mount, b: Mount) -> bool:
    def key(m: Mount) -> tuple[object, ...]:
        return (m.type, m.source, m.read_only, m.merge_key if m.long_syntax else m.target)

    return key(a) == key(b)


def _display(path: Path, project_dir: Path) -> str:
    try:
        return str(path.absolute().relative_to(project_dir.absolute()))
    except ValueError:
        return str(path.absolute())


def _resolve_passthrough(service: Service, env: Mapping[str, str], *, keep_unset: bool) -> None:
    """``- VAR`` takes VAR from the shell or .env; one set nowhere is dropped (kept for later
    when ``keep_unset``: an included service's variable may still be overridden)."""
    for key, entry in list(service.environment.items()):
        if not entry.passthrough:
            continue
        if key in env:
            service.environment[key] = EnvValue(env[key], entry.origin)
        elif not keep_unset:
            del service.environment[key]


def _resolve_environment(project: ComposeProject, part: ServicePart, env: Mapping[str, str]) -> None:
    """What the container sees: env_file values, overridden by ``environment:``, where a
    pass-through variable set nowhere removes the env_file's value too (as Compose v2 does)."""
    service = part.service
    from_files: dict[str, EnvValue] = {}
    own = {key: entry.value for key, entry in service.environment.items() if not entry.passthrough}
    for ref in part.env_files:
        # ``${VAR}`` in an env_file: the shell and .env first, then the service's own
        # ``environment:``, then the env_files before it (Compose v2's order).
        lookup = {**{key: entry.value for key, entry in from_files.items()}, **own, **env}
        try:
            values = read_env_file(Path(ref.path), lookup)
        except YamlProblem as exc:
            if ref.required:
                where = f"services.{service.name}.env_file"
                project.problems.append(ComposeProblem(ref.origin, where, f"env_file {ref.written}: {exc.message}"))
            continue
        for key, value in values.items():
            from_files[key] = EnvValue(value, Origin(ref.written))
    combined = dict(from_files)
    for key, entry in service.environment.items():
        if not entry.passthrough:
            combined[key] = entry
        elif key in env:
            combined[key] = EnvValue(env[key], entry.origin)
        else:
            combined.pop(key, None)
    service.environment = combined
