"""The installed wheel is what the suite exercises, and it holds every module of the tree."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import checks
import doctor
from tests.conftest import IN_CI, REPO, require

DISTRIBUTION = "cultivate-doctor"


def _is_editable() -> bool:
    direct_url = importlib.metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    return bool(direct_url and json.loads(direct_url).get("dir_info", {}).get("editable"))


def test_the_suite_imports_the_installed_package_not_the_source_tree() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    installed = Path(doctor.__file__).resolve().is_relative_to(site_packages)
    require(installed or not IN_CI, "doctor is imported from the source tree, not an installed wheel")
    if not installed:
        require(False, "doctor is not installed from a wheel here (editable install or none): pip install .")
    assert Path(checks.__file__).resolve().is_relative_to(site_packages)
    assert not Path(doctor.__file__).resolve().is_relative_to(REPO)


def test_every_module_of_the_source_tree_is_in_the_installed_distribution() -> None:
    try:
        files = importlib.metadata.files(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        require(False, f"{DISTRIBUTION} is not installed: pip install .")
        return
    require(not _is_editable(), "an editable install maps the tree instead of copying it: pip install .")
    installed = {str(file) for file in files if str(file).endswith(".py")}
    tree = {
        str(path.relative_to(REPO))
        for package in ("doctor", "checks")
        for path in (REPO / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert tree, "the source tree has no modules: the test looked in the wrong place"
    assert sorted(tree - installed) == []


def test_the_installed_console_script_runs_from_anywhere(tmp_path: Path) -> None:
    script = shutil.which("cultivate")
    require(script is not None, "the cultivate console script is not on PATH: pip install .")
    assert script is not None
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    for args in (
        ["--version"],
        ["doctor", "--list"],
        ["doctor", "--offline", "--project-directory", str(REPO / "examples/correct")],
    ):
        done = subprocess.run(
            [script, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, (args, done.stderr)
        assert "internal error" not in done.stderr
