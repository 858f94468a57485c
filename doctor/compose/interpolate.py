"""Compose variable interpolation: ``${VAR}``, ``$VAR``, ``${VAR:-d}``, ``${VAR-d}``,
``${VAR:?msg}``, ``${VAR?msg}``, ``${VAR:+alt}``, ``${VAR+alt}`` and ``$$``, nested defaults
included, as in the Compose specification's interpolation section."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from doctor.compose.yamlload import PathKey

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


@dataclass(frozen=True)
class VariableIssue:
    name: str
    required: bool  # True: ${VAR?msg} unset, which stops Compose; False: unset, blank used
    message: str
    path: PathKey = ()


class InterpolationSyntaxError(ValueError):
    pass


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, list[VariableIssue]]:
    issues: list[VariableIssue] = []
    return _Expander(env, issues).expand(text), issues


def interpolate_tree(
    data: Any, env: Mapping[str, str], path: PathKey = ()
) -> tuple[Any, list[VariableIssue], list[tuple[PathKey, str]]]:
    """Interpolate every string value (not keys). Returns data, issues and syntax errors."""
    issues: list[VariableIssue] = []
    errors: list[tuple[PathKey, str]] = []

    def walk(value: Any, where: PathKey) -> Any:
        if isinstance(value, dict):
            return {key: walk(item, (*where, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*where, i)) for i, item in enumerate(value)]
        if isinstance(value, str) and "$" in value:
            try:
                result, found = interpolate(value, env)
            except InterpolationSyntaxError as exc:
                errors.append((where, str(exc)))
                return value
            issues.extend(VariableIssue(i.name, i.required, i.message, where) for i in found)
            return result
        return value

    return walk(data, path), issues, errors


class _Expander:
    def __init__(self, env: Mapping[str, str], issues: list[VariableIssue]) -> None:
        self.env = env
        self.issues = issues

    def expand(self, text: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char != "$":
                out.append(char)
                i += 1
                continue
            nxt = text[i + 1 : i + 2]
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                end = _closing_brace(text, i + 2)
                out.append(self._braced(text[i + 2 : end], text))
                i = end + 1
            else:
                match = _NAME.match(text, i + 1)
                if match is None:
                    out.append("$")
                    i += 1
                    continue
                out.append(self._lookup(match.group(), text))
                i = match.end()
        return "".join(out)

    def _lookup(self, name: str, text: str) -> str:
        if name in self.env:
            return self.env[name]
        self.issues.append(VariableIssue(name, False, f"{name} is not set; Compose uses a blank string"))
        return ""

    def _braced(self, body: str, text: str) -> str:
        match = _NAME.match(body)
        if match is None:
            raise InterpolationSyntaxError(f"invalid interpolation format in {text!r}")
        name, rest = match.group(), body[match.end() :]
        if not rest:
            return self._lookup(name, text)
        operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
        if operator is None:
            raise InterpolationSyntaxError(f"invalid interpolation format in {text!r}")
        argument = rest[len(operator) :]
        value = self.env.get(name)
        present = value is not None and (value != "" or not operator.startswith(":"))
        if operator.endswith("-"):
            return value if present and value is not None else self.expand(argument)
        if operator.endswith("+"):
            return self.expand(argument) if present else ""
        if present and value is not None:
            return value
        message = self.expand(argument) or f"required variable {name} is missing a value"
        self.issues.append(VariableIssue(name, True, message))
        return ""


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InterpolationSyntaxError(f"unterminated '${{' in {text!r}")
