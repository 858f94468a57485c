"""The terminal report, through rich. User text (paths, log lines, YAML) is escaped before it
reaches rich markup, so a log line such as '[ERROR]' prints as written."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from doctor import __version__
from doctor.models import Finding, Status, Target, summary_counts
from doctor.render.text_common import ASCII_GLYPHS, GLYPHS, summary_line
from doctor.rootcause import find_root_cause

if TYPE_CHECKING:
    from doctor.fixflow import FixSummary

STYLES = {
    Status.OK: "green",
    Status.INFO: "cyan",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.SKIP: "dim",
    Status.ERROR: "bold magenta",
}


def make_console(stream: IO[str], color: str) -> Console:
    if color == "always":
        return Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
    if color == "never":
        return Console(
            file=stream, no_color=True, highlight=False, soft_wrap=True, force_terminal=False, color_system=None
        )
    # auto: rich colours only a terminal and honours NO_COLOR itself.
    return Console(file=stream, highlight=False, soft_wrap=True)


def _glyphs(stream: IO[str]) -> dict[Status, str]:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "".join(GLYPHS.values()).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII_GLYPHS
    return GLYPHS


def render_terminal(
    console: Console, target: Target, findings: list[Finding], *, verbose: bool = False, fix: FixSummary | None = None
) -> None:
    glyphs = _glyphs(console.file)
    runtime = target.runtime or "unknown"
    console.print(f"[bold]cultivate doctor[/] {__version__}")
    console.print(
        f"target [bold]{escape(target.os)}[/] ({escape(target.os_reason)}), runtime {escape(runtime)}, "
        f"project [bold]{escape(target.project or 'none')}[/]"
        + (f", compose tool {escape(target.compose_tool)}" if target.compose_tool else "")
    )
    if target.compose_files:
        console.print(f"files: {escape(', '.join(target.compose_files))}", style="dim")
    if target.volumes:
        listed = ", ".join(f"{k} → {n}" for k, n in target.volumes)
        console.print(f"volumes: {escape(listed)}", style="dim")
    if target.fingerprint:
        console.print(f"fingerprint: {escape(target.fingerprint)}", style="dim")
    console.print()
    if fix is not None:
        _fix(console, fix)
    cause = find_root_cause(findings)
    if cause is not None:
        console.print(f"[bold]Root cause:[/] {escape(cause.statement)}")
        console.print(f"[bold]Next step:[/] {escape(cause.next_step)}")
        console.print(f"[dim]rests on {escape(', '.join(cause.findings))}[/]")
        console.print()
    for finding in findings:
        _finding(console, finding, glyphs, verbose)
    counts = summary_counts(findings)
    console.print()
    console.print(f"[bold]{escape(summary_line(counts))}[/]")


def _fix(console: Console, fix: FixSummary) -> None:
    console.print(f"[bold]Fix:[/] {escape(fix.message)}")
    for line in fix.diff.splitlines():
        colour = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        console.print(f"  [{colour}]{escape(line)}[/]")
    for note in (*fix.notes, *fix.by_hand):
        console.print(f"  • {escape(note)}")
    if fix.data_commands:
        console.print("  Move the data, in this order (the doctor never moves data):")
        for command in fix.data_commands:
            console.print(f"    [cyan]$ {escape(command)}[/]")
    console.print()


def _finding(console: Console, finding: Finding, glyphs: dict[Status, str], verbose: bool) -> None:
    style = STYLES[finding.status]
    timing = f" [dim]{finding.duration_ms} ms[/]" if verbose and finding.duration_ms is not None else ""
    console.print(
        f"[{style}]{escape(glyphs[finding.status])}[/] {escape(finding.title)} [dim]({escape(finding.id)})[/]{timing}"
    )
    problem = finding.status.is_problem
    if finding.detail and (problem or verbose):
        console.print(f"    {escape(finding.detail)}")
    if verbose:
        for item in finding.evidence:
            console.print(f"    [dim]{escape(item.source)}[/]  {escape(item.text)}")
    remedy = finding.remedy
    if remedy is None or not problem:
        return
    console.print(f"    [bold]fix:[/] {escape(remedy.summary)}")
    for line in remedy.diff.splitlines():
        colour = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        console.print(f"      [{colour}]{escape(line)}[/]")
    for command in remedy.commands:
        console.print(f"      [cyan]$ {escape(command)}[/]")
