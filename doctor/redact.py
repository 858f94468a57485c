"""Secrets never reach a report. Two layers: patterns that recognise a secret by its context
(``user:pass@`` in URLs, ``password=`` in DSNs, ``*_PASSWORD=`` style assignments), and the
exact values of every secret-named variable the doctor has seen, for where they turn up out
of context (a password echoed in a log line)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from doctor.models import Evidence, Finding, Remedy

MASK = "[redacted]"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PASS$|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)
# Values that are also ordinary words of a report; masking them everywhere would mask the image
# name "postgres" and the word "password" themselves. In context they are still masked.
_TOO_COMMON = frozenset({"postgres", "password", "secret", "changeme", "example", "localhost"})
_MIN_VALUE_LENGTH = 4

_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)", re.IGNORECASE)
_DSN_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'\"&;]+)", re.IGNORECASE)
_ASSIGNMENT = re.compile(
    r"(\b[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL)[A-Za-z0-9_.-]*"
    r"[\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s\"',}]+)",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


@dataclass
class Redaction:
    """Where something was redacted and what kind of value it was; never the value itself."""

    where: str
    kind: str
    token: str
    count: int = 1


class Redactor:
    """Masks secrets. With ``tokens=True`` each distinct secret gets its own placeholder
    (``[secret-1]``, ``[secret-2]``, …) used everywhere it appears, so triage can tell that two
    places hold the same value, and every replacement is recorded in ``redactions``."""

    def __init__(self, values: Iterable[str] = (), *, tokens: bool = False) -> None:
        self._values: set[str] = set()
        self.tokens = tokens
        self._token_of: dict[str, str] = {}
        self.redactions: dict[tuple[str, str, str], Redaction] = {}
        self._where = ""
        self.add(values)

    def _mask(self, value: str, kind: str, occurrences: int = 1) -> str:
        if not self.tokens:
            return MASK
        token = self._token_of.setdefault(value, f"[secret-{len(self._token_of) + 1}]")
        key = (self._where, kind, token)
        if key in self.redactions:
            self.redactions[key].count += occurrences
        else:
            self.redactions[key] = Redaction(self._where, kind, token, occurrences)
        return token

    def add(self, values: Iterable[str]) -> None:
        for raw in values:
            value = raw.strip()
            if len(value) >= _MIN_VALUE_LENGTH and value.lower() not in _TOO_COMMON:
                self._values.add(value)

    def add_named(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.add(value for name, value in pairs if is_secret_name(name))

    def text(self, text: str, where: str = "") -> str:
        if not text:
            return text
        self._where = where
        # Exact known values first, so a known secret gets the same token wherever it stands.
        for value in sorted(self._values, key=len, reverse=True):
            occurrences = text.count(value)
            if occurrences:
                text = text.replace(value, self._mask(value, "known secret value", occurrences))
        text = _URL_PASSWORD.sub(
            lambda m: m.group(1) + self._masked(m.group(2), "password in a URL") + m.group(3), text
        )
        text = _DSN_PASSWORD.sub(lambda m: m.group(1) + self._masked(m.group(2), "password in a DSN"), text)
        return _ASSIGNMENT.sub(self._mask_assignment, text)

    def _masked(self, value: str, kind: str) -> str:
        if _is_mask(value):
            return value
        return self._mask(value.strip("'\""), kind)

    def _mask_assignment(self, match: re.Match[str]) -> str:
        value = match.group(2)
        if value.startswith("${") or _is_mask(value.strip("\"'")):
            return match.group(0)  # An interpolation reference names a variable, not a secret.
        quote = value[0] if value[:1] in "\"'" else ""
        name = re.split(r"[\"'\s=:]", match.group(1).strip(), maxsplit=1)[0]
        return match.group(1) + quote + self._mask(value.strip("\"'"), f"value of {name}") + quote

    def tree(self, value: Any, where: str = "") -> Any:
        """Redact a JSON-like structure value by value, so the JSON written afterwards stays valid;
        a string under a secret-named key is masked whole."""
        if isinstance(value, dict):
            return {key: self._tree_item(str(key), item, where) for key, item in value.items()}
        if isinstance(value, list):
            return [self.tree(item, where) for item in value]
        if isinstance(value, str):
            return self.text(value, where)
        return value

    def _tree_item(self, key: str, item: Any, where: str) -> Any:
        if isinstance(item, str) and item and is_secret_name(key) and not item.startswith("${") and not _is_mask(item):
            self._where = where
            return self._mask(item, f"value of {key}")
        return self.tree(item, where)

    def finding(self, finding: Finding) -> Finding:
        remedy = finding.remedy
        if remedy is not None:
            remedy = Remedy(
                self.text(remedy.summary, "report"),
                self.text(remedy.diff, "report"),
                tuple(self.text(c, "report") for c in remedy.commands),
            )
        return dataclasses.replace(
            finding,
            title=self.text(finding.title, "report"),
            detail=self.text(finding.detail, "report"),
            evidence=tuple(
                Evidence(self.text(e.source, "report"), self.text(e.text, "report")) for e in finding.evidence
            ),
            remedy=remedy,
        )


def _is_mask(value: str) -> bool:
    return value == MASK or bool(re.fullmatch(r"\[secret-\d+\]", value))
