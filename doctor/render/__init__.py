"""Renderers: each takes the same (target, findings) and returns or prints a report. Findings
never render themselves."""

from __future__ import annotations

FORMATS = ("text", "markdown", "json")
