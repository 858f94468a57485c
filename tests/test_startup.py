"""Start-up stays light and the process ends cleanly (issue 10: the time to verdict at 2 containers).

A run imports only what it uses: no docker-py, psycopg or rich for an offline JSON report, and no
edit planner or Swarm placement rules for a file that needs no diff. The ``cultivate`` console
script and ``python -m doctor`` end through doctor.process, which skips the interpreter's teardown
with ``os._exit``: everything written must still arrive, and a reader that went away ends the run
with 141 and not a word. These tests run the installed package in a child process."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import checks
from doctor.context import Options, build_context
from tests.conftest import FIXTURES, require

HEALTHY = FIXTURES / "compose" / "guide-correct"
FAILING = FIXTURES / "compose" / "guide-incorrect"  # its socket host path gets a diff from the planner

# Modules that an offline JSON report on a healthy file has no use for.
NOT_FOR_OFFLINE_JSON = ("docker", "psycopg", "rich", "requests", "urllib3")
NOT_FOR_A_HEALTHY_FILE = ("doctor.plan", "doctor.compose.edit", "doctor.placement", "doctor.compose.deploy")
NOT_WITHOUT_SWARM = ("doctor.engine.probe_task",)


def _env(**changes: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["NO_COLOR"] = "1"
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def imported(tmp_path: Path, *args: str) -> set[str]:
    """The modules a ``python -m doctor`` run imports, from ``-X importtime``, and its exit code checked."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "doctor", *args],
        cwd=tmp_path,  # not the repository: its doctor/ would shadow the installed package
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "doctor.cli" in names, "-X importtime listed nothing: the test reads the wrong stream"
    return names


def loaded(names: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(name for name in names if any(name == p or name.startswith(p + ".") for p in packages))


def test_an_offline_json_run_on_a_healthy_file_imports_none_of_the_heavy_modules(tmp_path: Path) -> None:
    names = imported(tmp_path, "--offline", "--format", "json", "--project-directory", str(HEALTHY))
    assert loaded(names, NOT_FOR_OFFLINE_JSON) == []
    assert loaded(names, NOT_FOR_A_HEALTHY_FILE) == []
    assert loaded(names, NOT_WITHOUT_SWARM) == []


def test_an_offline_text_run_needs_rich_but_not_the_engine_or_the_database_client(tmp_path: Path) -> None:
    names = imported(tmp_path, "--offline", "--project-directory", str(HEALTHY))
    assert loaded(names, ("docker", "psycopg", "requests", "urllib3")) == []
    assert "rich" in names


@pytest.mark.parametrize("target_os", ["linux", "macos"])
def test_a_file_that_needs_a_diff_still_loads_the_planner(tmp_path: Path, target_os: str) -> None:
    # The other side of the lazy imports: the planner loads when a finding needs its diff, so the
    # test above proves a healthy file skips it rather than that nothing ever loads it.
    names = imported(
        tmp_path, "--offline", "--format", "json", "--target-os", target_os, "--project-directory", str(FAILING)
    )
    assert "doctor.plan" in names
    assert loaded(names, ("docker", "psycopg", "rich")) == []


def _cultivate() -> str:
    script = shutil.which("cultivate")
    require(script is not None, "the cultivate console script is not on PATH: pip install .")
    assert script is not None
    return script


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
def test_the_console_script_ends_with_141_and_no_word_when_the_reader_is_gone(tmp_path: Path, buffered: bool) -> None:
    # Buffered, the write fails only at the last flush, after cli.main returned (doctor.process's
    # path); unbuffered (PYTHONUNBUFFERED), it fails inside cli.main. Both end the same way.
    read_end, write_end = os.pipe()
    os.close(read_end)  # `cultivate doctor --list | head -0`: the reader left before any output
    try:
        done = subprocess.run(
            [_cultivate(), "doctor", "--list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=_env(PYTHONUNBUFFERED=None if buffered else "1"),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr.decode()) == (141, "")


def test_the_console_script_delivers_all_it_wrote_before_it_exits(tmp_path: Path) -> None:
    # os._exit skips the interpreter's own flush. --list writes a line at a time, and the lines
    # wait in stdout's buffer until doctor.process flushes it; the JSON report is one write.
    env = _env(PYTHONUNBUFFERED=None)
    listed = subprocess.run(
        [_cultivate(), "doctor", "--list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert (listed.returncode, listed.stderr) == (0, "")
    assert len(listed.stdout.splitlines()) == len(checks.CHECKS)
    report = subprocess.run(
        [_cultivate(), "doctor", "--offline", "--format", "json", "--target-os", "macos", "--project-directory", str(FAILING)],
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert (report.returncode, report.stderr) == (1, b"")
    assert json.loads(report.stdout)["findings"]


def test_python_dash_m_doctor_runs_the_doctor_subcommand(tmp_path: Path) -> None:
    for args, code in ((["--version"], 0), (["--list"], 0), (["--offline", "--project-directory", str(HEALTHY)], 0)):
        done = subprocess.run(
            [sys.executable, "-m", "doctor", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_env(PYTHONUNBUFFERED=None),
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stderr) == (code, ""), args
        assert done.stdout.strip(), args
    assert (
        "socket-vantage"
        in subprocess.run(
            [sys.executable, "-m", "doctor", "--list"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=True,
        ).stdout
    )


def test_the_console_script_reports_a_usage_error_as_before(tmp_path: Path) -> None:
    done = subprocess.run(
        [_cultivate(), "doctor", "--ofline"], capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "did you mean --offline?" in done.stderr


def test_the_collector_runs_again_once_the_context_is_built() -> None:
    # The console script pauses the collector for start-up; build_context turns it back on, so a
    # long run (a 1 GiB log) never goes without it. In-process, it must not switch it off either.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        build_context(Options(project_directory=HEALTHY, offline=True))
        assert gc.isenabled()
        build_context(Options(project_directory=HEALTHY, offline=True))
        assert gc.isenabled()
    finally:
        gc.unfreeze()  # start_up_done froze this test process's objects: give them back to the collector
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
