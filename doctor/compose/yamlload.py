"""YAML to plain Python values, keeping the line of every value and refusing hostile input.

PyYAML's own constructor loses positions and expands aliases without limit (a "billion laughs"
document exhausts memory). Walking the composed node graph ourselves keeps a ``path -> line``
map and counts every value produced, so alias expansion is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from doctor.compose.yamlcore import CoreLoader

MAX_BYTES = 4 * 1024 * 1024
MAX_VALUES = 200_000
MAX_DEPTH = 100

PathKey = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STD_PREFIX = "tag:yaml.org,2002:"


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


def read_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """Read a small UTF-8 text file, or raise YamlProblem saying plainly why not."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise YamlProblem(
                f"the file is {size / 1_048_576:.1f} MiB; a Compose file over {max_bytes // 1_048_576} MiB is not read"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblem(f"cannot read the file: {exc.strerror or exc}") from None
    if b"\x00" in raw[:8192]:
        raise YamlProblem("the file is binary, not YAML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlProblem(f"the file is not UTF-8 text (byte {exc.start})") from None


def load_yaml(text: str) -> LoadedYaml:
    try:
        node = yaml.compose(text, Loader=CoreLoader)  # scalars as Compose v2 (yaml.v3) resolves them
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
    data = None if node is None else walker.value(node, (), 0)
    return LoadedYaml(data, walker.lines, walker.tags)


class _Walker:
    def __init__(self) -> None:
        self.lines: dict[PathKey, int] = {}
        self.tags: dict[PathKey, str] = {}
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def value(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise YamlProblem(
                f"the document expands to more than {MAX_VALUES:,} values "
                "(aliases referring to aliases, as in a 'billion laughs' document)"
            )
        if depth > MAX_DEPTH:
            raise YamlProblem(f"the YAML is nested deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if not node.tag.startswith(_STD_PREFIX):
            # Compose's own tags (!reset, !override) change how files merge.
            self.tags[path] = node.tag
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag.startswith(_STD_PREFIX):
            try:
                return self.constructor.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                raise YamlProblem(f"bad value: {exc}", node.start_mark.line + 1) from None
        return node.value

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for source in self._merge_sources(value_node, path, depth):
                    for key, value in source.items():
                        merged.setdefault(key, value)
                continue
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None and not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem("a mapping key must be a plain value", key_node.start_mark.line + 1)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = str(key)
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
                raise YamlProblem("a '<<' merge key needs a mapping", item.start_mark.line + 1)
            sources.append(value)
        return sources
