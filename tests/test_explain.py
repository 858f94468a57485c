"""A page per finding: every id of the README's table has one, `cultivate explain ID` prints it,
docs/findings/ holds the same text, and the Markdown report points at it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from doctor.findings import page, page_ids
from tests.conftest import REPO, Cli

README = (REPO / "README.md").read_text()
TABLE_IDS = sorted(set(re.findall(r"^\| `([a-z0-9-]+)`", README.split("## Findings", 1)[1].split("\n## ", 1)[0], re.M)))
SECTIONS = ("## What it means", "## The rule behind it", "## Remedy", "## How to verify", "## Look-alikes")


def test_the_table_was_found() -> None:
    assert {"socket-host-path", "engine-unreachable", "check-crashed"} <= set(TABLE_IDS)


@pytest.mark.parametrize("finding_id", TABLE_IDS)
def test_every_finding_in_the_readme_has_a_page(finding_id: str) -> None:
    text = page(finding_id)
    assert text is not None, finding_id
    assert text.startswith(f"# `{finding_id}`\n")
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert (REPO / "docs" / "findings" / f"{finding_id}.md").read_text() == text  # the same text


def test_no_page_without_a_finding() -> None:
    assert sorted(page_ids()) == TABLE_IDS
    assert sorted(p.stem for p in (REPO / "docs" / "findings").glob("*.md")) == TABLE_IDS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    program = "import sys; from doctor.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", program, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_explain_prints_the_page() -> None:
    done = run("explain", "socket-host-path")
    assert done.returncode == 0
    assert done.stdout == page("socket-host-path")
    assert "named volume" in done.stdout and "socket-volume-bind-device" in done.stdout


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        pytest.param("socket-host-pat", "did you mean socket-host-path?", id="typo"),
        pytest.param("../../etc/passwd", "no page for '../../etc/passwd'", id="path"),
    ],
)
def test_unknown_id_is_one_sentence(argument: str, message: str) -> None:
    done = run("explain", argument)
    assert done.returncode == 2
    assert message in done.stderr and done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_explain_without_an_id_lists_them() -> None:
    assert run("explain").stdout.split() == page_ids()


def test_markdown_report_points_at_each_problem_page(cli: Cli) -> None:
    example = REPO / "examples" / "macos-host-socket"
    text = cli("--project-directory", str(example), "--target-os", "macos", "--offline", "--format", "markdown").out
    assert "`cultivate explain socket-host-path` (docs/findings/socket-host-path.md)" in text
    assert Path(REPO / "docs/findings/socket-host-path.md").exists()
