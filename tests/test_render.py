"""Renderers: plain text when not a terminal, markup in user text printed as written."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest

from doctor.models import Evidence, Finding, Remedy, Status, Target, TargetOS, skipped
from doctor.render.json_report import render_json
from doctor.render.markdown import render_markdown
from doctor.render.terminal import make_console, render_terminal
from doctor.report import make_report
from tests.conftest import Cli

TARGET = Target(os=TargetOS.MACOS, os_reason="--target-os", project="p[bold]x", compose_files=("compose.yaml",))
MARKUP = "[ERROR] [bold red]not markup[/bold red] C:\\path"
FINDINGS = [
    Finding("log-x", Status.FAIL, MARKUP, "detail [link=x]y[/link]", (Evidence("db.log:3", MARKUP),),
            Remedy("do [this]", "--- a/x\n+++ b/x\n-[old]\n+[new]\n", ("finch logs [c]",)), "log-signatures", 1.5),
    Finding("ok-x", Status.OK, "fine", check="c"),
    Finding("skip-x", Status.SKIP, "skipped", check="c"),
]  # fmt: skip


def render_text(color: str, verbose: bool = True) -> str:
    stream = io.StringIO()
    render_terminal(make_console(stream, color), make_report(TARGET, FINDINGS), verbose=verbose)
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


def test_explicit_color_always_wins_over_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[1;31m" in render_text("always")
    assert "\x1b[" not in render_text("never")


def test_problems_in_full_passes_and_skips_collapsed() -> None:
    text = render_text("never", verbose=False)
    assert "✗ " in text and "✓ 1 passed: c" in text and "– 1 skipped: c (skipped)" in text
    assert "✓ fine" not in text  # a pass is a name on the summary line, not a line of its own
    assert "db.log:3" not in text  # evidence only with -v
    verbose = render_text("never", verbose=True)
    assert "✓ fine (ok-x)" in verbose and "– skipped (skip-x)" in verbose and "1.5 ms" in verbose


def test_the_verdict_opens_and_closes_the_report() -> None:
    lines = render_text("never", verbose=False).rstrip().splitlines()
    block = [
        "Status: FAIL (1 failed, 1 passed, 1 skipped)",
        f"Root cause: {MARKUP}",
        "Next step: do [this]",
        "Rests on: log-x",
    ]
    assert lines[-4:] == block
    start = lines.index(block[0])
    assert lines[start : start + 4] == block
    assert start < 5  # under the header


@pytest.mark.parametrize(
    ("findings", "present", "absent"),
    [
        pytest.param(
            [Finding("engine-unreachable", Status.WARN, "Cannot reach the engine", remedy=Remedy("Start it.")),
             Finding("ok-x", Status.OK, "fine", check="socket-mounts"),
             dataclasses.replace(skipped("skip-x", "no --log-file given"), check="log-signatures")],
            ["Warnings: Cannot reach the engine (engine-unreachable)", "Next step: Start it.",
             "Examined, no problem: socket-mounts", "Not examined: log-signatures (no --log-file given)"],
            ["Root cause"],
            id="warning-only-has-no-root-cause",
        ),
        pytest.param(
            [Finding("ok-x", Status.OK, "fine", check="socket-mounts"),
             dataclasses.replace(skipped("skip-x", "the engine was not reached", "see engine"), check="containers"),
             dataclasses.replace(skipped("skip-y", "the engine was not reached", "see engine"), check="container-logs")],
            ["Status: OK", "Examined, no problem: socket-mounts",
             "Not examined: containers, container-logs (the engine was not reached)"],
            ["Root cause", "Next step"],
            id="passing-says-what-was-examined",
        ),
    ],
)  # fmt: skip
def test_no_root_cause_without_a_failure(findings: list[Finding], present: list[str], absent: list[str]) -> None:
    stream = io.StringIO()
    render_terminal(make_console(stream, "never"), make_report(TARGET, findings))
    text = stream.getvalue()
    for line in present:
        assert line in text
    for word in absent:
        assert word not in text


def test_ascii_glyphs_when_the_stream_cannot_encode_them() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    render_terminal(make_console(stream, "never"), make_report(TARGET, FINDINGS))
    stream.flush()
    assert b"x [ERROR]" in raw.getvalue()


def test_every_format_takes_the_same_findings() -> None:
    assert "log-x" in render_json(make_report(TARGET, FINDINGS))
    markdown = render_markdown(make_report(TARGET, FINDINGS))
    assert "\\[ERROR\\]" in markdown  # escaped outside code blocks
    assert f"db.log:3: {MARKUP}" in markdown  # verbatim inside the evidence block


def test_markdown_is_plain_commonmark_ordered_by_severity() -> None:
    findings = [
        Finding("ok-x", Status.OK, "fine", check="a"),
        Finding("warn-x", Status.WARN, "careful", check="b", remedy=Remedy("Run `finch vm start` first.")),
        Finding("skip-x", Status.SKIP, "skipped", check="c"),
        Finding("fail-x", Status.FAIL, "broken", check="d"),
    ]
    text = render_markdown(make_report(TARGET, findings, command_line="cultivate doctor --target-os macos"))
    assert "<" not in text.replace("\\<", "")  # no HTML (<sub>): Jira's Markdown shows it as text
    assert "`finch vm start`" in text and "\\`" not in text  # a command stays a code span
    assert text.index("`fail-x`") < text.index("`warn-x`") < text.index("## Other checks")
    assert "| OK | `a` | fine (`ok-x`) |" in text and "| SKIP | `c` | skipped (`skip-x`) |" in text
    assert "| Generated | " in text and "| Doctor | cultivate doctor " in text
    assert "```sh\ncultivate doctor --target-os macos\n```" in text
    assert "`cultivate explain fail-x` (docs/findings/fail-x.md)" in text


def test_markdown_parses_as_commonmark_with_no_html(cli: Cli) -> None:
    # markdown-it-py (rich's own dependency) is a CommonMark parser: no HTML token may appear,
    # every command is inside a code block or span, and the tables are real tables.
    from markdown_it import MarkdownIt

    from tests.conftest import REPO

    example = REPO / "examples" / "macos-host-socket"
    text = cli("--project-directory", str(example), "--target-os", "macos", "--format", "markdown",
               "--log-file", str(example / "logs" / "database.log"))  # fmt: skip
    tokens = MarkdownIt("commonmark").enable("table").parse(text.out)
    flat = [t for token in tokens for t in (token, *(token.children or []))]
    assert not [t for t in flat if t.type in ("html_block", "html_inline")]
    assert sum(t.type == "table_open" for t in flat) == 2  # the header table and "Other checks"
    fences = [t.content for t in flat if t.type == "fence"]
    assert any("finch compose -p macos-host-socket down" in f for f in fences)
    assert any(f.startswith("--- a/compose.yaml") for f in fences)
    spans = [t.content for t in flat if t.type == "code_inline"]
    assert "cultivate explain socket-host-path" in spans


def test_the_compose_tool_is_in_every_header() -> None:
    target = dataclasses.replace(TARGET, compose_tool="podman-compose 1.0.3")
    buffer = io.StringIO()
    render_terminal(make_console(buffer, "never"), make_report(target, FINDINGS))
    assert "compose tool podman-compose 1.0.3" in buffer.getvalue()
    assert "| Compose tool | podman-compose 1.0.3 |" in render_markdown(make_report(target, FINDINGS))
    assert json.loads(render_json(make_report(target, FINDINGS)))["target"]["compose_tool"] == "podman-compose 1.0.3"
