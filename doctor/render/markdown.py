"""A self-contained Markdown report to paste into a ticket: plain CommonMark only (headings,
paragraphs, lists, pipe tables, fenced code), so GitHub, GitLab and Jira's Markdown render it
the same. No HTML. Problems first, worst first; the rest in one table."""

from __future__ import annotations

import re
from collections.abc import Sequence

from doctor import __version__
from doctor.models import SEVERITY_ORDER, Finding, Status, deployment_name, summary_counts
from doctor.render.text_common import summary_line
from doctor.render.verdict import verdict_of
from doctor.report import FixSummary, Report

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
# Each finding's page: docs/findings/ID.md in the doctor's repository, and `cultivate explain ID`
# on any machine with the doctor. A relative link would break once pasted into a ticket, and the
# doctor knows no address of its repository, so the report names both as text.
DOCS_DIR = "docs/findings"


def md_escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def md_prose(text: str) -> str:
    """Escape prose but keep its `code spans` as code: "run `finch vm start`" renders the
    command as code, not as literal backticks."""
    return "".join(part if _CODE_SPAN.fullmatch(part) else md_escape(part) for part in _CODE_SPAN.split(text))


def _cell(text: str) -> str:
    return md_prose(text).replace("\n", " ")


def _fence(text: str, language: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}\n"


def by_severity(findings: Sequence[Finding]) -> list[Finding]:
    """Worst first; the order of the checks within one status."""
    rank = {status: index for index, status in enumerate(SEVERITY_ORDER)}
    return sorted(findings, key=lambda f: rank[f.status])


def render_markdown(report: Report) -> str:
    target, findings, fix, command_line = report.target, report.findings, report.fix, report.command_line
    generated = report.generated_at.isoformat(timespec="seconds")
    status = report.status
    out = [f"# cultivate doctor report: {status.value.upper()}\n\n"]
    out.append(f"**Status:** {status.value.upper()} ({summary_line(summary_counts(findings))})\n\n")
    for label, value in verdict_of(report).lines:
        out.append(f"**{label}:** {md_prose(value)}\n\n")
    if fix is not None:
        out.append(_fix(fix))
    out.append("| | |\n|---|---|\n")
    rows = [
        ("Generated", generated),
        ("Doctor", f"cultivate doctor {__version__}"),
        ("Target OS", f"{target.os} ({target.os_reason})"),
        ("Runtime", target.runtime or "unknown (no engine checks)"),
        ("Stack" if target.stack else "Project", deployment_name(target).split(" ", 1)[1]),
        ("Compose tool", target.compose_tool or "unknown (no project or engine)"),
        ("Compose files", ", ".join(target.compose_files) or "none"),
        ("Project directory", target.project_directory or ""),
        ("Volumes", ", ".join(f"{k} → {n}" for k, n in target.volumes) or "none"),
        ("Fingerprint", target.fingerprint or ""),
    ]
    out.extend(f"| {name} | {_cell(value)} |\n" for name, value in rows)
    if command_line:
        # A fenced block, not a table cell: a pipe or backtick in the command stays as typed.
        out.append("\nCommand line (redacted):\n\n" + _fence(command_line, "sh"))
    ordered = by_severity(findings)
    problems = [f for f in ordered if f.status.is_problem]
    rest = [f for f in ordered if not f.status.is_problem]
    if problems:
        out.append("\n## Problems\n")
        out.extend(_finding(finding) for finding in problems)
    if rest:
        out.append("\n## Other checks\n\n| status | check | finding |\n|---|---|---|\n")
        out.extend(f"| {f.status.value.upper()} | `{f.check or f.id}` | {_cell(f.title)} (`{f.id}`) |\n" for f in rest)
    return "".join(out)


def _fix(fix: FixSummary) -> str:
    parts = [f"## Fix: {md_prose(fix.message)}\n\n"]
    if fix.diff:
        parts.append(_fence(fix.diff, "diff") + "\n")
    parts.extend(f"- {md_prose(note)}\n" for note in (*fix.notes, *fix.by_hand))
    if fix.data_commands:
        parts.append(
            "\nMove the data, in this order (the doctor never moves data):\n\n"
            + _fence("\n".join(fix.data_commands), "sh")
        )
    return "".join(parts) + "\n"


def _finding(finding: Finding) -> str:
    status = finding.status.value.upper()
    parts = [f"\n### {status} `{finding.id}`: {md_prose(finding.title)}\n\n"]
    if finding.detail:
        parts.append(md_prose(finding.detail) + "\n\n")
    if finding.evidence:
        lines = "\n".join(f"{e.source}: {e.text}" for e in finding.evidence)
        parts.append("Evidence:\n\n" + _fence(lines, "text") + "\n")
    remedy = finding.remedy
    if remedy is not None and finding.status not in (Status.OK, Status.SKIP):
        parts.append(f"**Remedy:** {md_prose(remedy.summary)}\n\n")
        if remedy.diff:
            parts.append(_fence(remedy.diff, "diff") + "\n")
        if remedy.steps:
            marked = [f"{s.command}  # {s.marks}" if s.marks else s.command for s in remedy.steps]
            parts.append("Steps, in order (these change the deployment):\n\n" + _fence("\n".join(marked), "sh") + "\n")
        if remedy.verify:
            parts.append("Verify (read-only):\n\n" + _fence("\n".join(remedy.verify), "sh") + "\n")
    timing = f", {finding.duration_ms} ms" if finding.duration_ms is not None else ""
    parts.append(
        f"Check `{finding.check}`{timing}. About this finding: `cultivate explain {finding.id}` "
        f"({DOCS_DIR}/{finding.id}.md).\n"
    )
    return "".join(parts)
