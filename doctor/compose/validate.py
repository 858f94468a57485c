"""Is this a Compose project Docker Compose v2 accepts? The same rules, in the same order:

1. YAML (the loader: syntax, duplicate keys, explicit tags);
2. every mapping key is a string;
3. after interpolation, the values at typed places are cast (``privileged: "yes"`` is a boolean,
   ``retries: "3"`` an integer), and a value that does not cast is refused;
4. the Compose Specification's JSON Schema (``schema.py``);
5. what Compose checks while decoding: durations, port and volume strings, mount targets;
6. across the merged files: not empty, every service has an image or a build, ``depends_on``
   names services that exist, without a cycle.

Compose stops at the first refusal; the doctor reports each one with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from doctor.compose.decoding import decoding_problems
from doctor.compose.model import ComposeProblem, Origin
from doctor.compose.schema import describe, validate
from doctor.compose.yamlload import PathKey

Cast = Callable[[str], Any]


@dataclass(frozen=True)
class FileInput:
    """One file as the loader and interpolation left it."""

    display: str
    data: Any
    lines: Mapping[PathKey, int]
    tags: Mapping[PathKey, str]


def check_file(file: FileInput) -> list[ComposeProblem]:
    """What Compose refuses in this file on its own (steps 2 to 5)."""
    if file.data is None:
        return []
    problems = [_problem(file, path, message) for path, message in _non_string_keys(file.data, ())]
    if problems:
        return problems
    data = _without_reset(file.data, file.tags, ())
    data, cast_errors = _cast(data, ())
    if cast_errors:
        return [_problem(file, path, message) for path, message in cast_errors]
    schema_errors = validate(data)
    if schema_errors:
        return [_problem(file, error.path, error.message) for error in schema_errors]
    return [_problem(file, path, message) for path, message in decoding_problems(data)]


def check_project(files: Sequence[FileInput], active_profiles: Collection[str] = ()) -> list[ComposeProblem]:
    """What Compose refuses once the files are merged (step 6), for the services that run:
    a service behind a profile that is not active is left out, as Compose leaves it out."""
    readable = [f for f in files if isinstance(f.data, dict)]
    if files and not any(f.data for f in readable) and all(f.data is None or isinstance(f.data, dict) for f in files):
        return [
            ComposeProblem(Origin(files[0].display, 1), "", "the Compose file is empty (Compose: empty compose file)")
        ]
    services: dict[str, _Service] = {}
    declared: dict[str, set[str]] = {"networks": {"default"}, "volumes": set(), "secrets": set(), "configs": set()}
    includes = False
    for file in readable:
        includes = includes or "include" in file.data
        for section, names in declared.items():
            body = file.data.get(section)
            if isinstance(body, dict):
                names.update(str(name) for name in body)
        body = file.data.get("services")
        for name, service in body.items() if isinstance(body, dict) else ():
            if isinstance(name, str) and isinstance(service, dict):
                services.setdefault(name, _Service(name, file)).add(file, service)
    problems = _extends_problems(services)
    if problems:
        return problems
    active = {name: s for name, s in services.items() if s.active(active_profiles)}
    for service in active.values():
        if not _has_image(service, services):
            problems.append(
                _problem(
                    service.first,
                    ("services", service.name),
                    f'service "{service.name}" has neither an image nor a build context',
                )
            )
        for other, file, path in service.depends:
            if other not in active and not includes:
                problems.append(
                    _problem(file, path, f'service "{service.name}" depends on undefined service "{other}"')
                )
        for section, ref, file, path in service.all_references():
            if ref not in declared[section] and not includes:
                problems.append(
                    _problem(file, path, f'service "{service.name}" refers to undefined {section[:-1]} {ref}')
                )
    cycle = _cycle({name: [other for other, _, _ in s.depends] for name, s in active.items()})
    if cycle:
        service = active[cycle[0]]
        file, path = service.depends[0][1], service.depends[0][2]
        problems.append(_problem(file, path, f"dependency cycle detected: {' -> '.join(cycle)}"))
    return problems


def _extends_problems(services: Mapping[str, _Service]) -> list[ComposeProblem]:
    """``extends:`` within the project must name a service that exists, without a loop."""
    problems = []
    for service in services.values():
        if service.extends is not None and service.extends[0] not in services:
            name, file, path = service.extends
            problems.append(_problem(file, path, f'cannot extend service "{service.name}": service "{name}" not found'))
    cycle = _cycle({name: [s.extends[0]] if s.extends else [] for name, s in services.items()})
    if cycle and not problems:
        first = services[cycle[0]]
        assert first.extends is not None
        problems.append(_problem(first.extends[1], first.extends[2], f"circular extends: {' -> '.join(cycle)}"))
    return problems


def _has_image(service: _Service, services: Mapping[str, _Service]) -> bool:
    """An image or a build of its own, else the one it extends (its own ``image: ""`` wins)."""
    seen: set[str] = set()
    current: _Service | None = service
    while current is not None and current.name not in seen:
        seen.add(current.name)
        if current.build:
            return True
        if current.image is not None:
            return bool(current.image)
        if current.extends_other_file:
            return True  # another file's service: not judged here
        current = services.get(current.extends[0]) if current.extends else None
    return False


class _Service:
    """What the merged files say about one service, as far as step 6 needs it."""

    def __init__(self, name: str, first: FileInput) -> None:
        self.name = name
        self.first = first
        self.image: str | None = None  # the last file's image: wins, "" included
        self.build = False
        self.extends: tuple[str, FileInput, PathKey] | None = None  # a service of the same project
        self.extends_other_file = False
        self.profiles: list[str] = []
        self.depends: list[tuple[str, FileInput, PathKey]] = []
        self.references: list[tuple[str, str, FileInput, PathKey]] = []  # section, name, where
        # Entries at one container path replace each other (the last wins, across files too), so
        # only the surviving entry's volume must be declared.
        self.mounts: dict[str, tuple[str | None, FileInput, PathKey]] = {}

    def active(self, enabled: Collection[str]) -> bool:
        return not self.profiles or "*" in enabled or any(p in enabled for p in self.profiles)

    def add(self, file: FileInput, body: dict[str, Any]) -> None:
        base: PathKey = ("services", self.name)
        if "image" in body:
            self.image = body["image"] if isinstance(body["image"], str) else None
        self.build = self.build or body.get("build") is not None
        extends = body.get("extends")
        target = extends.get("service") if isinstance(extends, dict) else extends
        if isinstance(extends, dict) and extends.get("file"):
            self.extends_other_file = True
        elif isinstance(target, str):
            self.extends = (target, file, (*base, "extends"))
        if isinstance(body.get("profiles"), list):
            self.profiles = [str(p) for p in body["profiles"]]
        wanted = body.get("depends_on")
        for other in wanted if isinstance(wanted, (list, dict)) else ():
            if isinstance(other, str):
                self.depends.append((other, file, (*base, "depends_on")))
        networks = body.get("networks")
        for network in networks if isinstance(networks, (list, dict)) else ():
            if isinstance(network, str):
                self.references.append(("networks", network, file, (*base, "networks")))
        for section in ("secrets", "configs"):
            entries = body.get(section)
            for i, entry in enumerate(entries if isinstance(entries, list) else ()):
                source = entry.get("source") if isinstance(entry, dict) else entry
                if isinstance(source, str):
                    self.references.append((section, source, file, (*base, section, i)))
        volumes = body.get("volumes")
        for i, entry in enumerate(volumes if isinstance(volumes, list) else ()):
            target = _volume_target(entry)
            self.mounts[target if target is not None else f"#{len(self.mounts)}"] = (
                _volume_source(entry),
                file,
                (*base, "volumes", i),
            )

    def all_references(self) -> list[tuple[str, str, FileInput, PathKey]]:
        volumes = [("volumes", source, file, path) for source, file, path in self.mounts.values() if source]
        return [*self.references, *volumes]


def _volume_target(entry: Any) -> str | None:
    """The container path of a service's volume entry, as written, or None when it has none."""
    if isinstance(entry, dict):
        target = entry.get("target")
        return target if isinstance(target, str) else None
    if not isinstance(entry, str):
        return None
    parts = entry.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _volume_source(entry: Any) -> str | None:
    """The named volume a service's volume entry uses, or None for a path, tmpfs or anonymous one."""
    if isinstance(entry, dict):
        source = entry.get("source")
        return source if entry.get("type") == "volume" and isinstance(source, str) and source else None
    if not isinstance(entry, str) or ":" not in entry:
        return None
    source = entry.split(":", 1)[0]
    if not source or source.startswith(("/", ".", "~", "\\", "$")):
        return None
    if len(source) == 1 and source.isalpha():
        return None  # a Windows drive letter: "c:/data" or "c:\\data" is a host path
    return source


