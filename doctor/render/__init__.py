"""Renderers: each takes one Report (doctor/report.py) and returns or prints it. Findings
never render themselves, and no renderer works anything out the Report does not hold."""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from doctor.report import Report

FORMATS = ("text", "markdown", "json")


def render(
    report: Report, format: str, *, stream: IO[str] | None = None, color: str = "auto", verbose: bool = False
) -> str:
    """The report as text. ``text`` with a ``stream`` (a terminal) prints there in colour and
    wrapped, and returns ""; without one it is plain, unwrapped text, as ``-o`` writes it."""
    if format == "json":
        from doctor.render.json_report import render_json

        return render_json(report)
    if format == "markdown":
        from doctor.render.markdown import render_markdown

        return render_markdown(report)
    from doctor.render.terminal import make_console, render_terminal

    if stream is None:
        buffer = io.StringIO()
        render_terminal(make_console(buffer, "never"), report, verbose=verbose)
        return buffer.getvalue()
    render_terminal(make_console(stream, color), report, verbose=verbose)
    return ""
