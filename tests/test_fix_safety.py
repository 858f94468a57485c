"""--fix keeps what the user had (issue 9): owner, group, mode, line endings and byte-order mark
of every rewritten file; all files or none (a folder it may not write is refused before any
write, and a write that still fails restores every file already written); backups that are
never overwritten; a closing message that names each file and its backup."""

from __future__ import annotations

import json
import os
import shutil
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest

from doctor.context import Options, build_context
from doctor.fix import plan_fixes
from doctor.fixwrite import FixConflict, apply
from lab import composev2
from tests.conftest import FIXTURES, Cli, require
from tests.helpers_child import cli_in_child, give_to_nobody, nobody_ids

COMPOSE = FIXTURES / "compose"


def project_copy(root: Path, case: str) -> Path:
    target = root / case
    shutil.copytree(COMPOSE / case, target)
    return target


def fix_json(cli: Cli, directory: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = cli("--project-directory", str(directory), "--offline", "--format", "json", "--fix", "--yes", *extra)
    return result.code, cast("dict[str, Any]", json.loads(result.out)), result.err


def snapshot(directory: Path) -> dict[str, tuple[bytes, int, int, int]]:
    """Every file's bytes, owner, group and mode."""
    found = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            status = path.stat()
            found[str(path.relative_to(directory))] = (
                path.read_bytes(), status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)
            )  # fmt: skip
    return found


def test_root_fixing_another_users_file_keeps_its_owner_group_and_mode(cli: Cli, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "this case is about root rewriting another user's file: run the tests as root")
    directory = project_copy(tmp_path, "guide-incorrect")
    compose = directory / "compose.yaml"
    uid, gid = nobody_ids()
    os.chown(compose, uid, gid)
    compose.chmod(0o640)
    original = compose.read_bytes()
    code, report, _ = fix_json(cli, directory, "--target-os", "macos")
    assert report["fix"]["applied"] is True and code == 0
    assert compose.read_bytes() != original
    (backup,) = (Path(b) for b in report["fix"]["backups"])
    for path in (compose, backup):
        status = path.stat()
        assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (uid, gid, 0o640), path
    assert backup.read_bytes() == original


@pytest.mark.parametrize(
    ("case", "bom"),
    [
        pytest.param("guide-incorrect", False, id="short-syntax-appended-volumes"),
        pytest.param("socket-host-path-long-syntax", False, id="long-syntax-into-volumes-block"),
        pytest.param("fix-top-volumes-null", False, id="null-volumes"),
        pytest.param("fix-odbc-client", True, id="bind-options-removed-with-bom"),
    ],
)
def test_crlf_stays_crlf(cli: Cli, tmp_path: Path, case: str, bom: bool) -> None:
    directory = project_copy(tmp_path, case)
    compose = directory / "compose.yaml"
    original = (b"\xef\xbb\xbf" if bom else b"") + compose.read_bytes().replace(b"\n", b"\r\n")
    compose.write_bytes(original)
    _, report, _ = fix_json(cli, directory, "--target-os", "macos")
    assert report["fix"]["applied"] is True, report["fix"]
    data = compose.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n"), "a bare LF crept into a CRLF file"
    assert b"\r\r" not in data and b"db_socket" in data
    assert data.startswith(b"\xef\xbb\xbf") is bom
    assert Path(report["fix"]["backups"][0]).read_bytes() == original
    if composev2.binary() is not None:
        ok, words = composev2.accepts([Path("compose.yaml")], cwd=directory, env={})
        assert ok, words


