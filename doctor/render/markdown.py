"""A self-contained Markdown report to paste into a ticket."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from doctor import __version__
from doctor.models import Finding, Status, Target, overall_status, summary_counts
from doctor.render.text_common import GLYPHS, summary_line
from doctor.rootcause import find_root_cause

if TYPE_CHECKING:
    from doctor.fixflow import FixSummary

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def md_escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _fence(text: str, language: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}\n"


def render_markdown(target: Target, findings: list[Finding], fix: FixSummary | None = None) -> str:
    out = [f"# cultivate doctor report: {overall_status(findings).value.upper()}\n\n"]
    if fix is not None:
        out.append(_fix(fix))
    cause = find_root_cause(findings)
    if cause is not None:
        out.append(f"**Root cause:** {md_escape(cause.statement)}\n\n")
        out.append(f"**Next step:** {md_escape(cause.next_step)}\n\n")
        out.append(f"Rests on: {', '.join(f'`{i}`' for i in cause.findings)}\n\n")
    out.append("| | |\n|---|---|\n")
    rows = [
        ("Target OS", f"{target.os} ({target.os_reason})"),
        ("Runtime", target.runtime or "unknown (no engine checks)"),
        ("Project", target.project or "none"),
        ("Compose tool", target.compose_tool or "unknown (no project or engine)"),
        ("Compose files", ", ".join(target.compose_files) or "none"),
        ("Project directory", target.project_directory or ""),
        ("Volumes", ", ".join(f"{k} → {n}" for k, n in target.volumes) or "none"),
        ("Doctor", f"cultivate doctor {__version__}"),
        ("Fingerprint", target.fingerprint or ""),
    ]
    out.extend(f"| {name} | {md_escape(value)} |\n" for name, value in rows)
    out.append(f"\n**Summary:** {summary_line(summary_counts(findings))}\n\n## Findings\n")
    for finding in findings:
        out.append(_finding(finding))
    return "".join(out)


def _fix(fix: FixSummary) -> str:
    parts = [f"## Fix: {md_escape(fix.message)}\n\n"]
    if fix.diff:
        parts.append(_fence(fix.diff, "diff") + "\n")
    parts.extend(f"- {md_escape(note)}\n" for note in (*fix.notes, *fix.by_hand))
    if fix.data_commands:
        parts.append(
            "\nMove the data, in this order (the doctor never moves data):\n\n"
            + _fence("\n".join(fix.data_commands), "sh")
        )
    return "".join(parts) + "\n"


def _finding(finding: Finding) -> str:
    glyph = GLYPHS[finding.status]
    parts = [f"\n### {glyph} {finding.status.value.upper()} `{finding.id}`: {md_escape(finding.title)}\n\n"]
    if finding.detail:
        parts.append(md_escape(finding.detail) + "\n\n")
    if finding.evidence:
        lines = "\n".join(f"{e.source}: {e.text}" for e in finding.evidence)
        parts.append("Evidence:\n\n" + _fence(lines, "text") + "\n")
    remedy = finding.remedy
    if remedy is not None and finding.status not in (Status.OK, Status.SKIP):
        parts.append(f"**Remedy:** {md_escape(remedy.summary)}\n\n")
        if remedy.diff:
            parts.append(_fence(remedy.diff, "diff") + "\n")
        if remedy.commands:
            parts.append("Verify:\n\n" + _fence("\n".join(remedy.commands), "sh") + "\n")
    parts.append(
        f"<sub>check `{finding.check}`, {finding.duration_ms} ms</sub>\n" if finding.duration_ms is not None else ""
    )
    return "".join(parts)
