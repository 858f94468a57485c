"""Secrets never reach a report or a bundle; names and paths are never masked.

Three layers:
- by structure (``doctor.redact_compose``): in every copy of the user's configuration a value is
  masked because of where it stands (every environment value, build arg, label, …), unless it
  is known to be harmless;
- by pattern (``doctor.redact_patterns``): in free text, a secret recognised by its context
  (``PASSWORD '…'``, ``user:pass@``, ``password=``, ``DB_PW=``, ``Authorization:``, JWTs, …);
- by value: the exact values of secrets seen in the configuration, wherever they turn up out of
  context (a password echoed in a log line). A value that is also a name, part of a path or an
  ordinary word is *not* masked this way, because masking it would rewrite names and paths
  (``/var/run/[redacted]``) and give the password away by elimination. It is masked at its own
  positions only, and the ``secret-values`` check reports it as a weak secret.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from doctor.models import Evidence, Finding, Remedy, map_text
from doctor.redact_patterns import (
    ASSIGNMENT_NAME,
    ASSIGNMENT_VALUE,
    FLAG_NAME,
    PATTERNS,
    PEM_PRIVATE_KEY,
    is_path_at_secret,
    is_secret_name,
)

__all__ = ["MASK", "Redaction", "Redactor", "is_secret_name"]

MASK = "[redacted]"
MAX_LOCATIONS = 50
# Ordinary words of a deployment and of the doctor's own report: a secret equal to one of them is
# weak, and masking it everywhere would rewrite the report ("postgres" is also the image).
COMMON_WORDS = frozenset(
    (
        "postgres",
        "postgresql",
        "password",
        "passwd",
        "secret",
        "changeme",
        "example",
        "localhost",
        "admin",
        "administrator",
        "root",
        "test",
        "testing",
        "default",
        "database",
        "data",
        "socket",
        "volume",
        "backend",
        "frontend",
        "server",
        "client",
        "docker",
        "compose",
        "finch",
        "podman",
        "colima",
        "app",
        "application",
        "user",
        "users",
        "guest",
        "public",
        "private",
        "master",
        "main",
        "prod",
        "production",
        "staging",
        "development",
        "dev",
        "local",
        "letmein",
        "welcome",
        "qwerty",
        "sunshine",
        "monkey",
        "dragon",
        "football",
        "iloveyou",
        "trustno1",
        "abc123",
        "123456",
        "12345678",
        "password1",
        "passw0rd",
        "superuser",
        "pgsql",
        "psql",
        "mysql",
        "redis",
        "web",
        "api",
        "service",
        "services",
        "run",
        "var",
        "lib",
        "tmp",
        "home",
        "true",
        "false",
        "none",
        "null",
    )
)
_MIN_VALUE_LENGTH = 4
_MASKED = re.compile(r"\[redacted\]|\[secret-\d+\]")
_REFERENCE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*")
_ONE_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Redaction:
    """What was masked by which rule and where; never the value itself."""

    where: str
    kind: str
    token: str
    count: int = 0
    locations: list[str] = field(default_factory=list)

    def record(self, location: str, occurrences: int = 1) -> None:
        self.count += occurrences
        if location and len(self.locations) < MAX_LOCATIONS and location not in self.locations:
            self.locations.append(location)


class Redactor:
    """Masks secrets. With ``tokens=True`` each distinct secret gets its own placeholder
    (``[secret-1]``, ``[secret-2]``, …) used everywhere it appears, so triage can tell that two
    places hold the same value, and every replacement is recorded in ``redactions``.

    ``protected`` are the names and paths of the project (project, services, volumes, networks,
    secrets, files, mount sources and targets, images): a secret found in one of them is weak.
    ``env`` resolves ``${VAR}`` references, so a reference gets the token of its value."""

    def __init__(
        self,
        values: Iterable[str] = (),
        *,
        tokens: bool = False,
        protected: Mapping[str, str] | Iterable[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.tokens = tokens
        self.env: Mapping[str, str] = env or {}
        kinds = protected if isinstance(protected, Mapping) else dict.fromkeys(protected, "name")
        self.protected = tuple(sorted(((n, k) for n, k in kinds.items() if n), key=lambda item: len(item[0])))
        self._values: set[str] = set()
        self.weak: dict[str, str] = {}  # secret value -> why it is weak (never written anywhere)
        self._token_of: dict[str, str] = {}
        self.redactions: dict[tuple[str, str, str], Redaction] = {}
        self.add(values)

    # --- the known values -------------------------------------------------------------------

    def weakness(self, value: str) -> str | None:
        """Why masking this secret everywhere would mask something else, or None."""
        value = value.strip()
        if not value or _MASKED.fullmatch(value):
            return None
        lowered = value.lower()
        if lowered in COMMON_WORDS:
            return "an ordinary word"
        # Never which name: "the project name plexhub" would give the password away in a report
        # that travels with a ticket. The kind is left out too (there is one project name).
        for name, _kind in self.protected:
            if value == name:
                return "one of this project's names or paths"
            if value in name:
                return "part of one of this project's names or paths"
        if len(value) < _MIN_VALUE_LENGTH:
            return "shorter than 4 characters"
        if value.isalpha() and value.islower() and len(value) < 12:
            return "a single lowercase word"
        return None

    def add(self, values: Iterable[str]) -> None:
        for raw in values:
            value = raw.strip()
            if not value or _MASKED.fullmatch(value) or value.startswith("${"):
                continue
            reason = self.weakness(value)
            if reason is None:
                self._values.add(value)
            else:
                self.weak[value] = reason

    def learn(self, other: Redactor) -> None:
        """Take the known and weak values another redactor collected (a first pass)."""
        self._values |= other._values
        self.weak.update(other.weak)

    def add_named(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.add(value for name, value in pairs if is_secret_name(name) and not is_path_at_secret(value.strip()))

    # --- tokens and records -----------------------------------------------------------------

    def token(self, value: str, kind: str, where: str, location: str = "", occurrences: int = 1) -> str:
        if not self.tokens:
            return MASK
        token = self._token_of.setdefault(value, f"[secret-{len(self._token_of) + 1}]")
        record = self.redactions.setdefault((where, kind, token), Redaction(where, kind, token))
        record.record(location, occurrences)
        return token

    def resolve(self, raw: str) -> str:
        """``raw`` with ``${VAR}`` references resolved from the interpolation variables; the
        value a reference stands for is what gets the token."""
        if "$" not in raw:
            return raw
        from doctor.compose.interpolate import InterpolationSyntaxError, interpolate

        try:
            return interpolate(raw, self.env)[0]
        except (InterpolationSyntaxError, RecursionError):
            return raw

    def mask(self, raw: str, kind: str, where: str, location: str = "") -> str:
        """The token for ``raw``, a secret standing at a secret position. A reference to a
        variable that is not set names a variable, not a secret, and stays."""
        stripped = raw.strip()
        if not stripped or _MASKED.fullmatch(stripped):
            return raw
        value = stripped
        if _REFERENCE.search(stripped):
            value = self.resolve(stripped)
            if not value.strip():
                return raw
            if _MASKED.fullmatch(value.strip()):
                # `${DB_PASSWORD:-[secret-1]}`: its default was masked by the known-value pass, and
                # a second token for the token would give one secret two names in one bundle.
                return raw
            if not self.tokens and _ONE_REFERENCE.fullmatch(stripped):
                return raw  # a report may show which variable holds it
        return self.token(value.strip(), kind, where, location)

    # --- free text --------------------------------------------------------------------------

    def text(self, text: str, where: str = "") -> str:
        if not text:
            return text
        # Known values first, so a known secret gets the same token wherever it stands.
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = self._replace_all(text, value, where)
        for kind, pattern in PATTERNS:
            text = self.sub(pattern, text, kind, where)
        text = self._assignments(text, where, ASSIGNMENT_NAME)
        text = self._assignments(text, where, FLAG_NAME)
        return self.sub(PEM_PRIVATE_KEY, text, "PEM private key", where)

    def _replace_all(self, text: str, value: str, where: str) -> str:
        parts = text.split(value)
        lines, line = [], 1
        for part in parts[:-1]:
            line += part.count("\n")
            lines.append(line)
            line += value.count("\n")
        token = self.token(value, "known secret value", where, "lines " + _lines(lines), len(parts) - 1)
        return token.join(parts)

    def sub(self, pattern: re.Pattern[str], text: str, kind: str, where: str, location: str = "") -> str:
        """Mask the group "secret" of every match of ``pattern``; location is the line, unless given."""
        out: list[str] = []
        done, line = 0, 1
        for match in pattern.finditer(text):
            start, end = match.span("secret")
            secret = match.group("secret")
            if start < done or _MASKED.fullmatch(secret.strip("'\"")) or not secret.strip():
                continue
            line += text.count("\n", done, start)
            out.append(text[done:start])
            out.append(self._quoted_mask(secret, kind, where, location or f"line {line}"))
            line += secret.count("\n")
            done = end
        if not out:
            return text
        out.append(text[done:])
        return "".join(out)

    def _quoted_mask(self, secret: str, kind: str, where: str, location: str) -> str:
        quote = secret[0] if secret[:1] in "\"'" and secret[-1:] == secret[0] and len(secret) > 1 else ""
        inner = secret[1:-1] if quote else secret
        if _MASKED.fullmatch(inner):
            return secret
        return quote + self.mask(inner, kind, where, location) + quote

    def _assignments(self, text: str, where: str, names: re.Pattern[str]) -> str:
        out: list[str] = []
        done, line = 0, 1
        for match in names.finditer(text):
            if match.start() < done:
                continue  # inside a value already masked
            name = match.group(0)[: match.start("sep") - match.start()].strip("\"'\\-")
            if not is_secret_name(name):
                continue
            value = ASSIGNMENT_VALUE.match(text, match.end())
            if value is None:
                continue
            secret = value.group("secret")
            bare = secret.strip("\\\"'")
            if (
                not bare
                or _MASKED.fullmatch(bare)
                or is_path_at_secret(bare)
                or (bare.startswith("${") and not self.tokens)
            ):
                continue
            if secret[:1] in "[{":
                continue  # a YAML or JSON collection (`secrets: [db_password]`): names, not a secret
            if bare.startswith("*") and f"&{bare[1:]}" in text:
                continue  # a YAML alias: its anchor's value is masked where it is written
            start, end = value.span("secret")
            line += text.count("\n", done, start)
            out.append(text[done:start])
            quote = ""
            for candidate in ('\\"', '"', "'"):
                if secret.startswith(candidate) and secret.endswith(candidate) and len(secret) > 2 * len(candidate):
                    quote = candidate
                    break
            inner = secret[len(quote) : len(secret) - len(quote)] if quote else secret
            out.append(quote + self.mask(inner, f"value of {name}", where, f"line {line}") + quote)
            done = end
        if not out:
            return text
        out.append(text[done:])
        return "".join(out)

    # --- data -------------------------------------------------------------------------------

    def tree(self, value: Any, where: str = "", path: str = "", *, by_key: bool = True) -> Any:
        """Redact a JSON-like structure value by value, so the JSON written afterwards stays
        valid; a string under a secret-named key is masked whole (unless it is a path).

        ``by_key=False`` is for the doctor's own documents (the report, run and engine records):
        their keys are the doctor's schema, not the user's names, so ``"key": "db_socket"`` is a
        volume's name, never a secret; their values still pass through the text patterns."""
        if isinstance(value, dict):
            return {key: self._tree_item(str(key), item, where, f"{path}.{key}" if path else str(key), by_key)
                    for key, item in value.items()}  # fmt: skip
        if isinstance(value, list):
            return [self.tree(item, where, f"{path}[{i}]", by_key=by_key) for i, item in enumerate(value)]
        if isinstance(value, str):
            return self.text(value, where)
        return value

    def _tree_item(self, key: str, item: Any, where: str, path: str, by_key: bool) -> Any:
        if by_key and isinstance(item, str) and item and is_secret_name(key) and not is_path_at_secret(item.strip()):
            return self.mask(item, f"value of {key}", where, path)
        return self.tree(item, where, path, by_key=by_key)

    def finding(self, finding: Finding) -> Finding:
        where = f"report ({finding.id})"  # redactions.json names the finding
        remedy = finding.remedy
        if remedy is not None:
            remedy = Remedy(
                printable(self.text(remedy.summary, where)),
                self.text(remedy.diff, where),  # a diff keeps its bytes (\r of CRLF files) so it applies
                tuple(printable(self.text(c, where)) for c in remedy.commands),
            )
        return dataclasses.replace(
            finding,
            title=printable(self.text(finding.title, where)),
            detail=printable(self.text(finding.detail, where)),
            evidence=tuple(
                Evidence(printable(self.text(e.source, where)), printable(self.text(e.text, where)))
                for e in finding.evidence
            ),
            remedy=remedy,
            facts=map_text(finding.facts, lambda text: printable(self.text(text, where))),
        )

    def records(self) -> list[dict[str, Any]]:
        """For redactions.json: file, rule, token, count, and the lines or keys where."""
        return [
            {"file": r.where, "kind": r.kind, "token": r.token, "count": r.count, "locations": r.locations}
            for r in self.redactions.values()
        ]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    """Control characters (a NUL from a file name, an escape sequence from a log) as ``\\xNN``:
    a report must not carry bytes that end a C string or drive the reader's terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _lines(lines: list[int]) -> str:
    return ",".join(str(n) for n in sorted(set(lines))[:MAX_LOCATIONS])
