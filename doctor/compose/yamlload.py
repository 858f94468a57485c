"""YAML to plain Python values, keeping the line of every value and refusing hostile input.

PyYAML's own constructor loses positions and expands aliases without limit (a "billion laughs"
document exhausts memory). Walking the composed node graph ourselves keeps a ``path -> line``
map and counts every value produced, so alias expansion is bounded.

The values are read the way Docker Compose v2 reads them (Go's yaml.v3, YAML 1.2), not the way
PyYAML does (YAML 1.1): ``yes``/``on`` and ``1:30`` stay strings, a date stays a string (so an
impossible date such as ``2001-02-30`` is just text), a key written twice in one mapping is an
error naming both lines, and a tab may separate a value from its comment.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from doctor import safeio

MAX_BYTES = 4 * 1024 * 1024
MAX_VALUES = 200_000
MAX_DEPTH = 100

PathKey = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STD_PREFIX = "tag:yaml.org,2002:"
# Every plain (unquoted, untagged) scalar gets this tag; _plain() then types it as yaml.v3 does.
_PLAIN_TAG = "tag:cultivate.invalid,2026:plain"

# yaml.v3's resolve table (YAML 1.2 core schema, plus the Go-style integers it accepts).
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_GO_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_TIMESTAMP = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[Tt ].*)?")
# A tab may not indent a block line nor follow a block sequence's "-" (yaml.v3 refuses both).
_INDENT_ONLY = re.compile(r"[ \t]*(?:-[ \t]*)*")


@dataclass(frozen=True)
class YamlProblem(Exception):
    """Why a file could not be read as YAML; line and column are 1-based when known."""

    message: str
    line: int | None = None
    column: int | None = None


@dataclass
class LoadedYaml:
    data: Any
    lines: dict[PathKey, int]
    tags: dict[PathKey, str]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with yaml.v3's whitespace rule for tabs and no YAML 1.1 typing."""

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012

    def scan_to_next_token(self) -> None:
        if self.index == 0 and self.peek() == "\ufeff":
            self.forward()
        while True:
            while self.peek() == " " or (self.peek() == "\t" and self._tab_separates()):
                self.forward()
            if self.peek() == "#":
                while self.peek() not in "\0\r\n\x85\u2028\u2029":
                    self.forward()
            if self.scan_line_break():  # type: ignore[no-untyped-call]
                if not self.flow_level:
                    self.allow_simple_key = True
            else:
                return

    def _tab_separates(self) -> bool:
        if self.flow_level:
            return True
        before = self.buffer[self.pointer - self.column : self.pointer]
        return _INDENT_ONLY.fullmatch(before) is None


_Loader.add_implicit_resolver(_PLAIN_TAG, re.compile(r"(?s).*"), None)
_Loader.add_implicit_resolver(_PLAIN_TAG, re.compile(r""), [""])


