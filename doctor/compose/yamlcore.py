"""Plain scalars resolved as Compose v2 resolves them (Go's yaml.v3, the YAML 1.2 core schema),
not as PyYAML does (YAML 1.1): ``yes``, ``no``, ``on``, ``off`` and ``y`` stay strings, ``0o17``
and ``017`` are octal 15, ``1e3`` is a float, ``1:30`` is a string, not sexagesimal 90. An
``environment:`` value reaches the container as Compose prints it, so this matters there."""

from __future__ import annotations

import re

import yaml

_TAG = "tag:yaml.org,2002:"


class CoreLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 core implicit types (timestamps and ``<<`` kept)."""


# Set outside the class body: PyYAML's add_implicit_resolver copies the parent's table unless
# the class already has its own, and this one starts empty.
CoreLoader.yaml_implicit_resolvers = {}


def _add(tag: str, pattern: str, first: list[str]) -> None:
    CoreLoader.add_implicit_resolver(_TAG + tag, re.compile(pattern), first)


_add("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF"))
_add(
    "int",
    r"^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|0|[1-9][0-9_]*)$",
    list("-+0123456789"),
)
_add(
    "float",
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    list("-+0123456789."),
)
_add("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
for _first, _resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
    for _tag, _regexp in _resolvers:
        if _tag in (_TAG + "timestamp", _TAG + "merge"):
            CoreLoader.yaml_implicit_resolvers.setdefault(_first, []).append((_tag, _regexp))
