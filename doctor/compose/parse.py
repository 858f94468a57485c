"""One Compose file's plain data to model objects, reporting wrong shapes instead of failing."""

from __future__ import annotations

import os
import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any

from doctor.compose.model import (
    ComposeProblem,
    EnvValue,
    Mount,
    MountType,
    Origin,
    Service,
    is_host_path,
)
from doctor.compose.values import (
    clean_path,
    describe_long,
    env_str,
    healthcheck_enabled,
    is_remote,
    kind_of,
)
from doctor.compose.yamlload import LoadedYaml, PathKey


@dataclass(frozen=True)
class EnvFileRef:
    written: str  # as in the file, for messages
    path: str  # absolute: relative names are resolved against the file's project directory
    required: bool
    origin: Origin


@dataclass(frozen=True)
class Extends:
    service: str
    file: str | None  # absolute, or None for a service of the same file
    origin: Origin


@dataclass(frozen=True)
class Include:
    paths: tuple[str, ...]  # absolute; the first one sets the included project's directory
    project_directory: str | None  # absolute
    env_files: tuple[str, ...]  # absolute
    origin: Origin


@dataclass
class ServicePart:
    """What one file says about a service, before merging with the other files."""

    service: Service
    env_files: list[EnvFileRef] = field(default_factory=list)
    extends: Extends | None = None
    body: dict[str, Any] = field(default_factory=dict)  # the interpolated mapping, for include conflicts
    set_fields: set[str] = field(default_factory=set)
    reset_fields: set[str] = field(default_factory=set)
    override_fields: set[str] = field(default_factory=set)


@dataclass
class FilePart:
    name: str | None = None
    services: dict[str, ServicePart] = field(default_factory=dict)
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)
    volume_origins: dict[str, Origin] = field(default_factory=dict)
    top_volumes_line: int | None = None
    includes: list[Include] = field(default_factory=list)


