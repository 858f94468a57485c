"""The README documents every finding id the code can emit and every flag the CLI accepts."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from checks import CHECKS
from doctor import catalog
from doctor.arguments import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def emitted_ids() -> set[str]:
    """Every id the code can emit: the checks' own and the catalog's (tests/test_catalog.py
    proves no module spells an id of its own, and the table row of each)."""
    return {check.ID for check in CHECKS} | set(catalog.ids())


@pytest.mark.parametrize("finding_id", sorted(emitted_ids()))
def test_finding_id_is_documented(finding_id: str) -> None:
    assert f"`{finding_id}`" in README


def test_every_check_id_is_in_the_catalog() -> None:
    assert {check.ID for check in CHECKS} <= set(catalog.ids())


def flags() -> set[str]:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    doctor = commands.choices["doctor"]
    options = {opt for action in doctor._actions for opt in action.option_strings if opt not in ("-h", "--help")}
    return options | {"--version"}


@pytest.mark.parametrize("flag", sorted(flags()))
def test_flag_is_documented(flag: str) -> None:
    assert re.search(rf"`[^`]*{re.escape(flag)}\b", README), flag
