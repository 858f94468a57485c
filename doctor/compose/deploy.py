"""The ``deploy:`` keys of each service, read from the Compose files as written (with lines), for
Swarm stacks: replicas, mode, placement constraints and preferences, restart_policy.

Compose itself ignores most of ``deploy:``; ``docker stack deploy`` honours it. The files are
already in memory (``ComposeProject.texts``), so they are parsed again here rather than widening
the shared Compose model. Later files override earlier ones: scalars replace, and placement
constraints are merged as a set, as the Compose specification merges sequences of unique values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from doctor.compose.interpolate import interpolate_tree
from doctor.compose.model import ComposeProject, Origin
from doctor.compose.yamlload import YamlProblem, load_yaml


@dataclass(frozen=True)
class Constraint:
    """One placement constraint: ``node.hostname == db1``, ``node.labels.db != true``."""

    key: str
    op: str  # "==" or "!="
    value: str
    written: str
    origin: Origin

    @property
    def pins(self) -> bool:
        """Does it pin to one specific value (``==``), the only kind that can keep two services together?"""
        return self.op == "=="


@dataclass
class Deploy:
    service: str
    origin: Origin | None = None  # the service's ``deploy:`` key, or None when absent
    mode: str = "replicated"
    replicas: int = 1
    replicas_origin: Origin | None = None
    constraints: list[Constraint] = field(default_factory=list)
    preferences: list[str] = field(default_factory=list)
    restart_condition: str | None = None  # none | on-failure | any (Swarm's default: any)
    # Where to insert a constraint: (file, line of the service key, indent of its keys, line of
    # deploy:, line of placement:, line of constraints:); None values mean "absent".
    service_line: int | None = None
    service_file: str | None = None
    key_indent: int = 4
    deploy_line: int | None = None
    placement_line: int | None = None
    constraints_line: int | None = None
    constraints_flow: bool = False

    @property
    def constraints_editable(self) -> bool:
        """A constraint can be added in place: the service is located, its constraints block style."""
        return self.service_file is not None and self.service_line is not None and not self.constraints_flow

    def has_constraint(self, constraint: str) -> bool:
        return any(c.written.replace(" ", "") == constraint.replace(" ", "") for c in self.constraints)


def parse_constraint(text: str, origin: Origin) -> Constraint | None:
    for op in ("==", "!="):
        if op in text:
            key, _, value = text.partition(op)
            return Constraint(key.strip(), op, value.strip(), text, origin)
    return None


def read_deploy(project: ComposeProject, environ: dict[str, str] | None = None) -> dict[str, Deploy]:
    """Each service's deploy settings, merged over the files in order. Files that cannot be read
    are skipped (compose-invalid reports them)."""
    env = project.interpolation if environ is None else {**project.dotenv, **environ}
    result = {name: Deploy(name) for name in project.services}
    for file, text in project.texts.items():
        try:
            loaded = load_yaml(text)
        except YamlProblem:
            continue
        data, _issues, _errors = interpolate_tree(loaded.data, env)
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict):
            continue
        for name, body in services.items():
            if str(name) not in result or not isinstance(body, dict):
                continue
            _merge_file(result[str(name)], file, text, loaded.lines, body)
    return result


def _merge_file(deploy: Deploy, file: str, text: str, value_lines: dict[Any, int], body: dict[str, Any]) -> None:
    # The loader records where each value starts; a mapping's value starts below its key, and
    # the edits need the key's own line.
    rows = text.splitlines()

    def key_line(path: tuple[Any, ...]) -> int | None:
        return _key_line(rows, value_lines.get(path), str(path[-1]))

    lines = {path: key_line(path) for path in value_lines if path and isinstance(path[-1], str)}
    lines.update({path: line for path, line in value_lines.items() if path and not isinstance(path[-1], str)})
    base = ("services", deploy.service)
    deploy.service_line = lines.get(base)
    deploy.service_file = file
    deploy.key_indent = _indent_of_keys(text, deploy.service_line, body, lines, base)
    spec = body.get("deploy")
    if not isinstance(spec, dict):
        return
    at = (*base, "deploy")
    deploy.origin = Origin(file, lines.get(at))
    deploy.deploy_line = lines.get(at)
    if isinstance(spec.get("mode"), str):
        deploy.mode = spec["mode"]
    if "replicas" in spec:
        try:
            deploy.replicas = int(spec["replicas"])
            deploy.replicas_origin = Origin(file, lines.get((*at, "replicas")))
        except (TypeError, ValueError, OverflowError):
            pass
    restart = spec.get("restart_policy")
    if isinstance(restart, dict) and isinstance(restart.get("condition"), str):
        deploy.restart_condition = restart["condition"]
    placement = spec.get("placement")
    if not isinstance(placement, dict):
        return
    deploy.placement_line = lines.get((*at, "placement"))
    constraints = placement.get("constraints")
    if isinstance(constraints, list):
        deploy.constraints_line = lines.get((*at, "placement", "constraints"))
        line_text = _line(text, deploy.constraints_line)
        deploy.constraints_flow = "[" in line_text
        known = {c.written for c in deploy.constraints}
        for i, item in enumerate(constraints):
            origin = Origin(file, lines.get((*at, "placement", "constraints", i)))
            parsed = parse_constraint(str(item), origin)
            if parsed is not None and parsed.written not in known:
                deploy.constraints.append(parsed)
    preferences = placement.get("preferences")
    if isinstance(preferences, list):
        for item in preferences:
            if isinstance(item, dict) and "spread" in item:
                deploy.preferences.append(f"spread={item['spread']}")


def _key_line(rows: list[str], value_line: int | None, key: str) -> int | None:
    """The line holding ``key:`` at or above the line where its value starts."""
    if value_line is None:
        return None
    for number in range(min(value_line, len(rows)), 0, -1):
        stripped = rows[number - 1].lstrip(" -")
        if stripped.startswith((f"{key}:", f'"{key}":', f"'{key}':")):
            return number
    return value_line


def _line(text: str, line: int | None) -> str:
    if line is None:
        return ""
    rows = text.splitlines()
    return rows[line - 1] if 0 < line <= len(rows) else ""


def _indent_of_keys(text: str, service_line: int | None, body: dict[str, Any], lines: dict[Any, int | None], base: tuple[Any, ...]) -> int:  # fmt: skip
    """The indentation of the service's own keys, taken from its first key's line."""
    for key in body:
        row = _line(text, lines.get((*base, key)))
        if row.strip():
            return len(row) - len(row.lstrip())
    row = _line(text, service_line)
    return len(row) - len(row.lstrip()) + 2
