"""The catalog declares every finding id once; the README's table, the pages of `cultivate
explain`, the JSON Schema's id list and the root cause's layers agree with it; no module
outside the catalog spells an id."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from doctor import catalog
from doctor.catalog import Layer
from doctor.findings import page, page_ids
from doctor.logcauses import CAUSES, log_cause
from doctor.logscan import IN_ORDER, Signature
from doctor.models import Errno, Facts, Status, TargetOS, VantageVerdict
from doctor.rootcause import LAYERS
from tests.conftest import REPO

README = (REPO / "README.md").read_text()
TABLE = README.split("## Findings", 1)[1].split("\n## ", 1)[0]
ROWS = {m[0]: m[1] for m in re.findall(r"^\| `([a-z0-9-]+)`[^|]* \| ([^|]+?) \| ", TABLE, re.M)}
SCHEMA = json.loads((REPO / "doctor" / "schema" / "report.schema.json").read_text())
CONSTANTS = {
    name: value
    for name, value in vars(catalog).items()
    if name.isupper() and isinstance(value, str) and not name.endswith("_RULE")
}


def test_every_constant_is_one_entry_and_every_entry_has_a_constant() -> None:
    assert sorted(CONSTANTS.values()) == sorted(catalog.FINDINGS)
    assert len(set(CONSTANTS.values())) == len(CONSTANTS)


def test_an_id_declared_twice_is_refused() -> None:
    entry = catalog.get(catalog.SOCKET_HOST_PATH)
    with pytest.raises(ValueError, match="declared twice"):
        catalog._index((entry, entry))


def test_an_unknown_id_fails_loudly() -> None:
    with pytest.raises(catalog.UnknownFinding, match="socket-host-pat"):
        catalog.get("socket-host-pat")


@pytest.mark.parametrize("finding_id", catalog.ids())
def test_the_readme_table_has_the_catalog_statuses(finding_id: str) -> None:
    assert ROWS.get(finding_id) == catalog.get(finding_id).statuses


def test_no_table_row_outside_the_catalog() -> None:
    assert sorted(ROWS) == list(catalog.ids())


@pytest.mark.parametrize("finding_id", catalog.ids())
def test_each_page_says_the_catalog_statuses(finding_id: str) -> None:
    text = page(finding_id)
    assert text is not None
    assert f"\nStatus (macOS / Linux): {catalog.get(finding_id).statuses}\n" in text


def test_explain_lists_the_catalog() -> None:
    assert page_ids() == list(catalog.ids())
    assert sorted(p.name for p in (REPO / "doctor" / "findings").glob("*.md")) == sorted(
        catalog.get(i).page for i in catalog.ids()
    )


def test_the_schema_enum_is_the_catalog() -> None:
    assert SCHEMA["$defs"]["finding_id"]["enum"] == list(catalog.ids())


def test_the_schema_lists_every_fact() -> None:
    facts = SCHEMA["$defs"]["facts"]["properties"]
    assert list(facts) == list(Facts.__dataclass_fields__)
    assert facts["errno_class"]["enum"] == [e.value for e in Errno]
    assert facts["vantage"]["enum"] == [v.value for v in VantageVerdict]


def test_the_root_cause_layers_come_from_the_catalog() -> None:
    assert [layer for layer, _ in LAYERS] == list(Layer)
    layered = {i for _, ids in LAYERS for i in ids}
    assert layered == {e.id for e in catalog.FINDINGS.values() if e.layer is not None}
    # Every layered finding is a problem somewhere: an ok-only id can never be a link.
    assert all(catalog.get(i).macos.is_problem or catalog.get(i).linux.is_problem for i in layered)


@pytest.mark.parametrize(
    ("finding_id", "target_os", "status"),
    [
        pytest.param(catalog.SOCKET_HOST_PATH, "macos", Status.FAIL, id="host-path-macos"),
        pytest.param(catalog.SOCKET_HOST_PATH, "linux", Status.WARN, id="host-path-linux"),
        pytest.param(catalog.COMPOSE_INVALID, "linux", Status.FAIL, id="invalid-linux"),
    ],
)
def test_status_by_target_os(finding_id: str, target_os: str, status: Status) -> None:
    assert catalog.get(finding_id).status_on(TargetOS(target_os)) is status


def _id_literals(path: Path) -> list[str]:
    """String constants in a module that are finding ids; text inside an f-string is prose."""
    tree = ast.parse(path.read_text())
    in_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in catalog.FINDINGS
        and id(node) not in in_fstrings
    ]


SOURCES = sorted(
    path for path in [*(REPO / "checks").glob("*.py"), *(REPO / "doctor").rglob("*.py")] if path.name != "catalog.py"
)


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(REPO)) for p in SOURCES])
def test_no_module_spells_a_finding_id(path: Path) -> None:
    assert _id_literals(path) == []


@pytest.mark.parametrize("signature", IN_ORDER, ids=[f"{s.finding}:{s.cause}" for s in IN_ORDER])
def test_every_classifier_cause_has_its_record(signature: Signature) -> None:
    cause = log_cause(signature.cause)
    assert cause.finding == signature.finding
    assert catalog.get(cause.finding).layer is not None or cause.finding == catalog.LOG_SERVER_NOT_READY


def test_no_cause_record_the_classifier_never_finds() -> None:
    assert set(CAUSES) == {s.cause for s in IN_ORDER}
