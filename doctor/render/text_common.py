"""What the terminal and Markdown reports share: glyphs and the summary sentence."""

from __future__ import annotations

from doctor.models import Status

GLYPHS = {
    Status.OK: "✓",
    Status.INFO: "•",
    Status.WARN: "!",
    Status.FAIL: "✗",
    Status.SKIP: "–",
    Status.ERROR: "☠",
}
ASCII_GLYPHS = {
    Status.OK: "+",
    Status.INFO: "*",
    Status.WARN: "!",
    Status.FAIL: "x",
    Status.SKIP: "-",
    Status.ERROR: "E",
}

_WORDS = (
    ("fail", "failed"),
    ("error", "error(s)"),  # an unreadable input as much as a crashed check
    ("warn", "warning(s)"),
    ("info", "info"),
    ("ok", "passed"),
    ("skip", "skipped"),
)


def summary_line(counts: dict[str, int]) -> str:
    parts = [f"{counts[key]} {word}" for key, word in _WORDS if counts.get(key)]
    return ", ".join(parts) if parts else "nothing to report"
