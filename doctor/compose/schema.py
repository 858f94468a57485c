"""The Compose Specification's JSON Schema, as Docker Compose v2 validates each file against it.

``spec/compose-spec.json`` is the schema Docker Compose v2.40.3 embeds (compose-go), vendored
unchanged; see ``spec/NOTICE``. It uses a small part of JSON Schema (draft-07): ``type``,
``$ref`` to ``#/definitions``, ``properties``, ``patternProperties``, ``additionalProperties``,
``required``, ``items``, ``uniqueItems``, ``enum``, ``oneOf``, ``minimum``, ``maximum`` and
``pattern``. This module interprets exactly that part, so the doctor needs no JSON Schema
library (see the README, "Validity"). A keyword outside it fails the unit test that walks the
schema, so a newer schema cannot be vendored without teaching this module first.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from doctor.compose.yamlload import PathKey

Schema = dict[str, Any]

SUPPORTED = frozenset(
    {
        "type", "$ref", "properties", "patternProperties", "additionalProperties", "required", "items",
        "uniqueItems", "enum", "oneOf", "minimum", "maximum", "pattern",
        # annotations only
        "description", "deprecated", "default", "$schema", "$id", "title", "definitions",
    }
)  # fmt: skip

_KINDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "null": "null",
}

# Lists Compose de-duplicates before it validates (compose-go's EnforceUnicity), so a repeated
# entry there is accepted although the schema says uniqueItems.
_DEDUPLICATED = frozenset(
    {
        "annotations", "cap_add", "cap_drop", "configs", "devices", "dns", "dns_opt", "dns_search",
        "environment", "env_file", "expose", "labels", "links", "ports", "profiles", "secrets",
        "sysctls", "tmpfs", "volumes", "args", "tags", "platforms", "additional_contexts", "aliases",
    }
)  # fmt: skip


@dataclass(frozen=True)
class SchemaError:
    path: PathKey  # where the wrong value is; for an unknown key, the key itself
    message: str  # one sentence, naming the path


@functools.cache
def compose_schema() -> Schema:
    text = resources.files("doctor.compose").joinpath("spec/compose-spec.json").read_text(encoding="utf-8")
    schema: Schema = json.loads(text)
    return schema


def validate(value: Any, schema: Schema | None = None) -> list[SchemaError]:
    """Every place where ``value`` breaks the Compose schema (an empty list when it conforms)."""
    root = compose_schema() if schema is None else schema
    return _Validator(root).check(value, root, ())


def describe(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"


def either(options: Iterable[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    items = list(options)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _matches_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind == "integer":
        return isinstance(value, int) or (math.isfinite(value) and value == int(value))
    return kind == "number"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class _Validator:
    def __init__(self, root: Schema) -> None:
        self.root = root

    def resolve(self, schema: Schema) -> Schema:
        seen = 0
        while "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref!r}")
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
            if seen > 50:
                raise ValueError(f"$ref loop at {ref!r}")
        return schema

    def types(self, schema: Schema) -> set[str] | None:
        """The JSON types a schema can accept, or None when it does not say."""
        schema = self.resolve(schema)
        if "type" in schema:
            kinds = schema["type"]
            return {kinds} if isinstance(kinds, str) else set(kinds)
        if "oneOf" in schema:
            found: set[str] = set()
            for branch in schema["oneOf"]:
                kinds = self.types(branch)
                if kinds is None:
                    return None
                found |= kinds
            return found
        return None

    def check(self, value: Any, schema: Schema | bool, path: PathKey) -> list[SchemaError]:
        if schema is True or schema == {}:
            return []
        if schema is False:
            return [SchemaError(path, f"{describe(path)} is not allowed")]
        assert isinstance(schema, dict)
        schema = self.resolve(schema)
        if "type" in schema:
            kinds = schema["type"]
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            if not any(_matches_type(value, kind) for kind in kinds):
                wanted = either(_KINDS[kind] for kind in kinds)
                return [SchemaError(path, f"{describe(path)} must be {wanted}, not {kind_of(value)}")]
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(repr(item) for item in schema["enum"])
            return [SchemaError(path, f"{describe(path)} must be one of {allowed}, not {value!r}")]
        if "oneOf" in schema:
            failed = self.one_of(value, schema["oneOf"], path)
            if failed:
                return failed
        errors: list[SchemaError] = []
        if isinstance(value, dict):
            errors += self.mapping(value, schema, path)
        elif isinstance(value, list):
            errors += self.sequence(value, schema, path)
        elif isinstance(value, str) and "pattern" in schema and re.search(schema["pattern"], value) is None:
            errors.append(
                SchemaError(path, f"{describe(path)} {value!r} does not match the pattern {schema['pattern']}")
            )
        elif _matches_type(value, "number"):
            if "minimum" in schema and value < schema["minimum"]:
                errors.append(SchemaError(path, f"{describe(path)} must be at least {schema['minimum']}, not {value}"))
            if "maximum" in schema and value > schema["maximum"]:
                errors.append(SchemaError(path, f"{describe(path)} must be at most {schema['maximum']}, not {value}"))
        return errors

    def one_of(self, value: Any, branches: list[Schema], path: PathKey) -> list[SchemaError]:
        results = [self.check(value, branch, path) for branch in branches]
        passing = sum(1 for errors in results if not errors)
        if passing == 1:
            return []
        if passing > 1:
            return [SchemaError(path, f"{describe(path)} matches more than one of the forms Compose allows")]
        # None passes: explain through the one form whose type fits, as Compose does.
        fitting = [
            errors
            for branch, errors in zip(branches, results, strict=True)
            if (kinds := self.types(branch)) is None or any(_matches_type(value, kind) for kind in kinds)
        ]
        if len(fitting) == 1:
            return fitting[0]
        kinds_all: list[str] = []
        for branch in branches:
            for kind in sorted(self.types(branch) or ()):
                if _KINDS[kind] not in kinds_all:
                    kinds_all.append(_KINDS[kind])
        wanted = either(kinds_all) if kinds_all else "one of the forms Compose allows"
        return [SchemaError(path, f"{describe(path)} must be {wanted}, not {kind_of(value)}")]

    def mapping(self, value: dict[Any, Any], schema: Schema, path: PathKey) -> list[SchemaError]:
        errors: list[SchemaError] = []
        properties: dict[str, Any] = schema.get("properties", {})
        patterns: dict[str, Any] = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties", True)
        for name in schema.get("required", []):
            if name not in value:
                errors.append(SchemaError(path, f"{describe(path)} needs the key {name!r}"))
        for key, item in value.items():
            where = (*path, key)
            if not isinstance(key, str):
                continue  # reported by the caller: Compose refuses every key that is not a string
            matched = False
            if key in properties:
                matched = True
                errors += self.check(item, properties[key], where)
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    matched = True
                    errors += self.check(item, sub, where)
            if not matched:
                if additional is False:
                    owner = describe(path) if path else "the top level"
                    errors.append(SchemaError(where, f"{owner} does not allow the key {key!r}"))
                elif isinstance(additional, dict):
                    errors += self.check(item, additional, where)
        return errors

    def sequence(self, value: list[Any], schema: Schema, path: PathKey) -> list[SchemaError]:
        errors: list[SchemaError] = []
        if "items" in schema:
            for i, item in enumerate(value):
                errors += self.check(item, schema["items"], (*path, i))
        if schema.get("uniqueItems") and not _deduplicated(path):
            first: dict[str, int] = {}
            for i, item in enumerate(value):
                seen = first.setdefault(_canonical(item), i)
                if seen != i:
                    errors.append(
                        SchemaError((*path, i), f"{describe(path)} lists the same entry twice ([{seen}] and [{i}])")
                    )
                    break
        return errors


def _deduplicated(path: PathKey) -> bool:
    return len(path) >= 3 and path[0] == "services" and path[-1] in _DEDUPLICATED


def unsupported_keywords(schema: Any) -> set[str]:
    """Keywords in ``schema`` this module does not interpret (walked by the vendoring test)."""
    found: set[str] = set()

    def walk(node: Any, named: bool) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, False)
        elif isinstance(node, dict):
            for key, value in node.items():
                if named:  # a map of names to schemas: the keys are names, not keywords
                    walk(value, False)
                    continue
                if key not in SUPPORTED:
                    found.add(key)
                walk(value, key in ("properties", "patternProperties", "definitions"))

    walk(schema, False)
    return found
