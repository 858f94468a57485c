"""The README documents every finding id the code can emit and every flag the CLI accepts."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from checks import CHECKS, log_signatures, socket_probe, socket_sharing
from doctor.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
_LITERAL_ID = re.compile(r"""(?:id=)?["']([a-z][a-z0-9]*(?:-[a-z0-9]+)+)["'],\s*\n?\s*(?:status=)?Status\.""")


def emitted_ids() -> set[str]:
    ids = {check.ID for check in CHECKS}
    ids |= set(socket_sharing.FINDING_IDS.values())
    ids |= {verdict[0] for verdict in socket_probe.VERDICTS.values()}
    ids |= {
        log_signatures.SOCKET_FAILED,
        log_signatures.DATA_DIR,
        log_signatures.CANNOT_CONNECT,
        log_signatures.NOT_READY,
    }
    for path in [*(ROOT / "checks").glob("*.py"), *(ROOT / "doctor").rglob("*.py")]:
        ids |= set(_LITERAL_ID.findall(path.read_text()))
    return ids


@pytest.mark.parametrize("finding_id", sorted(emitted_ids()))
def test_finding_id_is_documented(finding_id: str) -> None:
    assert f"`{finding_id}`" in README


def test_the_scan_finds_literal_ids() -> None:
    assert {"compose-invalid", "socket-connect-ok", "check-crashed", "socket-volume-ok"} <= emitted_ids()


def flags() -> set[str]:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    doctor = commands.choices["doctor"]
    options = {opt for action in doctor._actions for opt in action.option_strings if opt not in ("-h", "--help")}
    return options | {"--version"}


@pytest.mark.parametrize("flag", sorted(flags()))
def test_flag_is_documented(flag: str) -> None:
    assert re.search(rf"`[^`]*{re.escape(flag)}\b", README), flag