def describe_path(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class FileParser:
    def __init__(self, file: str, loaded: LoadedYaml, raw: Any, project_dir: str, home: str) -> None:
        self.file = file
        self.loaded = loaded
        self.raw = raw  # the same data before interpolation, to show entries as written
        # Relative paths (binds, env_file, extends, include) are relative to this directory: the
        # project's for the files given with -f, the file's own folder for one that is extended,
        # the included project's for an included one (as Compose v2 resolves them).
        self.project_dir = project_dir
        self.home = home
        self.problems: list[ComposeProblem] = []
        self.not_followed: list[tuple[str, Origin]] = []

    def origin(self, path: PathKey) -> Origin:
        return Origin(self.file, self.loaded.lines.get(path))

    def problem(self, path: PathKey, message: str) -> None:
        self.problems.append(ComposeProblem(self.origin(path), describe_path(path), message))

    def raw_at(self, path: PathKey) -> Any:
        value = self.raw
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def parse(self) -> FilePart:
        data = self.loaded.data
        part = FilePart()
        if data is None:
            return part
        if not isinstance(data, dict):
            self.problem((), f"the file must be a mapping, not {kind_of(data)}")
            return part
        if isinstance(data.get("name"), str):
            part.name = data["name"]
        if "include" in data:
            part.includes = self.includes(data["include"])
        services = data.get("services")
        if services is not None and not isinstance(services, dict):
            self.problem(("services",), f"services must be a mapping, not {kind_of(services)}")
        elif services:
            for name, body in services.items():
                parsed = self.service(str(name), body)
                if parsed is not None:
                    part.services[str(name)] = parsed
        volumes = data.get("volumes")
        if volumes is not None and not isinstance(volumes, dict):
            self.problem(("volumes",), f"volumes must be a mapping, not {kind_of(volumes)}")
        elif volumes is not None:
            part.top_volumes_line = self.loaded.lines.get(("volumes",))
            for key, body in volumes.items():
                path: PathKey = ("volumes", key)
                if body is not None and not isinstance(body, dict):
                    self.problem(path, f"a volume must be a mapping, not {kind_of(body)}")
                    continue
                part.volumes[str(key)] = body or {}
                part.volume_origins[str(key)] = self.origin(path)
        return part

    def service(self, name: str, body: Any) -> ServicePart | None:
        base: PathKey = ("services", name)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            self.problem(base, f"a service must be a mapping, not {kind_of(body)}")
            return None
        service = Service(name=name, origin=self.origin(base))
        part = ServicePart(service)
        part.body = body
        if "extends" in body:
            part.extends = self.extends(body["extends"], (*base, "extends"), name)
        part.set_fields = {key for key in body if isinstance(key, str)}
        for key in body:
            tag = self.loaded.tags.get((*base, key))
            if tag == "!reset":
                part.reset_fields.add(key)
            elif tag == "!override":
                part.override_fields.add(key)
        if "image" in body:
            service.image = str(body["image"] or "")
        if "command" in body:
            service.command = self.command(body["command"], (*base, "command"))
        if "environment" in body:
            service.environment = self.environment(body["environment"], (*base, "environment"))
        if "env_file" in body:
            part.env_files = self.env_files(body["env_file"], (*base, "env_file"))
        if "profiles" in body:
            service.profiles = self.strings(body["profiles"], (*base, "profiles"))
        if "tmpfs" in body:
            service.tmpfs = self.tmpfs(body["tmpfs"], (*base, "tmpfs"))
        if "volumes" in body:
            service.mounts = self.mounts(body["volumes"], (*base, "volumes"))
            service.volumes_line = self.loaded.lines.get((*base, "volumes"))
            service.volumes_file = self.file
        if "depends_on" in body:
            service.depends_on = self.depends_on(body["depends_on"], (*base, "depends_on"))
        if "healthcheck" in body:
            service.healthcheck = healthcheck_enabled(body["healthcheck"])
        return part

    def command(self, value: Any, path: PathKey) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            try:
                return tuple(shlex.split(value))
            except ValueError:
                return tuple(value.split())
        if isinstance(value, list):
            return tuple(str(item) for item in value)
        self.problem(path, f"command must be a string or a list, not {kind_of(value)}")
        return ()

    def environment(self, value: Any, path: PathKey) -> dict[str, EnvValue]:
        result: dict[str, EnvValue] = {}
        if value is None:
            return result
        if isinstance(value, dict):
            for key, item in value.items():
                if item is None:  # ``VAR:`` with no value: from the shell or .env, like ``- VAR``
                    result[str(key)] = EnvValue("", self.origin((*path, key)), passthrough=True)
                    continue
                result[str(key)] = EnvValue(env_str(item), self.origin((*path, key)))
            return result
        if isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    self.problem((*path, i), f"an environment entry must be a string, not {kind_of(item)}")
                    continue
                key, sep, rest = item.partition("=")
                result[key] = EnvValue(rest, self.origin((*path, i)), passthrough=not sep)
            return result
        self.problem(path, f"environment must be a mapping or a list, not {kind_of(value)}")
        return result

    def env_files(self, value: Any, path: PathKey) -> list[EnvFileRef]:
        items = value if isinstance(value, list) else [value]
        result = []
        for i, item in enumerate(items):
            where = (*path, i) if isinstance(value, list) else path
            if isinstance(item, str):
                result.append(EnvFileRef(item, self.file_path(item), True, self.origin(where)))
            elif isinstance(item, dict) and isinstance(item.get("path"), str):
                required = bool(item.get("required", True))
                result.append(EnvFileRef(item["path"], self.file_path(item["path"]), required, self.origin(where)))
            else:
                self.problem(where, f"an env_file entry must be a path, not {kind_of(item)}")
        return result

    def strings(self, value: Any, path: PathKey) -> tuple[str, ...]:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        self.problem(path, f"must be a list of strings, not {kind_of(value)}")
        return ()

    def file_path(self, name: str) -> str:
        """A file named in the Compose file (env_file, extends, include), made absolute."""
        expanded = self.home + name[1:] if name.startswith("~") else name
        return posixpath.normpath(os.path.join(self.project_dir, expanded))

    def extends(self, value: Any, path: PathKey, name: str) -> Extends | None:
        if isinstance(value, str):
            return Extends(value, None, self.origin(path))
        if isinstance(value, dict) and isinstance(value.get("service"), str):
            file = value.get("file")
            if file is not None and not isinstance(file, str):
                self.problem((*path, "file"), f"extends.file must be a path, not {kind_of(file)}")
                return None
            if file is not None and is_remote(file):
                self.not_followed.append((f"extends: {file} in service {name}", self.origin(path)))
                return None
            return Extends(value["service"], self.file_path(file) if file else None, self.origin(path))
        self.problem(path, "extends needs a service name, or a mapping with 'service' (and 'file')")
        return None

    def includes(self, value: Any) -> list[Include]:
        path: PathKey = ("include",)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"include must be a list, not {kind_of(value)}")
            return []
        result = []
        for i, item in enumerate(value):
            where = (*path, i)
            entry = {"path": item} if isinstance(item, str) else item
            paths = entry.get("path") if isinstance(entry, dict) else None
            paths = [paths] if isinstance(paths, str) else paths
            if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
                self.problem(where, "an include entry needs a path (a string or a list of strings)")
                continue
            if any(is_remote(p) for p in paths):
                self.not_followed.append((f"include: {paths[0]}", self.origin(where)))
                continue
            directory = entry.get("project_directory")
            env_files = entry.get("env_file") or []
            env_files = [env_files] if isinstance(env_files, str) else env_files
            if (directory is not None and not isinstance(directory, str)) or not isinstance(env_files, list):
                self.problem(where, "include: project_directory must be a path and env_file a path or a list")
                continue
            result.append(
                Include(
                    tuple(self.file_path(p) for p in paths),
                    self.file_path(directory) if directory else None,
                    tuple(self.file_path(str(f)) for f in env_files),
                    self.origin(where),
                )
            )
        return result

    def tmpfs(self, value: Any, path: PathKey) -> list[Mount]:
        """``tmpfs: /dir`` or a list of ``/dir[:options]``: a private tmpfs in the container."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.problem(path, f"tmpfs must be a path or a list of paths, not {kind_of(value)}")
            return []
        mounts = []
        for i, item in enumerate(items):
            where = (*path, i) if isinstance(value, list) else path
            if not isinstance(item, str):
                self.problem(where, f"a tmpfs entry must be a path, not {kind_of(item)}")
                continue
            target, _, options = item.partition(":")
            read_only = "ro" in options.split(",")
            written = self.raw_at(where)
            written = written if isinstance(written, str) else item
            mounts.append(Mount(MountType.TMPFS, None, target, read_only, written, item, self.origin(where), i))
        return mounts

    def depends_on(self, value: Any, path: PathKey) -> dict[str, str]:
        if isinstance(value, list):
            return {str(item): "service_started" for item in value}
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                condition = item.get("condition") if isinstance(item, dict) else None
                result[str(key)] = str(condition or "service_started")
            return result
        self.problem(path, f"depends_on must be a list or a mapping, not {kind_of(value)}")
        return {}

    def mounts(self, value: Any, path: PathKey) -> list[Mount]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"volumes must be a list, not {kind_of(value)}")
            return []
        mounts = []
        for i, item in enumerate(value):
            where = (*path, i)
            mount = None
            if isinstance(item, str):
                mount = self.short_mount(item, where, i)
            elif isinstance(item, dict):
                mount = self.long_mount(item, where, i)
            else:
                self.problem(where, f"a volume entry must be a string or a mapping, not {kind_of(item)}")
            if mount is not None:
                mounts.append(mount)
        return mounts

    def short_mount(self, entry: str, where: PathKey, index: int) -> Mount | None:
        written = self.raw_at(where)
        written = written if isinstance(written, str) else entry
        parts = entry.split(":")
        if len(parts) == 1:
            source, target, mode = None, parts[0], ""
        elif len(parts) in (2, 3) and parts[0]:
            source, target = parts[0], parts[1]
            mode = parts[2] if len(parts) == 3 else ""
        elif len(parts) in (2, 3):
            # What Compose says of ``:/dir`` (often an interpolated source that came out empty).
            self.problem(where, f"invalid volume entry {entry!r}: empty section between colons")
            return None
        else:
            self.problem(where, f"cannot read the volume entry {entry!r} (SOURCE:TARGET[:MODE])")
            return None
        if not target.startswith("/"):
            self.problem(where, f"the volume target {target!r} is not an absolute path")
            return None
        read_only = "ro" in mode.split(",")
        origin, clean = self.origin(where), clean_path(target)  # Compose prints /a/b/ as /a/b
        if source is None or source == "":
            return Mount(MountType.VOLUME, None, clean, read_only, written, entry, origin, index, target)
        if is_host_path(source):
            host = self.host_path(source)
            return Mount(MountType.BIND, host, clean, read_only, written, entry, origin, index, target)
        return Mount(MountType.VOLUME, source, clean, read_only, written, entry, origin, index, target)

    def long_mount(self, entry: dict[str, Any], where: PathKey, index: int) -> Mount | None:
        kind = entry.get("type", "volume")
        target = entry.get("target")
        if kind not in ("bind", "volume", "tmpfs", "npipe", "cluster", "image"):
            self.problem((*where, "type"), f"unknown volume type {kind!r}")
            return None
        if not isinstance(target, str) or not target.startswith("/"):
            self.problem(where, "a volume entry in long syntax needs an absolute 'target'")
            return None
        source = entry.get("source")
        if source is not None and not isinstance(source, str):
            self.problem((*where, "source"), f"source must be a string, not {kind_of(source)}")
            return None
        if kind == "bind" and source is not None:
            source = self.host_path(source)  # an empty source (interpolated) is the project directory
        # A bind without a source is refused for an active service only, as Compose v2 does:
        # see project._check_mounts.
        written = describe_long(self.raw_at(where) or entry)
        resolved = describe_long(entry)
        read_only = bool(entry.get("read_only", False))
        origin, mtype = self.origin(where), MountType(kind)
        return Mount(
            mtype, source or None, clean_path(target), read_only, written, resolved, origin, index, target, True
        )

    def host_path(self, source: str) -> str:
        if source.startswith("~"):
            source = self.home + source[1:]
        elif not source.startswith("/"):
            source = os.path.join(self.project_dir, source)
        return posixpath.normpath(source)
