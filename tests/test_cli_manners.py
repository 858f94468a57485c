"""CLI manners: one sentence and exit 2 for every mistake, a hint where one helps, quiet on a
closed pipe, OS errors on inputs as sentences or findings, and completion from the parser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Cli, public_tempdir

GUIDE_INCORRECT = FIXTURES / "compose" / "guide-incorrect"
GUIDE_CORRECT = FIXTURES / "compose" / "guide-correct"


def run(*args: str, cwd: Path | None = None, user: bool = False) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: a real process (a real pipe, real permissions)."""
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if user else []
    return subprocess.run(
        [*prefix, sys.executable, "-c", "import sys; from doctor.cli import main; sys.exit(main())", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A directory user nobody can reach (pytest's tmp_path is private to root)."""
    probe = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", "import doctor.cli"],
        cwd="/", capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    if probe.returncode != 0:  # the checkout or its venv lies under a folder only root may enter
        pytest.skip("user nobody cannot run this Python and the doctor from here")
    path = public_tempdir("oncall-")
    yield path
    shutil.rmtree(path)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["--ofline"], "unrecognized argument --ofline; did you mean --offline?", id="flag-typo"),
        pytest.param(["--verbsoe"], "did you mean --verbose?", id="flag-typo-2"),
        pytest.param(["--zzzzzz"], "`cultivate doctor --help` lists the flags", id="flag-far-from-any"),
        pytest.param(["socket-mount"], "unknown check 'socket-mount'; did you mean socket-mounts?", id="check-typo"),
        pytest.param(["nothing-like-it"], "`cultivate doctor --list` shows them", id="check-far-from-any"),
        pytest.param(["compose.yaml"], "compose.yaml is not a check; to read it as a Compose file, use -f compose.yaml", id="file-as-check"),
        pytest.param(
            ["--docker-host", "http://localhost:2375"], "has scheme http://, which the doctor does not support", id="http-engine"
        ),
        pytest.param(["--docker-host", "localhost:2375"], "has no scheme", id="engine-without-scheme"),
    ],
)  # fmt: skip
def test_mistakes_get_one_sentence_and_a_hint(cli: Cli, args: list[str], expected: str) -> None:
    result = cli(*args, cwd=GUIDE_CORRECT)
    assert result.code == 2
    assert expected in result.err
    assert result.err.count("\n") == 1, result.err  # one line, no usage dump
    assert "usage:" not in result.err


@pytest.mark.parametrize("url", ["unix:///var/run/docker.sock", "tcp://127.0.0.1:1", "ssh://u@h"])
def test_supported_engine_schemes_pass_the_flag_check(url: str) -> None:
    from doctor.cli import _docker_host_problem

    assert _docker_host_problem(url) is None


def test_doctor_version(cli: Cli) -> None:
    from doctor import __version__

    result = run("doctor", "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"cultivate doctor {__version__}"


def test_broken_pipe_ends_quietly() -> None:
    # `cultivate doctor --list | head -1`: the reader closes the pipe after one line.
    read, write = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from doctor.cli import main; sys.exit(main(['doctor', '--list']))"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write)
    os.close(read)  # nobody reads: the first write meets a closed pipe
    _, err = proc.communicate(timeout=60)
    assert err == ""
    assert proc.returncode == 141


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop to another user")
def test_unreadable_project_directory_is_one_sentence(public_dir: Path) -> None:
    project = public_dir / "project"
    shutil.copytree(GUIDE_CORRECT, project)
    project.chmod(0o700)  # root's: user nobody cannot list it
    result = run("doctor", "--offline", "--project-directory", str(project), user=True, cwd=Path("/"))
    assert result.returncode == 2
    assert result.stderr == f"cultivate doctor: cannot read the project directory {project}: permission denied\n"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop to another user")
def test_unreadable_log_is_an_error_finding_not_a_crash(public_dir: Path) -> None:
    log = public_dir / "postgres.log"
    log.write_text("LOG:  database system is ready to accept connections\n")
    log.chmod(0o600)
    result = run("doctor", "--offline", "--log-file", str(log), "log-signatures", user=True, cwd=Path("/"))
    assert result.returncode == 1
    assert "log-file-unreadable" in result.stdout
    assert "Permission denied" in result.stdout
    assert "1 error(s)" in result.stdout and "crashed" not in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_a_directory_as_log_file_is_one_sentence(cli: Cli, tmp_path: Path) -> None:
    result = cli("--offline", "--log-file", str(tmp_path))
    assert result.code == 2
    assert (
        result.err == f"cultivate doctor: cannot read the log file {tmp_path}: it is a directory, not a regular file\n"
    )


def test_os_error_during_the_run_is_one_sentence(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever input fails after the up-front checks (a file removed meanwhile, an I/O error)
    # ends in a sentence naming it, never "internal error".
    import doctor.runner

    def broken(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied", "/srv/compose.yaml")

    monkeypatch.setattr(doctor.runner, "run_checks", broken)
    result = cli("--offline", cwd=GUIDE_CORRECT)
    assert result.code == 2
    assert result.err == "cultivate doctor: cannot read /srv/compose.yaml: permission denied\n"


def test_names_keep_their_case_in_the_root_cause() -> None:
    from doctor.models import Finding, Status
    from doctor.rootcause import find_root_cause

    for title in (
        "compose.yaml: cannot read the file: Permission denied",
        "db keeps restarting",
        "Backend keeps restarting",
    ):
        cause = find_root_cause([Finding("some-problem", Status.FAIL, title)])
        assert cause is not None
        assert cause.statement == title
    cause = find_root_cause([Finding("some-problem", Status.FAIL, "Cannot reach it")])
    assert cause is not None and cause.statement == "Cannot reach it"


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_script_is_generated_from_the_parser(shell: str) -> None:
    from checks import CHECKS

    result = run("completion", shell)
    assert result.returncode == 0
    for word in ("--offline", "--log-file", "--target-os", "macos", "--format", "markdown", CHECKS[0].ID):
        assert word in result.stdout, word


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_bash_completion_completes_flags_and_choices(tmp_path: Path) -> None:
    script = tmp_path / "c.bash"
    script.write_text(run("completion", "bash").stdout)

    def complete(*words: str) -> set[str]:
        line = " ".join(f"'{w}'" for w in words)
        program = (
            f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _cultivate; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30, check=True)
        return set(out.stdout.split())

    assert complete("cultivate", "do") == {"doctor"}
    assert complete("cultivate", "doctor", "--off") == {"--offline"}
    assert complete("cultivate", "doctor", "--target-os", "") == {"auto", "linux", "macos"}
    assert "socket-mounts" in complete("cultivate", "doctor", "socket-")


@pytest.mark.skipif(not shutil.which("zsh"), reason="needs zsh")
def test_zsh_completion_parses() -> None:
    result = subprocess.run(
        ["zsh", "-n"], input=run("completion", "zsh").stdout, text=True, capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def test_list_as_json(cli: Cli) -> None:
    import json

    from checks import CHECKS

    result = cli("--list", "--format", "json")
    assert result.code == 0
    listed = json.loads(result.out)["checks"]
    assert [c["id"] for c in listed] == [c.ID for c in CHECKS]
    assert all(c["summary"] for c in listed)
