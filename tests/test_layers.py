"""The layers as the README's Development section draws them: data flows one way, and a module
imports only layers below its own (at the top of the file or inside a function alike)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# Above each layer, what it must never import.
FORBIDDEN: list[tuple[str, tuple[str, ...]]] = [
    ("doctor/render/", ("doctor.app", "doctor.cli", "doctor.process", "checks")),
    ("doctor/report.py", ("doctor.app", "doctor.cli", "doctor.render", "checks")),
    ("doctor/app.py", ("doctor.cli", "doctor.process")),
    ("checks/", ("doctor.app", "doctor.cli", "doctor.process", "doctor.render", "doctor.report")),
    ("doctor/plan/", ("doctor.app", "doctor.cli", "doctor.render", "checks")),
    ("doctor/context.py", ("doctor.app", "doctor.cli", "doctor.process", "doctor.render", "checks")),
    ("doctor/compose/", ("doctor.app", "doctor.cli", "doctor.render", "doctor.plan", "checks")),
    ("doctor/engine/", ("doctor.app", "doctor.cli", "doctor.render", "doctor.plan", "checks")),
    # The values import nothing of the doctor but doctor/steps.py, a value module itself.
    ("doctor/models.py", ("doctor.app", "doctor.cli", "doctor.render", "doctor.compose", "doctor.engine", "checks")),
    ("doctor/steps.py", ("doctor.",)),
]


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules(prefix: str) -> list[Path]:
    target = REPO / prefix
    return sorted(target.rglob("*.py")) if prefix.endswith("/") else [target]


CASES = [(prefix, path, banned) for prefix, banned in FORBIDDEN for path in modules(prefix)]


@pytest.mark.parametrize(("prefix", "path", "banned"), CASES, ids=[str(c[1].relative_to(REPO)) for c in CASES])
def test_a_module_imports_only_layers_below_it(prefix: str, path: Path, banned: tuple[str, ...]) -> None:
    wrong = sorted(
        n for n in imported(path) if any(n == b or n.startswith(b if b.endswith(".") else b + ".") for b in banned)
    )
    assert wrong == [], f"{path.relative_to(REPO)} imports {wrong}"


@pytest.mark.parametrize("path", sorted((REPO / "checks").glob("*.py")), ids=lambda p: p.name)
def test_no_check_imports_another(path: Path) -> None:
    """Shared logic lives in core modules; checks/_common.py and the registry are not checks."""
    own = {"checks", "checks._common"}
    others = sorted(
        n for n in imported(path) if n.startswith("checks.") and n not in own and not n.startswith("checks._common")
    )
    if path.name == "__init__.py":
        return  # the registry imports every check, in order
    assert others == [], f"{path.name} imports {others}"
