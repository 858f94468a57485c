"""Redaction by structure: in every copy of the user's configuration (the Compose files in a
bundle, the effective model) a value is masked because of where it stands, not because it looks
like a secret. Every environment value, build arg and label value; a command, entrypoint or
healthcheck argument after a secret-like flag; any value under a secret-like key (``x-*``
extensions, ``driver_opts``); the ``content`` of ``secrets:`` and ``configs:``. A value stays
when it is known to be harmless: a path, a socket URL without a password, a boolean or a number,
an image reference, a service name. Keys are names and are never masked.

Compose files are masked in their own text: each value's span (from the YAML parser's marks) is
replaced by its token, so comments, order and line numbers survive and the copy is still YAML.
Free-text patterns then run over the whole copy (comments, invalid files)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from doctor.redact import Redactor
from doctor.redact_patterns import (
    DSN_PASSWORD,
    QUERY_PASSWORD,
    URL_PASSWORD,
    is_path,
    is_path_at_secret,
    is_secret_name,
)

_BOOLEAN = re.compile(r"(?i)true|false|yes|no|on|off|y|n")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:ms|s|m|h|d|b|k|kb|m|mb|g|gb)?", re.IGNORECASE)
_IMAGE = re.compile(
    r"(?:[a-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
_DB_URL = re.compile(r"(?i)(?:jdbc:)?postgres(?:ql)?://")
_KEYWORD_DSN = re.compile(r"(?i)(?:^|\s)(?:host|dbname|user|port)\s*=")
# Names whose value says who or where, never a secret (when the name itself is not secret-like).
_PLAIN_NAMES = re.compile(
    r"(?i)(?:.*_)?(?:HOST|PORT|USER|USERNAME|DB|DATABASE|NAME|DIR|PATH|FILE)|PG(?:HOST|PORT|USER|DATABASE|DATA)|TZ"
)
_SIMPLE = re.compile(r"[A-Za-z0-9_.@-]{1,63}")
_SECRET_FLAGS_SHORT = {"-a"}
# Keys whose values are names of secrets and configs (`secrets: [db_password]`), never secrets.
_NAME_KEYS = frozenset({"secrets", "configs"})
_PROPERTIES = re.compile(r"(?:[&!][^\s]*\s+)+")  # an anchor and/or a tag before a scalar  # redis-cli -a PASSWORD


def harmless(name: str, value: str, services: frozenset[str] = frozenset()) -> bool:
    """A value that can be shown whatever its name's position: it holds no secret."""
    value = value.strip()
    if not value or _BOOLEAN.fullmatch(value) or _NUMBER.fullmatch(value) or is_path(value):
        return True
    if value in services:
        return True  # a host name that is a service (PGHOST: db)
    if "image" in name.lower() and _IMAGE.fullmatch(value):
        return True
    if "/" in value and "://" not in value and _IMAGE.fullmatch(value):
        return True  # registry/repository:tag
    if _PLAIN_NAMES.fullmatch(name) and _SIMPLE.fullmatch(value):
        return True
    # A libpq URL without a password: its host= path is what the doctor is about.
    return bool(_DB_URL.match(value) and not URL_PASSWORD.search(value) and not QUERY_PASSWORD.search(value))


def mask_value(
    redactor: Redactor,
    name: str,
    raw: str,
    where: str,
    location: str,
    *,
    rule: str = "environment value",
    services: frozenset[str] = frozenset(),
    learn: bool = False,
) -> str:
    """``raw`` (as written, ``${VAR}`` and all) with what is secret in it masked, by position."""
    stripped = raw.strip()
    if not stripped:
        return raw
    resolved = redactor.resolve(stripped)
    secret = is_secret_name(name)
    if is_path_at_secret(resolved) or (not secret and harmless(name, resolved, services)):
        return raw
    if _DB_URL.match(resolved) or _KEYWORD_DSN.search(resolved) or URL_PASSWORD.search(resolved):
        # Only the password goes: the host, socket directory and database stay for triage.
        masked = raw
        for kind, pattern in (("password in a URL", URL_PASSWORD), ("password in a URL query", QUERY_PASSWORD),
                              ("password in a key=value DSN", DSN_PASSWORD)):  # fmt: skip
            masked = redactor.sub(pattern, masked, kind, where, location)
        if learn:
            for pattern in (URL_PASSWORD, QUERY_PASSWORD, DSN_PASSWORD):
                redactor.add(redactor.resolve(m.group("secret")).strip("'") for m in pattern.finditer(raw))
        if masked != raw or not secret:
            return masked
    if learn:
        redactor.add([resolved])  # so a report's diff context or evidence line masks it too
    return redactor.mask(stripped, f"value of {name}" if secret else f"{rule} {name}", where, location)


