"""Bundles that can be re-read and compared: --bundle then --from-bundle reproduces the findings
and the fingerprint; `cultivate diff` between a broken and a fixed run; a bad archive is one
sentence and exit 2, never extracted outside memory."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from tests.conftest import FIXTURES, REPO, Cli

EXAMPLE = REPO / "examples" / "macos-host-socket"


def make_bundle(cli: Cli, tmp_path: Path, project: Path, name: str, *extra: str) -> tuple[Path, dict[str, Any]]:
    archive = tmp_path / f"{name}.tar.gz"
    result = cli("--project-directory", str(project), "--target-os", "macos", "--offline", "--format", "json",
                 "--bundle", str(archive), *extra)  # fmt: skip
    assert f"cultivate doctor: wrote the bundle {archive} (" in result.err
    return archive, cast("dict[str, Any]", json.loads(result.out))


@pytest.mark.parametrize(
    ("project", "extra"),
    [
        pytest.param(EXAMPLE, ["--log-file", str(EXAMPLE / "logs" / "database.log"), "--log-file", str(EXAMPLE / "logs" / "backend.log")], id="quick-start-with-logs"),
        pytest.param(FIXTURES / "compose" / "guide-correct", [], id="correct"),
        pytest.param(FIXTURES / "compose" / "socket-volume-mismatch-fail", [], id="mismatch"),
    ],
)  # fmt: skip
def test_round_trip_gives_the_same_findings_and_fingerprint(
    cli: Cli, tmp_path: Path, project: Path, extra: list[str]
) -> None:
    archive, original = make_bundle(cli, tmp_path, project, "ticket", *extra)
    result = cli("--from-bundle", str(archive), "--format", "json")
    again = json.loads(result.out)
    assert again["fingerprint"] == original["fingerprint"]

    def key(report: dict[str, Any]) -> list[tuple[str, str, str]]:
        return sorted((f["check"], f["id"], f["status"]) for f in report["findings"])

    assert key(again) == key(original)
    assert again["status"] == original["status"]
    # The recorded findings keep their facts, so the root cause is rebuilt, never re-read from titles.
    assert again["root_cause"] == original["root_cause"]

    def facts(report: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted((f["id"], json.dumps(f["facts"], sort_keys=True)) for f in report["findings"])

    assert facts(again) == facts(original)
    assert "ran again from the bundle's files: compose-file, socket-mounts" in result.err
    # stack-placement needs to know whether the engine runs a stack, so it is recorded too
    assert "recorded evidence: stack-placement, engine," in result.err


def test_the_bundle_records_the_command_line_and_options(cli: Cli, tmp_path: Path) -> None:
    archive, _ = make_bundle(cli, tmp_path, EXAMPLE, "ticket")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("ticket/run.json")
        assert member is not None
        run = json.loads(member.read())
    assert run["command_line"].startswith("cultivate doctor --project-directory ")
    assert "--bundle" in run["command_line"]
    assert run["options"]["target_os"] == "macos" and run["options"]["offline"] is True


def test_diff_between_a_broken_and_a_fixed_run(cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from doctor.cli import main

    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    before, _ = make_bundle(cli, tmp_path, broken, "before")
    assert cli("--project-directory", str(broken), "--target-os", "macos", "--offline", "--fix", "--yes").code == 0
    after, _ = make_bundle(cli, tmp_path, broken, "after")
    assert main(["diff", str(before), str(after)]) == 1
    out = capsys.readouterr().out
    assert "- disappeared  socket-host-path (fail)" in out
    assert "~ changed      data-volume-strategy: warn → ok" in out
    assert "+ mount        backend: volume db_socket:/var/run/postgresql" in out
    assert "- mount        database: bind /Users/username/cultivate/socket:/var/run/postgresql" in out
    assert main(["diff", str(after), str(after)]) == 0
    assert "no finding appeared, disappeared or changed status" in capsys.readouterr().out


def test_diff_of_two_json_reports(cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from doctor.cli import main

    paths = []
    for name, project in (
        ("a", FIXTURES / "compose" / "guide-incorrect"),
        ("b", FIXTURES / "compose" / "guide-correct"),
    ):
        path = tmp_path / f"{name}.json"
        cli(
            "--project-directory",
            str(project),
            "--target-os",
            "macos",
            "--offline",
            "--format",
            "json",
            "-o",
            str(path),
        )
        paths.append(str(path))
    assert main(["diff", *paths]) == 1
    out = capsys.readouterr().out
    assert "status: fail → ok" in out and "socket-host-path" in out and "mounts: not compared" in out


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda p: (p.write_bytes(b"not gzip"), p)[1], "is not a readable .tar.gz bundle", id="not-gzip"),
        pytest.param(lambda p: _tar(p, [(_member("t/../../etc/x"), b"x")]), "unsafe name", id="traversal"),
        pytest.param(lambda p: _tar(p, [(_member("/etc/x"), b"x")]), "unsafe name", id="absolute"),
        pytest.param(lambda p: _tar(p, [(_member("t/other.txt"), b"x")]), "has no report.json", id="no-report"),
        pytest.param(lambda p: _tar(p, [(_member("t/report.json", tarfile.SYMTYPE, "/etc/passwd"), b"")]), "has no report.json", id="symlink-ignored"),
        pytest.param(lambda p: _tar(p, [(_member("t/report.json"), b"\xff\xfe")]), "not UTF-8", id="binary"),
        pytest.param(lambda p: _tar(p, [(_member("t/report.json"), b"{}")]), "cannot read", id="empty-report"),
        pytest.param(lambda p: p.parent, "is a directory", id="directory"),
    ],
)  # fmt: skip
def test_a_bad_bundle_is_one_sentence(cli: Cli, tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    path = make(tmp_path / "bad.tar.gz")
    result = cli("--from-bundle", str(path))
    assert result.code == 2
    assert message in result.err and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "etc").exists()


def test_the_report_never_replaces_the_bundle_it_reads(cli: Cli, tmp_path: Path) -> None:
    archive, _ = make_bundle(cli, tmp_path, EXAMPLE, "ticket")
    before = archive.read_bytes()
    result = cli("--from-bundle", str(archive), "-o", str(archive))
    assert result.code == 2 and "-o names the bundle being read" in result.err
    assert archive.read_bytes() == before


@pytest.mark.parametrize(
    ("recorded", "statement"),
    [
        pytest.param({}, "compose.yaml:2: services must be a mapping, not a list", id="before-facts"),
        pytest.param({"facts": {"origin": "compose.yaml:2"}}, "A Compose file that Docker Compose v2 refuses (compose.yaml:2)",
                     id="with-facts"),
    ],
)  # fmt: skip
def test_a_bundle_from_before_facts_keeps_its_recorded_wording(recorded: dict[str, object], statement: str) -> None:
    from doctor.readback import finding_from_dict
    from doctor.rootcause import find_root_cause

    data = {
        "id": "compose-invalid",
        "status": "fail",
        "title": "compose.yaml:2: services must be a mapping, not a list",
    }
    cause = find_root_cause([finding_from_dict({**data, **recorded})])
    assert cause is not None and cause.statement == statement
