"""Renderers: plain text when not a terminal, markup in user text printed as written."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest

from doctor.models import Evidence, Finding, Remedy, Status, Target
from doctor.render.json_report import render_json
from doctor.render.markdown import render_markdown
from doctor.render.terminal import make_console, render_terminal

TARGET = Target(os="macos", os_reason="--target-os", project="p[bold]x", compose_files=("compose.yaml",))
MARKUP = "[ERROR] [bold red]not markup[/bold red] C:\\path"
FINDINGS = [
    Finding("log-x", Status.FAIL, MARKUP, "detail [link=x]y[/link]", (Evidence("db.log:3", MARKUP),),
            Remedy("do [this]", "--- a/x\n+++ b/x\n-[old]\n+[new]\n", ("finch logs [c]",)), "log-signatures", 1.5),
    Finding("ok-x", Status.OK, "fine", check="c"),
    Finding("skip-x", Status.SKIP, "skipped", check="c"),
]  # fmt: skip


def render_text(color: str, verbose: bool = True) -> str:
    stream = io.StringIO()
    render_terminal(make_console(stream, color), TARGET, FINDINGS, verbose=verbose)
    return stream.getvalue()


def test_user_text_is_printed_as_written() -> None:
    text = render_text("never")
    assert MARKUP in text
    assert "p[bold]x" in text
    assert "detail [link=x]y[/link]" in text
    assert "-[old]" in text and "$ finch logs [c]" in text


def test_plain_when_not_a_terminal_and_colour_when_forced() -> None:
    assert "\x1b[" not in render_text("auto")
    assert "\x1b[" not in render_text("never")
    assert "\x1b[" in render_text("always")


def test_no_color_environment_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    text = render_text("always")
    assert "\x1b[31m" not in text and "\x1b[1;31m" not in text


def test_glyphs_and_summary() -> None:
    text = render_text("never", verbose=False)
    assert "✗ " in text and "✓ fine" in text and "– skipped" in text
    assert text.rstrip().endswith("1 failed, 1 passed, 1 skipped")
    assert "db.log:3" not in text  # evidence only with -v


def test_ascii_glyphs_when_the_stream_cannot_encode_them() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    render_terminal(make_console(stream, "never"), TARGET, FINDINGS)
    stream.flush()
    assert b"x [ERROR]" in raw.getvalue()


def test_every_format_takes_the_same_findings() -> None:
    assert "log-x" in render_json(TARGET, FINDINGS)
    markdown = render_markdown(TARGET, FINDINGS)
    assert "\\[ERROR\\]" in markdown  # escaped outside code blocks
    assert f"db.log:3: {MARKUP}" in markdown  # verbatim inside the evidence block


def test_the_compose_tool_is_in_every_header() -> None:
    target = dataclasses.replace(TARGET, compose_tool="podman-compose 1.0.3")
    buffer = io.StringIO()
    render_terminal(make_console(buffer, "never"), target, FINDINGS)
    assert "compose tool podman-compose 1.0.3" in buffer.getvalue()
    assert "| Compose tool | podman-compose 1.0.3 |" in render_markdown(target, FINDINGS)
    assert json.loads(render_json(target, FINDINGS))["target"]["compose_tool"] == "podman-compose 1.0.3"