def read_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """Read a small UTF-8 text file, or raise YamlProblem saying plainly why not."""
    try:
        raw = safeio.read_bytes(path, max_bytes)  # regular files only, bounded, never blocks
    except safeio.UnsafeInput as exc:
        raise YamlProblem(f"cannot read the file: {exc.reason.removeprefix('cannot be read: ')}") from None
    if b"\x00" in raw[:8192]:
        raise YamlProblem("the file is binary, not YAML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlProblem(f"the file is not UTF-8 text (byte {exc.start})") from None


def load_yaml(text: str) -> LoadedYaml:
    """The file's value; several documents (``---``) are merged in order, as Compose merges them."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise YamlProblem(f"YAML syntax error: {reason}") from None
        raise YamlProblem(f"YAML syntax error: {reason}", mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML error: {exc}") from None
    except RecursionError:
        raise YamlProblem("the YAML is nested too deeply") from None
    walker = _Walker()
    if not nodes:
        return LoadedYaml(None, walker.lines, walker.tags)
    if len(nodes) == 1:
        data = walker.value(nodes[0], (), 0)
        return LoadedYaml(data, walker.lines, walker.tags)
    merged: dict[Any, Any] = {}
    for node in nodes:
        value = walker.value(node, (), 0)
        if not isinstance(value, dict):
            raise YamlProblem("every YAML document of a Compose file must be a mapping", node.start_mark.line + 1)
        merged = _merge_documents(merged, value)
    return LoadedYaml(merged, walker.lines, walker.tags)


def _merge_documents(base: dict[Any, Any], extra: dict[Any, Any]) -> dict[Any, Any]:
    """A later document's mappings merge into the earlier one's; other values replace."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge_documents(result[key], value)
        else:
            result[key] = value
    return result


class _Walker:
    def __init__(self) -> None:
        self.lines: dict[PathKey, int] = {}
        self.tags: dict[PathKey, str] = {}
        self.count = 0

    def value(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise YamlProblem(
                f"the document expands to more than {MAX_VALUES:,} values "
                "(aliases referring to aliases, as in a 'billion laughs' document)"
            )
        if depth > MAX_DEPTH:
            raise YamlProblem(f"the YAML is nested deeper than {MAX_DEPTH} levels")
        self.lines[path] = node.start_mark.line + 1
        if not node.tag.startswith(_STD_PREFIX) and node.tag != _PLAIN_TAG:
            # Compose's own tags (!reset, !override) change how files merge.
            self.tags[path] = node.tag
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        seen: dict[tuple[type, Any], tuple[str, int]] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem("a mapping key must be a plain value, not a list or a mapping", line)
            key = _scalar(key_node)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = str(key)
            identity = (type(key), key)
            if identity in seen:
                # Compose (yaml.v3) refuses what PyYAML would silently resolve to the last value.
                raise YamlProblem(
                    f'mapping key "{seen[identity][0]}" already defined at line {seen[identity][1]}', line
                )
            seen[identity] = (key_node.value, line)
            if key_node.tag == _MERGE_TAG or (key_node.tag == _PLAIN_TAG and key_node.value == "<<"):
                for source in self._merge_sources(value_node, path, depth):
                    for merged_key, value in source.items():
                        merged.setdefault(merged_key, value)
                continue
            result[key] = self.value(value_node, (*path, key), depth + 1)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_sources(self, node: yaml.Node, path: PathKey, depth: int) -> list[dict[Any, Any]]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = []
        for item in nodes:
            value = self.value(item, (*path, "<<"), depth + 1)
            if not isinstance(value, dict):
                raise YamlProblem("a '<<' merge key needs a mapping or a list of mappings", item.start_mark.line + 1)
            sources.append(value)
        return sources


def _scalar(node: yaml.Node) -> Any:
    text = str(node.value)
    line = node.start_mark.line + 1
    tag = node.tag
    if tag == _PLAIN_TAG:
        return _plain(text)
    if not tag.startswith(_STD_PREFIX):
        return text  # a quoted scalar, or one with Compose's own tag
    kind = tag[len(_STD_PREFIX) :]
    typed = _plain(text)
    if kind == "int" and isinstance(typed, int) and not isinstance(typed, bool):
        return typed
    if kind == "float" and isinstance(typed, (int, float)) and not isinstance(typed, bool):
        return float(typed)
    if kind == "bool" and isinstance(typed, bool):
        return typed
    if kind == "null" and typed is None:
        return None
    if kind == "timestamp" and _is_timestamp(text):
        return text
    if kind in ("int", "float", "bool", "null", "timestamp"):
        raise YamlProblem(f"this value cannot be read as !!{kind}", line)  # never quote it: it may be a secret
    return text  # !!str, !!binary and any other tag on a scalar keep the text


def _plain(text: str) -> Any:
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    digits = text.replace("_", "")
    if _GO_INT.fullmatch(digits):
        number = _go_int(digits)
        if number is not None:
            return number
    if _YAML_FLOAT.fullmatch(digits):
        return float(digits)
    return text


def _go_int(digits: str) -> int | None:
    sign = -1 if digits.startswith("-") else 1
    body = digits.lstrip("+-")
    lowered = body.lower()
    if lowered.startswith("0x"):
        value = int(body[2:], 16)
    elif lowered.startswith("0o"):
        value = int(body[2:], 8)
    elif lowered.startswith("0b"):
        value = int(body[2:], 2)
    elif len(body) > 1 and body.startswith("0"):
        value = int(body[1:], 8)  # 0755: YAML 1.1 octal, which yaml.v3 still reads
    else:
        value = int(body)
    if not -(2**63) <= sign * value < 2**64:
        return None  # beyond Go's 64-bit integers: yaml.v3 then tries a float, else keeps the text
    return sign * value


def _is_timestamp(text: str) -> bool:
    if _TIMESTAMP.fullmatch(text) is None:
        return False
    try:
        datetime.strptime(re.split(r"[Tt ]", text, maxsplit=1)[0], "%Y-%m-%d")
    except ValueError:
        return False
    return True