def _problem(file: FileInput, path: PathKey, message: str) -> ComposeProblem:
    line = None
    for size in range(len(path), -1, -1):
        line = file.lines.get(path[:size])
        if line is not None:
            break
    return ComposeProblem(Origin(file.display, line), describe(path) if path else "", message)


def _non_string_keys(value: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                where = f"in {describe(path)}" if path else "at the top level"
                yield path, f"the key {key!r} {where} is not a string; Compose needs every key to be one (quote it)"
            else:
                yield from _non_string_keys(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _non_string_keys(item, (*path, i))


def _without_reset(value: Any, tags: Mapping[PathKey, str], path: PathKey) -> Any:
    """Compose drops a ``!reset`` value before it validates."""
    if isinstance(value, dict):
        return {
            key: _without_reset(item, tags, (*path, key))
            for key, item in value.items()
            if tags.get((*path, key)) != "!reset"
        }
    if isinstance(value, list):
        return [_without_reset(item, tags, (*path, i)) for i, item in enumerate(value)]
    return value


# --- step 3: casts at typed places (compose-go loader/interpolate.go) -------------------------

_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|inf|infinity|nan)", re.I)
_TRUE = {"true", "y", "yes", "on"}
_FALSE = {"false", "n", "no", "off"}


def _to_int(text: str) -> Any:
    if _INT.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not an integer")
    return int(text)


def _to_float(text: str) -> Any:
    if _FLOAT.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a number")
    return float(text)


def _to_bool(text: str) -> Any:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a boolean (true or false)")


_SERVICE_CASTS: dict[tuple[str, ...], Cast] = {
    ("configs", "[]", "mode"): _to_int,
    ("cpu_count",): _to_int,
    ("cpu_percent",): _to_float,
    ("cpu_period",): _to_int,
    ("cpu_quota",): _to_int,
    ("cpu_rt_period",): _to_int,
    ("cpu_rt_runtime",): _to_int,
    ("cpus",): _to_float,
    ("cpu_shares",): _to_int,
    ("init",): _to_bool,
    ("deploy", "replicas"): _to_int,
    ("deploy", "update_config", "parallelism"): _to_int,
    ("deploy", "update_config", "max_failure_ratio"): _to_float,
    ("deploy", "rollback_config", "parallelism"): _to_int,
    ("deploy", "rollback_config", "max_failure_ratio"): _to_float,
    ("deploy", "restart_policy", "max_attempts"): _to_int,
    ("deploy", "placement", "max_replicas_per_node"): _to_int,
    ("healthcheck", "retries"): _to_int,
    ("healthcheck", "disable"): _to_bool,
    ("oom_kill_disable",): _to_bool,
    ("oom_score_adj",): _to_int,
    ("pids_limit",): _to_int,
    ("ports", "[]", "target"): _to_int,
    ("privileged",): _to_bool,
    ("read_only",): _to_bool,
    ("scale",): _to_int,
    ("secrets", "[]", "mode"): _to_int,
    ("stdin_open",): _to_bool,
    ("tty",): _to_bool,
    ("ulimits", "*"): _to_int,
    ("ulimits", "*", "hard"): _to_int,
    ("ulimits", "*", "soft"): _to_int,
    ("volumes", "[]", "read_only"): _to_bool,
    ("volumes", "[]", "volume", "nocopy"): _to_bool,
}
_CASTS: dict[tuple[str, ...], Cast] = {
    **{("services", "*", *path): cast for path, cast in _SERVICE_CASTS.items()},
    **{(section, "*", "external"): _to_bool for section in ("networks", "volumes", "secrets", "configs")},
    **{("networks", "*", key): _to_bool for key in ("internal", "attachable", "enable_ipv6")},
}


# Indexed by (length, last part), so a large file costs one dictionary look-up per value.
_CASTS_BY_END: dict[tuple[int, str], list[tuple[tuple[str, ...], Cast]]] = {}
for _pattern, _cast_function in _CASTS.items():
    _CASTS_BY_END.setdefault((len(_pattern), _pattern[-1]), []).append((_pattern, _cast_function))


def _cast_for(path: PathKey) -> Cast | None:
    last = path[-1] if path else ""
    candidates = _CASTS_BY_END.get((len(path), "[]" if isinstance(last, int) else str(last)), [])
    candidates = candidates + _CASTS_BY_END.get((len(path), "*"), []) if isinstance(last, str) else candidates
    for pattern, cast in candidates:
        if all(
            want == got or (want == "*" and isinstance(got, str)) or (want == "[]" and isinstance(got, int))
            for want, got in zip(pattern, path, strict=True)
        ):
            return cast
    return None


def _cast(value: Any, path: PathKey) -> tuple[Any, list[tuple[PathKey, str]]]:
    errors: list[tuple[PathKey, str]] = []

    def walk(item: Any, where: PathKey) -> Any:
        if isinstance(item, dict):
            return {key: walk(sub, (*where, key)) for key, sub in item.items()}
        if isinstance(item, list):
            return [walk(sub, (*where, i)) for i, sub in enumerate(item)]
        if isinstance(item, str) and len(where) <= 6:
            cast = _cast_for(where)
            if cast is not None:
                try:
                    return cast(item)
                except ValueError as exc:
                    errors.append((where, f"{describe(where)}: {exc}"))
        return item

    return walk(value, path), errors


def _cycle(graph: Mapping[str, list[str]]) -> list[str] | None:
    """One dependency cycle as a path (``a -> b -> a``), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(graph.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(graph.get(child, ()))))
    return None