class _Walker:
    """Walks the composed YAML node graph of one file; aliases and merge keys lead to the nodes
    where the values are written, so a value defined in an ``x-*`` anchor is masked there."""

    def __init__(self, redactor: Redactor, text: str, where: str, services: frozenset[str], learn: bool) -> None:
        self.redactor = redactor
        self.text = text
        self.where = where
        self.services = services
        self.learn = learn
        self.edits: dict[int, tuple[int, str]] = {}  # start -> (end, replacement)
        self.seen: set[int] = set()

    def replace(self, node: yaml.ScalarNode, new_value: str) -> None:
        if new_value == node.value or node.start_mark.index in self.edits:
            return
        start, end = node.start_mark.index, node.end_mark.index
        # The span starts at an anchor or tag (`&pw Secret`): keep the anchor, for its aliases.
        prefix = _PROPERTIES.match(self.text, start, end)
        anchors = "".join(f"{p} " for p in prefix.group(0).split() if p.startswith("&")) if prefix else ""
        rendered = anchors + _render(node, new_value)
        # As many line breaks as the value had, so every later line keeps its number.
        self.edits[start] = (end, rendered + "\n" * (self.text.count("\n", start, end) - rendered.count("\n")))

    def value(self, node: yaml.Node, name: str, rule: str) -> None:
        if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
            location = f"line {node.start_mark.line + 1}"
            self.replace(node, mask_value(self.redactor, name, node.value, self.where, location, rule=rule,
                                          services=self.services, learn=self.learn))  # fmt: skip
        else:
            self.generic(node, secret=True, name=name)

    def pairs(self, node: yaml.Node, rule: str) -> None:
        """``environment:``, ``build.args``, ``labels``: a mapping, or a list of ``KEY=VALUE``."""
        if isinstance(node, yaml.MappingNode):
            for key, value in _items(node):
                self.value(value, key, rule)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.ScalarNode) and "=" in item.value:
                    key, _, raw = item.value.partition("=")
                    location = f"line {item.start_mark.line + 1}"
                    masked = mask_value(self.redactor, key, raw, self.where, location, rule=rule,
                                        services=self.services, learn=self.learn)  # fmt: skip
                    self.replace(item, f"{key}={masked}")

    def arguments(self, node: yaml.Node) -> None:
        """command, entrypoint, healthcheck test: the argument after a secret-like flag, the
        value of ``--flag=value`` and ``NAME=value``; a string command goes through patterns."""
        if isinstance(node, yaml.ScalarNode):
            self.replace(node, self.redactor.text(node.value, self.where))
            return
        if not isinstance(node, yaml.SequenceNode):
            return
        previous = ""
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode):
                continue
            text, location = item.value, f"line {item.start_mark.line + 1}"
            flag = previous.lstrip("-")
            if previous.startswith("-") and (is_secret_name(flag) or previous in _SECRET_FLAGS_SHORT):
                if not is_path_at_secret(text):
                    self.replace(item, self.redactor.mask(text, f"argument of {previous}", self.where, location))
            elif "=" in text and not text.startswith("="):
                key, _, raw = text.partition("=")
                if is_secret_name(key.lstrip("-")) and not is_path_at_secret(raw):
                    self.replace(item, f"{key}={self.redactor.mask(raw, f'value of {key}', self.where, location)}")
                else:
                    self.replace(item, self.redactor.text(text, self.where))
            else:
                self.replace(item, self.redactor.text(text, self.where))
            previous = text

    def generic(self, node: yaml.Node, *, secret: bool = False, name: str = "") -> None:
        """Anywhere else: a value under a secret-like key is masked; keys never are."""
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in _items(node):
                # Under a secret-like key (or an environment entry), everything below is a value too.
                self.generic(value, secret=secret or (is_secret_name(key) and key not in _NAME_KEYS), name=key)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.generic(item, secret=secret, name=name)
        elif secret and isinstance(node, yaml.ScalarNode):
            self.value(node, name, "value")

    def service(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in _items(node):
            if key == "environment":
                self.pairs(value, "environment value")
            elif key == "labels":
                self.pairs(value, "label")
            elif key in ("command", "entrypoint"):
                self.arguments(value)
            elif key == "healthcheck" and isinstance(value, yaml.MappingNode):
                for hkey, hvalue in _items(value):
                    self.arguments(hvalue) if hkey == "test" else self.generic(hvalue, name=hkey)
            elif key == "build" and isinstance(value, yaml.MappingNode):
                for bkey, bvalue in _items(value):
                    if bkey == "args":
                        self.pairs(bvalue, "build arg")
                    elif bkey == "labels":
                        self.pairs(bvalue, "label")
                    else:
                        self.generic(bvalue, name=bkey)
            elif key == "deploy" and isinstance(value, yaml.MappingNode):
                for dkey, dvalue in _items(value):
                    self.pairs(dvalue, "label") if dkey == "labels" else self.generic(dvalue, name=dkey)
            else:
                self.generic(value, secret=is_secret_name(key) and key not in _NAME_KEYS, name=key)

    def root(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in _items(node):
            if key == "services" and isinstance(value, yaml.MappingNode):
                for _, body in _items(value):
                    self.service(body)
            elif key in ("secrets", "configs") and isinstance(value, yaml.MappingNode):
                for _, body in _items(value):
                    for item_key, item in _items(body) if isinstance(body, yaml.MappingNode) else ():
                        if item_key == "content":
                            self.value(item, "content", f"{key} content")
                            if isinstance(item, yaml.ScalarNode) and self.learn:
                                self.redactor.add([item.value])
                        else:
                            self.generic(item, name=item_key)
            else:
                self.generic(value, name=str(key))


def _items(node: yaml.MappingNode) -> Iterator[tuple[str, yaml.Node]]:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            if key.tag == "tag:yaml.org,2002:merge":
                for source in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                    if isinstance(source, yaml.MappingNode):
                        yield from _items(source)
                continue
            yield str(key.value), value


def _render(node: yaml.ScalarNode, value: str) -> str:
    """The new value in the style of the old one, always valid YAML ("[secret-1]" unquoted
    would be a flow sequence)."""
    if node.style == "'":
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


def compose_text(redactor: Redactor, text: str, where: str, services: frozenset[str] = frozenset(),
                 *, learn: bool = False) -> str:  # fmt: skip
    """A Compose file's text with every value at a secret position masked, then the free-text
    patterns over the whole (comments; and all of a file that does not parse)."""
    node = _composed(text)
    walker = _Walker(redactor, text, where, services, learn)
    if node is not None:
        walker.root(node)
    out, done = [], 0
    for start in sorted(walker.edits):
        end, replacement = walker.edits[start]
        if start < done:
            continue
        out.append(text[done:start])
        out.append(replacement)
        done = end
    out.append(text[done:])
    return redactor.text("".join(out), where)


def model(redactor: Redactor, document: dict[str, Any], where: str) -> dict[str, Any]:
    """The effective model (``bundle.effective_model``): environment values and command
    arguments by position, then every other string through ``Redactor.tree``."""
    services = frozenset(document.get("services", {}))
    for name, service in document.get("services", {}).items():
        service["environment"] = {
            key: mask_value(redactor, key, value, where, f"services.{name}.environment.{key}", services=services)
            for key, value in service.get("environment", {}).items()
        }
        service["command"] = _arguments(redactor, service.get("command", []), where, f"services.{name}.command")
    return dict(redactor.tree(document, where))


def _arguments(redactor: Redactor, arguments: list[str], where: str, location: str) -> list[str]:
    result, previous = [], ""
    for argument in arguments:
        flag = previous.lstrip("-")
        if (
            previous.startswith("-")
            and (is_secret_name(flag) or previous in _SECRET_FLAGS_SHORT)
            and not is_path_at_secret(argument)
        ):
            result.append(redactor.mask(argument, f"argument of {previous}", where, location))
        else:
            result.append(argument)
        previous = argument
    return result


@functools.lru_cache(maxsize=16)
def _composed(text: str) -> yaml.Node | None:
    """The file's node graph, or None when it does not parse. Kept per text, and only read: the
    context's redactor, the names it protects and the bundle's copies walk the same files, and
    a parse is most of the cost of a 30-service file."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


def top_level_names(texts: Iterable[str]) -> list[str]:
    """Keys of the top-level ``networks``, ``secrets``, ``configs`` and ``volumes``: names."""
    names: list[str] = []
    for text in texts:
        node = _composed(text)
        if not isinstance(node, yaml.MappingNode):
            continue
        for key, value in _items(node):
            if key in ("networks", "secrets", "configs", "volumes", "services") and isinstance(value, yaml.MappingNode):
                names += [name for name, _ in _items(value)]
    return names
