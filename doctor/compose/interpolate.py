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

    @property
    def refusal(self) -> str:
        """Compose v2's own sentence for a required variable without a value."""
        default = f"required variable {self.name} is missing a value"
        return default if self.message == default else f"{default}: {self.message}"


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


MAX_NESTING = 100  # ${A:-${B:-...}} deeper than this is refused: real files nest two or three levels


class _Expander:
    """Expands one string. Braces are matched once up front, so a deeply nested value costs
    linear time, and the nesting depth is bounded instead of exhausting Python's stack."""

    def __init__(self, env: Mapping[str, str], issues: list[VariableIssue]) -> None:
        self.env = env
        self.issues = issues
        self.text = ""
        self.pairs: dict[int, int] = {}

    def expand(self, text: str) -> str:
        self.text = text
        self.pairs = _brace_pairs(text)
        return self._expand(0, len(text), 0)

    def _expand(self, start: int, end: int, depth: int) -> str:
        if depth > MAX_NESTING:
            raise InterpolationSyntaxError(
                f"variables are nested more than {MAX_NESTING} levels deep in {_short(self.text)}"
            )
        text = self.text
        out: list[str] = []
        i = start
        while i < end:
            char = text[i]
            if char != "$":
                out.append(char)
                i += 1
                continue
            nxt = text[i + 1 : i + 2] if i + 1 < end else ""
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt == "{":
                close = self.pairs.get(i)
                if close is None or close >= end:
                    raise InterpolationSyntaxError(f"unterminated '${{' in {_short(text[start:end])}")
                out.append(self._braced(i + 2, close, depth))
                i = close + 1
            else:
                match = _NAME.match(text, i + 1, end)
                if match is None:
                    out.append("$")
                    i += 1
                    continue
                out.append(self._lookup(match.group()))
                i = match.end()
        return "".join(out)

    def _lookup(self, name: str) -> str:
        if name in self.env:
            return self.env[name]
        self.issues.append(VariableIssue(name, False, f"{name} is not set; Compose uses a blank string"))
        return ""

    def _braced(self, start: int, end: int, depth: int) -> str:
        text = self.text
        match = _NAME.match(text, start, end)
        if match is None:
            raise InterpolationSyntaxError(f"invalid interpolation format in {_short(text)}")
        name, rest_at = match.group(), match.end()
        if rest_at == end:
            return self._lookup(name)
        operator = next((op for op in _OPERATORS if text.startswith(op, rest_at, end)), None)
        if operator is None:
            raise InterpolationSyntaxError(f"invalid interpolation format in {_short(text)}")
        # The argument is expanded whatever the variable holds, as compose-go does: in
        # ${W:-${V:?msg}} an unset V stops Compose even when W is set, and an unset variable
        # in an unused default is still warned about.
        argument = self._expand(rest_at + len(operator), end, depth + 1)
        value = self.env.get(name)
        present = value is not None and (value != "" or not operator.startswith(":"))
        if operator.endswith("-"):
            return value if present and value is not None else argument
        if operator.endswith("+"):
            return argument if present else ""
        if present and value is not None:
            return value
        message = argument or f"required variable {name} is missing a value"
        self.issues.append(VariableIssue(name, True, message))
        return ""


def _brace_pairs(text: str) -> dict[int, int]:
    """Index of each ``${`` to the index of its closing ``}``, matched with one stack."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    i = text.find("$")
    if i < 0:
        return pairs
    while i < len(text):
        if text.startswith("${", i):
            stack.append(i)
            i += 2
            continue
        if text[i] == "}" and stack:
            pairs[stack.pop()] = i
        i += 1
    return pairs


def _short(text: str) -> str:
    """The value for a message: whole when short, else its start (a value can be megabytes)."""
    return repr(text) if len(text) <= 120 else repr(text[:100]) + f" (... {len(text):,} characters)"
