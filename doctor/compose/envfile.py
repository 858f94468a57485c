"""``.env`` and ``env_file:`` parsing, following Compose's dotenv rules closely enough for
socket paths and credentials: ``export`` prefixes, quotes, inline comments, and ``${VAR}``
references to earlier lines and the process environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from doctor.compose.interpolate import InterpolationSyntaxError, interpolate
from doctor.compose.yamlload import YamlProblem, read_text

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(.*))?$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def parse_env_text(text: str, lookup: Mapping[str, str] | None = None) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None or match.group(2) is None:
            continue
        key, raw = match.group(1), match.group(2)
        context = {**values, **(lookup or {})}  # the shell (the lookup) wins, as in Compose v2
        if raw.startswith("'"):
            body = _quoted(raw, "'", lines)
            values[key] = body
        elif raw.startswith('"'):
            body = _quoted(raw, '"', lines)
            body = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)
            values[key] = _expand(body, context)
        else:
            values[key] = _expand(re.split(r"\s+#", raw, maxsplit=1)[0].strip(), context)
    return values


def read_env_file(path: Path, lookup: Mapping[str, str] | None = None) -> dict[str, str]:
    """Raises YamlProblem (the shared 'cannot read this file' error) when unreadable."""
    return parse_env_text(read_text(path, max_bytes=1_048_576), lookup)


def _quoted(raw: str, quote: str, rest: object) -> str:
    body = raw[1:]
    end = _unescaped(body, quote)
    collected = [body]
    # A quoted value may continue over several lines until its closing quote.
    while end < 0:
        try:
            more = next(rest)  # type: ignore[call-overload]
        except StopIteration:
            return "\n".join(collected)
        collected.append(more)
        joined = "\n".join(collected)
        end = _unescaped(joined, quote)
        if end >= 0:
            return joined[:end]
    return body[:end]


def _unescaped(text: str, quote: str) -> int:
    i = 0
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _expand(value: str, context: Mapping[str, str]) -> str:
    """The value with its variables; a required one without a value makes the whole file
    unreadable (YamlProblem), as Compose v2 refuses it ("failed to read .env: required variable
    V is missing a value: msg")."""
    try:
        expanded, issues = interpolate(value, context)
    except InterpolationSyntaxError:
        return value
    for issue in issues:
        if issue.required:
            raise YamlProblem(issue.refusal)
    return expanded


__all__ = ["YamlProblem", "parse_env_text", "read_env_file"]
