"""Secrets never reach a report. Two layers: patterns that recognise a secret by its context
(``user:pass@`` in URLs, ``password=`` in DSNs, ``*_PASSWORD=`` style assignments), and the
exact values of every secret-named variable the doctor has seen, for where they turn up out
of context (a password echoed in a log line)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

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


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        for raw in values:
            value = raw.strip()
            if len(value) >= _MIN_VALUE_LENGTH and value.lower() not in _TOO_COMMON:
                self._values.add(value)

    def add_named(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.add(value for name, value in pairs if is_secret_name(name))

    def text(self, text: str) -> str:
        if not text:
            return text
        text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
        text = _DSN_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
        text = _ASSIGNMENT.sub(_mask_assignment, text)
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def finding(self, finding: Finding) -> Finding:
        remedy = finding.remedy
        if remedy is not None:
            remedy = Remedy(
                self.text(remedy.summary),
                self.text(remedy.diff),
                tuple(self.text(c) for c in remedy.commands),
            )
        return dataclasses.replace(
            finding,
            title=self.text(finding.title),
            detail=self.text(finding.detail),
            evidence=tuple(Evidence(self.text(e.source), self.text(e.text)) for e in finding.evidence),
            remedy=remedy,
        )


def _mask_assignment(match: re.Match[str]) -> str:
    value = match.group(2)
    if value.startswith("${") or value == MASK:
        return match.group(0)  # An interpolation reference names a variable, not a secret.
    quote = value[0] if value[:1] in "\"'" else ""
    return match.group(1) + quote + MASK + quote
