"""The terminal report, for triage: the verdict first and last, problems in full, passes and
skips as one line each. User text (paths, log lines, YAML) goes into rich ``Text`` objects,
never markup, so a log line such as '[ERROR]' prints as written.

Prose wraps to the terminal's width with a hanging indent; diffs and commands never wrap, so
they stay copyable. Off a terminal (a pipe, ``-o``) nothing wraps: one line per item, for grep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from rich.console import Console
from rich.text import Text

from doctor import __version__
from doctor.models import Finding, Status, Target, deployment_name, overall_status, summary_counts
from doctor.render.text_common import ASCII_GLYPHS, GLYPHS, summary_line
from doctor.render.verdict import Verdict, skip_reasons, verdict_of
from doctor.report import FixSummary, Report

STYLES = {
    Status.OK: "green",
    Status.INFO: "cyan",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.SKIP: "dim",
    Status.ERROR: "bold magenta",
}
INDENT = "    "


def make_console(stream: IO[str], color: str) -> Console:
    if color == "always":
        # An explicit --color always wins over NO_COLOR (rich would otherwise honour the variable).
        return Console(file=stream, force_terminal=True, no_color=False, highlight=False)
    if color == "never":
        return Console(file=stream, no_color=True, highlight=False, color_system=None)
    # auto: rich colours only a terminal and honours NO_COLOR itself.
    return Console(file=stream, highlight=False)


def _glyphs(stream: IO[str]) -> dict[Status, str]:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "".join(GLYPHS.values()).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII_GLYPHS
    return GLYPHS


class _Printer:
    """Prose with a hanging indent at the terminal's width; verbatim lines never wrap."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.wrap = console.is_terminal and not console.is_dumb_terminal

    def para(self, text: Text, first: str = "", rest: str | None = None) -> None:
        rest = first if rest is None else rest
        if not self.wrap:
            self.console.print(Text(first) + text, soft_wrap=True)
            return
        width = max(self.console.width - len(rest), 20)
        lines = (Text(first) + text).wrap(self.console, width, overflow="fold")
        for number, line in enumerate(lines):
            line.rstrip()
            self.console.print(Text(rest) + line if number else line, soft_wrap=True)

    def verbatim(self, text: Text) -> None:
        self.console.print(text, soft_wrap=True, overflow="ignore", crop=False)

    def blank(self) -> None:
        self.console.print()


def render_terminal(console: Console, report: Report, *, verbose: bool = False) -> None:
    findings, fix = report.findings, report.fix
    out = _Printer(console)
    glyphs = _glyphs(console.file)
    _header(out, report.target)
    out.blank()
    verdict = verdict_of(report)
    _verdict(out, verdict, findings)
    out.blank()
    if fix is not None:
        _fix(out, fix)
    shown = findings if verbose else [f for f in findings if f.status.is_problem or f.status is Status.INFO]
    for finding in shown:
        _finding(out, finding, glyphs, verbose)
    if not verbose:
        _collapsed(out, findings, glyphs)
    out.blank()
    # The same block last: in a short terminal the answer is what stays on the screen.
    _verdict(out, verdict, findings)


def _header(out: _Printer, target: Target) -> None:
    runtime = target.runtime or "unknown"
    kind, name = deployment_name(target).split(" ", 1)
    out.para(
        Text.assemble(
            ("cultivate doctor", "bold"),
            f" {__version__}: target ",
            (target.os, "bold"),
            f" ({target.os_reason}), runtime {runtime}, {kind} ",
            (name, "bold"),
            f", compose tool {target.compose_tool}" if target.compose_tool else "",
        ),
        rest=INDENT,
    )
    if target.compose_files:
        out.para(Text(f"files: {', '.join(target.compose_files)}", style="dim"), rest=INDENT)
    if target.volumes:
        listed = ", ".join(f"{k} → {n}" for k, n in target.volumes)
        out.para(Text(f"volumes: {listed}", style="dim"), rest=INDENT)
    if target.fingerprint:
        out.para(Text(f"fingerprint: {target.fingerprint}", style="dim"))


def _verdict(out: _Printer, verdict: Verdict, findings: Sequence[Finding]) -> None:
    status = overall_status(findings)
    out.para(
        Text.assemble(
            ("Status: ", "bold"), (status.value.upper(), STYLES[status]), f" ({summary_line(summary_counts(findings))})"
        ),
        rest=INDENT,
    )
    for label, value in verdict.lines:
        out.para(Text.assemble((f"{label}: ", "bold"), value), rest=INDENT)


def _fix(out: _Printer, fix: FixSummary) -> None:
    out.para(Text.assemble(("Fix: ", "bold"), fix.message), rest=INDENT)
    _diff(out, fix.diff, "  ")
    for note in (*fix.notes, *fix.by_hand):
        out.para(Text(f"• {note}"), first="  ", rest="    ")
    if fix.data_commands:
        out.para(Text("Move the data, in this order (the doctor never moves data):"), first="  ", rest="    ")
        for command in fix.data_commands:
            out.verbatim(Text(f"    $ {command}", style="cyan"))
    out.blank()


def _diff(out: _Printer, diff: str, indent: str) -> None:
    for line in diff.splitlines():
        colour = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        out.verbatim(Text(indent) + Text(line, style=colour))


def _finding(out: _Printer, finding: Finding, glyphs: dict[Status, str], verbose: bool) -> None:
    style = STYLES[finding.status]
    line = Text.assemble((glyphs[finding.status], style), " ", finding.title, (f" ({finding.id})", "dim"))
    if verbose and finding.duration_ms is not None:
        line.append(f" {finding.duration_ms} ms", style="dim")
    out.para(line, rest="  ")
    problem = finding.status.is_problem
    if finding.detail and (problem or verbose):
        out.para(Text(finding.detail), first=INDENT)
    if verbose:
        for item in finding.evidence:
            out.para(Text.assemble((item.source, "dim"), "  ", item.text), first=INDENT, rest=INDENT + "  ")
    remedy = finding.remedy
    if remedy is None or not problem:
        return
    out.para(Text.assemble(("fix: ", "bold"), remedy.summary), first=INDENT, rest=INDENT + "  ")
    _diff(out, remedy.diff, INDENT + "  ")
    if remedy.steps:
        out.para(Text("steps, in order (these change the deployment):", style="bold"), first=INDENT + "  ")
        for step in remedy.steps:
            marks = Text(f"  # {step.marks}", style="bold yellow") if step.marks else Text()
            out.verbatim(Text(f"{INDENT}  $ {step.command}", style="cyan") + marks)
    if remedy.verify:
        out.para(Text("verify (read-only):", style="bold"), first=INDENT + "  ")
        for command in remedy.verify:
            out.verbatim(Text(f"{INDENT}  $ {command}", style="cyan"))


def _collapsed(out: _Printer, findings: Sequence[Finding], glyphs: dict[Status, str]) -> None:
    """Passes and skips, one line per kind: what ran, and what did not and why."""
    passed = [f.check or f.id for f in findings if f.status is Status.OK]
    if passed:
        names = ", ".join(dict.fromkeys(passed))
        out.para(Text.assemble((glyphs[Status.OK], STYLES[Status.OK]), f" {len(passed)} passed: {names}"), rest="  ")
    skipped = [f for f in findings if f.status is Status.SKIP]
    if skipped:
        out.para(
            Text.assemble(
                (glyphs[Status.SKIP], STYLES[Status.SKIP]), f" {len(skipped)} skipped: {skip_reasons(skipped)}"
            ),
            rest="  ",
        )