def test_two_fixes_in_one_second_never_overwrite_a_backup(tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    compose = directory / "compose.yaml"
    true_original = compose.read_bytes()
    same_second = datetime(2026, 11, 26, 5, 0, 0, tzinfo=timezone.utc)

    def fix_now() -> Path:
        ctx = build_context(Options(project_directory=directory, offline=True, target_os="macos"), environ={})
        plan = plan_fixes(ctx)
        assert plan is not None and plan.changed()
        (applied,) = apply(plan, now=same_second)
        return applied.backup

    first = fix_now()
    edited = true_original.replace(b"# The guide's", b"# Edited again: the guide's")
    compose.write_bytes(edited)  # the user puts a broken file back within the same second
    second = fix_now()
    assert first != second
    assert first.name == "compose.yaml.20261126T050000Z.bak"
    assert first.read_bytes() == true_original
    assert second.read_bytes() == edited


def test_closing_message_names_each_file_and_its_backup(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "fix-two-files")
    _, report, _ = fix_json(cli, directory, "--target-os", "macos")
    fixed = report["fix"]
    assert fixed["files"] == ["compose.override.yaml", "compose.yaml"]
    base, override = sorted(fixed["backups"], key=lambda b: "override" in b)
    assert f"compose.yaml (backup: {base})" in fixed["message"]
    assert f"compose.override.yaml (backup: {override})" in fixed["message"]


def test_symlinked_compose_file_is_edited_where_it_points(cli: Cli, tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "guide-incorrect")
    shared = tmp_path / "shared"
    shared.mkdir()
    (directory / "compose.yaml").rename(shared / "compose.yaml")
    (directory / "compose.yaml").symlink_to(shared / "compose.yaml")
    _, report, _ = fix_json(cli, directory, "--target-os", "macos")
    assert report["fix"]["applied"] is True
    assert (directory / "compose.yaml").is_symlink()
    assert "db_socket" in (shared / "compose.yaml").read_text()
    assert Path(report["fix"]["backups"][0]).parent == shared


def locked_override(root: Path) -> Path:
    """fix-two-files with its override in a folder the unprivileged user may not write, the
    base file and its folder writable: the half-writable multi-file fix."""
    directory = project_copy(root, "fix-two-files")
    locked = directory / "locked"
    locked.mkdir()
    (directory / "compose.override.yaml").rename(locked / "compose.override.yaml")
    give_to_nobody(directory)
    if os.geteuid() == 0:
        os.chown(locked, 0, 0)  # root's folder; the file in it is still nobody's own
    locked.chmod(0o555)
    return directory


def test_half_writable_multi_file_fix_writes_nothing(shared_tmp: Path) -> None:
    directory = locked_override(shared_tmp)
    before = snapshot(directory)
    code, out, err = cli_in_child(
        ["--project-directory", str(directory), "-f", str(directory / "compose.yaml"),
         "-f", str(directory / "locked" / "compose.override.yaml"),
         "--offline", "--target-os", "macos", "--format", "json", "--fix", "--yes"],
        as_nobody=True,
    )  # fmt: skip
    (directory / "locked").chmod(0o755)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("cultivate doctor: Not applied: ")
    assert "locked" in err and "not writable" in err and "nothing was written" in err
    assert "internal error" not in err
    assert json.loads(out)["fix"]["reason"] == "refused"
    assert snapshot(directory) == before  # no file changed, no backup left


def test_a_write_that_fails_after_the_first_file_restores_it(tmp_path: Path) -> None:
    """The kernel's file-size limit fails the second file's write for real (EFBIG), after the
    base file was written: the base file must come back from its backup."""
    directory = project_copy(tmp_path, "fix-two-files")
    override = directory / "compose.override.yaml"
    override.write_text("# " + "padding " * 1000 + "\n" + override.read_text())
    before = snapshot(directory)
    limit = override.stat().st_size + 10  # room for the backup, not for the longer new file
    code, out, err = cli_in_child(
        ["--project-directory", str(directory), "--offline", "--target-os", "macos", "--format", "json",
         "--fix", "--yes"],
        max_file_bytes=limit,
    )  # fmt: skip
    assert code == 2, err
    assert err.count("\n") == 1 and "internal error" not in err
    assert "compose.override.yaml" in err and "compose.yaml was restored from its backup" in err
    after = snapshot(directory)
    backups = [name for name in after if name.endswith(".bak")]
    assert len(backups) == 1 and backups[0].startswith("compose.yaml.")
    assert after[backups[0]][0] == before["compose.yaml"][0]
    assert {k: v for k, v in after.items() if k not in backups} == before
    assert json.loads(out)["fix"]["reason"] == "failed"


def test_fixing_a_file_whose_owner_cannot_be_kept_is_refused(shared_tmp: Path) -> None:
    """An ordinary user who may write a file owned by someone else (group-writable) cannot
    give the replacement that owner back: the fix refuses rather than steal the file."""
    require(os.geteuid() == 0, "needs root to hand the file to another user")
    directory = project_copy(shared_tmp, "guide-incorrect")
    give_to_nobody(directory)
    compose = directory / "compose.yaml"
    _, nogroup = nobody_ids()
    os.chown(compose, 0, nogroup)
    compose.chmod(0o664)
    before = snapshot(directory)
    code, _, err = cli_in_child(
        ["--project-directory", str(directory), "--offline", "--target-os", "macos", "--format", "json",
         "--fix", "--yes"],
        as_nobody=True,
    )  # fmt: skip
    assert code == 2 and "cannot keep the owner 0:" in err and "nothing was written" in err
    assert snapshot(directory) == before


def test_a_file_changed_since_it_was_read_is_a_conflict(tmp_path: Path) -> None:
    directory = project_copy(tmp_path, "fix-two-files")
    ctx = build_context(Options(project_directory=directory, offline=True, target_os="macos"), environ={})
    plan = plan_fixes(ctx)
    assert plan is not None and len(plan.changed()) == 2
    override = directory / "compose.override.yaml"
    override.write_text(override.read_text() + "# edited meanwhile\n")
    before = snapshot(directory)
    with pytest.raises(FixConflict, match=r"compose\.override\.yaml changed on disk"):
        apply(plan)
    assert snapshot(directory) == before  # the base file was not written either
