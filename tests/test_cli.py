"""The command line: exit codes, usage errors without tracebacks, formats and output files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, Cli

GUIDE_INCORRECT = FIXTURES / "compose" / "guide-incorrect"
GUIDE_CORRECT = FIXTURES / "compose" / "guide-correct"


def test_no_input_exits_2_and_says_where_it_looked(cli: Cli, tmp_path: Path) -> None:
    result = cli("--project-directory", str(tmp_path))
    assert result.code == 2
    assert str(tmp_path) in result.err
    assert "compose.yaml" in result.err and "--log-file" in result.err
    assert result.out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["-f", "missing.yaml"], "does not exist", id="missing-file"),
        pytest.param(["--log-file", "/no/such/log"], "does not exist", id="missing-log"),
        pytest.param(["--env-file", "/no/such/env"], "does not exist", id="missing-env-file"),
        pytest.param(["--project-directory", "/no/such/dir"], "does not exist", id="missing-dir"),
        pytest.param(["no-such-check"], "unknown check", id="unknown-check"),
        pytest.param(["--frobnicate"], "unrecognized argument --frobnicate;", id="unknown-flag"),
        pytest.param(["--port", "99999"], "outside 1-65535", id="bad-port"),
        pytest.param(["--timeout", "abc"], "not a number", id="bad-timeout"),
        pytest.param(["--format", "xml"], "invalid choice", id="bad-format"),
    ],
)
def test_usage_errors_exit_2_with_one_message(cli: Cli, args: list[str], message: str) -> None:
    result = cli(*args, cwd=GUIDE_CORRECT)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("directory", "extra", "code"),
    [
        pytest.param(GUIDE_CORRECT, [], 0, id="healthy"),
        pytest.param(GUIDE_INCORRECT, ["--target-os", "macos"], 1, id="fail"),
        pytest.param(GUIDE_INCORRECT, ["--target-os", "linux"], 0, id="warn-only"),
        pytest.param(GUIDE_INCORRECT, ["--target-os", "linux", "--strict"], 1, id="warn-strict"),
    ],
)
def test_exit_codes(cli: Cli, directory: Path, extra: list[str], code: int) -> None:
    assert cli("--project-directory", str(directory), "--offline", *extra).code == code


def test_json_schema(cli: Cli) -> None:
    result = cli("--project-directory", str(GUIDE_INCORRECT), "--target-os", "macos", "--format", "json", "--offline")
    report = json.loads(result.out)
    assert report["schema"] == 2
    assert set(report) == {
        "schema", "tool", "generated_at", "command_line", "target", "status", "fingerprint", "root_cause", "summary", "findings", "fix",
    }  # fmt: skip
    assert report["fix"] is None
    assert report["root_cause"]["findings"][0] == "socket-host-path"
    assert report["root_cause"]["next_step"].startswith("Mount the named volume db_socket")
    assert set(report["target"]) >= {"os", "runtime", "project", "compose_files", "project_directory"}
    assert report["target"]["project"] == "guide-incorrect"
    assert report["status"] == "fail"
    assert report["summary"]["fail"] == sum(f["status"] == "fail" for f in report["findings"])
    finding = next(f for f in report["findings"] if f["id"] == "socket-host-path")
    assert set(finding) == {"id", "check", "status", "title", "detail", "evidence", "remedy", "duration_ms", "facts"}
    assert finding["check"] == "socket-mounts"
    assert finding["facts"] == {
        "services": ["database", "backend"],
        "path": "/Users/username/cultivate/socket",
        "volume": "db_socket",
        "origin": "compose.yaml:6",
    }
    assert set(finding["remedy"]) == {"summary", "diff", "steps", "verify"}
    assert "finch volume inspect guide-incorrect_db_socket" in finding["remedy"]["verify"]
    recreate = "finch compose -p guide-incorrect up -d --force-recreate"
    assert {"command": recreate, "stops_service": True, "moves_data": False} in finding["remedy"]["steps"]
    assert {f["status"] for f in report["findings"]} <= {"ok", "info", "warn", "fail", "skip", "error"}


def test_engine_offline_and_unreachable(cli: Cli, tmp_path: Path) -> None:
    missing = f"unix://{tmp_path}/no-engine.sock"
    args = ("--project-directory", str(GUIDE_CORRECT), "--format", "json")
    online = json.loads(cli(*args, "--docker-host", missing).out)
    offline = json.loads(cli(*args, "--offline").out)
    engine = [next(f for f in r["findings"] if f["check"] == "engine") for r in (online, offline)]
    assert [(f["id"], f["status"]) for f in engine] == [("engine-unreachable", "warn"), ("engine", "skip")]
    assert "no engine socket" in engine[0]["title"] and "--offline" in engine[1]["title"]
    live = {"engine-volumes", "containers", "container-logs", "socket-vantage"}
    assert {f["check"] for f in online["findings"] if f["status"] == "skip"} >= live


def test_markdown_report(cli: Cli) -> None:
    result = cli("--project-directory", str(GUIDE_INCORRECT), "--target-os", "macos", "--format", "markdown")
    text = result.out
    assert text.startswith("# cultivate doctor report: FAIL")
    assert "| Project | guide-incorrect |" in text
    assert "`socket-host-path`" in text
    assert "```diff\n--- a/compose.yaml" in text


def test_output_file_is_written_atomically(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    result = cli("--project-directory", str(GUIDE_CORRECT), "--format", "json", "--offline", "-o", str(target))
    assert result.code == 0 and result.out == ""
    assert json.loads(target.read_text())["status"] == "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_unwritable_output_is_a_usage_error(cli: Cli) -> None:
    result = cli("--project-directory", str(GUIDE_CORRECT), "-o", "/no/such/dir/report.txt")
    assert result.code == 2 and "cannot write" in result.err


def test_list_and_single_check(cli: Cli) -> None:
    listing = cli("--list").out
    assert "socket-mounts" in listing and "log-signatures" in listing
    result = cli("--project-directory", str(GUIDE_INCORRECT), "--format", "json", "socket-mounts")
    assert {f["check"] for f in json.loads(result.out)["findings"]} == {"socket-mounts"}


def test_log_file_alone_is_enough(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "db.log"
    log.write_text("FATAL:  could not create any Unix-domain sockets\n")
    result = cli("--log-file", str(log), "--format", "json", cwd=tmp_path)
    report = json.loads(result.out)
    assert result.code == 1
    assert {f["id"] for f in report["findings"] if f["status"] == "fail"} == {"log-socket-create-failed"}


def test_log_from_stdin(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "doctor", "--log-file", "-", "--format", "json"],
        input=b"Error: P1001: Can't reach database server at `/var/run/postgresql`:`5432`\n",
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "log-backend-cannot-connect" in done.stdout.decode()


def test_python_dash_m_and_console_script_agree(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    args = ["--project-directory", str(GUIDE_CORRECT), "--format", "json"]
    module = subprocess.run(
        [sys.executable, "-m", "doctor", *args], capture_output=True, cwd=REPO, env=env, timeout=60, check=False
    )
    script = subprocess.run(
        ["cultivate", "doctor", *args], capture_output=True, cwd=tmp_path, env=env, timeout=60, check=False
    )
    assert module.returncode == script.returncode == 0

    def strip(out: bytes) -> dict[str, object]:
        return {k: v for k, v in json.loads(out).items() if k not in ("generated_at", "findings")}

    assert strip(module.stdout) == strip(script.stdout)


BAD_INPUTS = {
    "syntax.yaml": b"services:\n  db: [\n",
    "alias-bomb.yaml": (
        "a: &a [x,x,x,x,x,x,x,x,x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{','.join('*' + chr(97 + i) for _ in range(9))}]\n" for i in range(8)
        )
    ).encode(),
    "binary.yaml": bytes(range(256)) * 4,
    "wrong-types.yaml": b"services:\n  db:\n    volumes: 3\n    environment: 4\n    command: {a: 1}\n    depends_on: 5\nvolumes: [1]\n",
    "scalar.yaml": b"just a string\n",
    "empty.yaml": b"",
    "required.yaml": b"services:\n  db:\n    image: ${IMAGE:?IMAGE must be set}\n",
    "bad-interpolation.yaml": b"services:\n  db:\n    image: ${IMAGE\n",
    "null-service.yaml": b"services:\n  db:\n",
    "weird-volumes.yaml": b"services:\n  db:\n    image: postgres\n    volumes:\n      - a:b:c:d\n      - relative:target\n      - {type: weird, target: /x}\n      - {type: bind, target: /y}\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_compose_input_never_gives_a_traceback(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(BAD_INPUTS[name])
    done = subprocess.run(
        [sys.executable, "-m", "doctor", "-f", name, "--format", "json"],
        capture_output=True, cwd=tmp_path, timeout=30, check=False, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert "Traceback" not in done.stderr.decode()
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert not [f for f in report["findings"] if f["status"] == "error"]
    failed = {f["id"] for f in report["findings"] if f["status"] == "fail"}
    # Compose interpolates first: an unset required image stops it before the blank image does.
    assert failed == ({"compose-variable-required"} if name == "required.yaml" else {"compose-invalid"})


def test_huge_compose_file(tmp_path: Path, cli: Cli) -> None:
    with (tmp_path / "compose.yaml").open("wb") as stream:
        stream.truncate(50 * 1024 * 1024)
    result = cli("--format", "json", cwd=tmp_path)
    assert result.code == 1
    (invalid,) = [f for f in json.loads(result.out)["findings"] if f["id"] == "compose-invalid"]
    assert invalid["status"] == "fail"
    assert invalid["title"].endswith("it is 50.0 MiB, over the limit of 4.0 MiB"), invalid["title"]


def test_an_internal_error_is_one_paragraph_not_a_traceback(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import doctor.context

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(doctor.context, "build_context", broken)
    result = cli("--project-directory", str(GUIDE_CORRECT))
    assert result.code == 2
    assert "internal error: RuntimeError: simulated bug" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_control_characters_never_reach_a_report(cli: Cli, tmp_path: Path, output_format: str) -> None:
    # A NUL in an env_file name (and an escape sequence in a path) is shown escaped, never raw.
    (tmp_path / "compose.yaml").write_text(
        'services:\n  db:\n    image: postgres:16\n    env_file: "\\0"\n'
        '    volumes:\n      - "./s\\e[31m:/var/run/postgresql"\n'
    )
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", output_format)
    assert result.code == 1
    assert "\x00" not in result.out and "\x1b" not in result.out
    assert "\\x00" in result.out.replace("\\\\", "\\")
