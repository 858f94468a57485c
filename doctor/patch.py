"""One patch for every file change of a run, built from the real file text and redacted as a
whole, that applies with `patch -p1` without fuzz.

Redaction must not change a line that `patch` compares (a context or removed line): a masked
password in the context would make the hunk apply only with fuzz, or not at all. So the
context shrinks (3, 2, 1, 0 lines) until no compared line holds a secret. A removed line that
holds one cannot be helped; the patch then says so in ``unmatched``."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Patch:
    text: str
    context: int  # lines of context per hunk
    unmatched: int = 0  # compared lines the redaction changed: patch will not apply them as is


def _diff(old: Mapping[str, str], new: Mapping[str, str], context: int) -> list[str]:
    lines: list[str] = []
    for name in sorted(new):
        before, after = old.get(name, ""), new[name]
        if before == after:
            continue
        for line in difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}", n=context
        ):
            if line.endswith("\n"):
                lines.append(line)
            else:  # the file's last line has no newline: say so, as diff(1) does
                lines.extend((line + "\n", "\\ No newline at end of file\n"))
    return lines


def _compared(line: str) -> bool:
    return line[:1] in (" ", "-") and not line.startswith("--- ")


def combined_patch(old: Mapping[str, str], new: Mapping[str, str], redact: Callable[[str], str]) -> Patch:
    best: Patch | None = None
    for context in (3, 2, 1, 0):
        raw = _diff(old, new, context)
        redacted = redact("".join(raw)).splitlines(keepends=True)
        if len(redacted) != len(raw):  # a redaction spanning lines: compare nothing, keep the whole
            return Patch("".join(redacted), context, unmatched=sum(map(_compared, raw)))
        unmatched = sum(1 for a, b in zip(raw, redacted, strict=True) if _compared(a) and a != b)
        candidate = Patch("".join(redacted), context, unmatched)
        if best is None or unmatched < best.unmatched:
            best = candidate
        if unmatched == 0:
            return candidate
    assert best is not None
    return best
