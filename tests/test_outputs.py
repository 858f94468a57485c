"""-o and --bundle never destroy (issue 9): they write only a new or existing regular file,
through a temporary file renamed in the same folder, and refuse devices, FIFOs, directories,
symbolic links, every input of the run, and (--bundle) an existing archive without --force.
Each refusal is one sentence on stderr and exit 2, and leaves the target exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Cli, require
from tests.helpers_child import cli_in_child, give_to_nobody, nobody_ids

GUIDE_CORRECT = FIXTURES / "compose" / "guide-correct"

PROJECT = """\
services:
  database:
    image: postgres:16
    env_file: ./db.env
    volumes:
      - db_socket:/var/run/postgresql
  reports:
    image: example/reports:1
    env_file:
      - path: ./reports.env
        required: false
    volumes:
      - db_socket:/var/run/postgresql
      - ./odbc.ini:/etc/odbc.ini:ro
volumes:
  db_socket:
    driver: local
"""


def project(root: Path) -> Path:
    """A project whose run reads a Compose file, .env, two env_files, a mounted file and a log."""
    directory = root / "project"
    directory.mkdir()
    (directory / "compose.yaml").write_text(PROJECT)
    (directory / ".env").write_text("TAG=16\n")
    (directory / "db.env").write_text("POSTGRES_DB=app\n")
    (directory / "reports.env").write_text("REPORTS=1\n")
    (directory / "odbc.ini").write_text("[reports]\nServername = /var/run/postgresql\n")
    (directory / "db.log").write_text("LOG:  database system is ready to accept connections\n")
    return directory


def state(path: Path) -> tuple[object, ...]:
    """What must not change: the kind of file, its inode, and a regular file's bytes."""
    status = os.lstat(path)
    data = path.read_bytes() if stat.S_ISREG(status.st_mode) else None
    return stat.S_IFMT(status.st_mode), status.st_ino, data


def make_fifo(directory: Path, name: str) -> Path:
    os.mkfifo(directory / name)
    return directory / name


def make_link(directory: Path, name: str) -> Path:
    (directory / "real.txt").write_text("keep me")
    (directory / name).symlink_to(directory / "real.txt")
    return directory / name


def make_dir(directory: Path, name: str) -> Path:
    (directory / name).mkdir()
    return directory / name


def make_device(directory: Path, name: str) -> Path:
    """A character device node named like an archive (the same device as /dev/null)."""
    try:
        os.mknod(directory / name, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        require(False, "creating a device node needs root (CAP_MKNOD)")
    return directory / name


def hard_link(directory: Path, name: str) -> Path:
    os.link(directory / "compose.yaml", directory / name)
    return directory / name


Target = Callable[[Path], Path]
OUTPUT_TARGETS = [
    pytest.param(lambda d: Path("/dev/null"), "character device", id="dev-null"),
    pytest.param(lambda d: make_fifo(d, "report.fifo"), "FIFO", id="fifo"),
    pytest.param(lambda d: make_dir(d, "reports"), "directory", id="directory"),
    pytest.param(lambda d: make_link(d, "report.txt"), "symbolic link", id="symlink"),
    pytest.param(lambda d: d / "compose.yaml", "a Compose file of this run", id="compose-file"),
    pytest.param(lambda d: hard_link(d, "report.txt"), "a Compose file of this run", id="hard-link-to-compose"),
    pytest.param(lambda d: d / ".env", "the .env file of this run", id="dotenv"),
    pytest.param(lambda d: d / "db.env", "an env_file of this run", id="env-file"),
    pytest.param(lambda d: d / "reports.env", "an env_file of this run", id="env-file-long-syntax"),
    pytest.param(lambda d: d / "db.log", "a --log-file of this run", id="log-file"),
    pytest.param(lambda d: d / "odbc.ini", "a file reports mounts", id="mounted-file"),
    pytest.param(lambda d: d / "no" / "such" / "report.txt", "does not exist", id="missing-folder"),
    pytest.param(lambda d: d / "db.env" / "report.txt", "is not a directory", id="folder-is-a-file"),
]


def refused(code: int, err: str, words: str) -> None:
    assert code == 2, err
    assert err.startswith("cultivate doctor: ") and err.count("\n") == 1, err
    assert words in err
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize(("make", "words"), OUTPUT_TARGETS)
def test_output_refuses(cli: Cli, tmp_path: Path, make: Target, words: str) -> None:
    directory = project(tmp_path)
    target = make(directory)
    before = state(target) if os.path.lexists(target) else None
    result = cli("--project-directory", str(directory), "--offline", "--log-file", str(directory / "db.log"),
                 "-o", str(target))  # fmt: skip
    refused(result.code, result.err, words)
    assert (state(target) if os.path.lexists(target) else None) == before
    if words == "symbolic link":
        assert (directory / "real.txt").read_text() == "keep me"


BUNDLE_TARGETS = [
    pytest.param(lambda d: make_device(d, "ticket.tar.gz"), "character device", id="device"),
    pytest.param(lambda d: make_fifo(d, "ticket.tar.gz"), "FIFO", id="fifo"),
    pytest.param(lambda d: make_dir(d, "ticket.tar.gz"), "directory", id="directory"),
    pytest.param(lambda d: make_link(d, "ticket.tar.gz"), "symbolic link", id="symlink"),
    pytest.param(lambda d: hard_link(d, "ticket.tar.gz"), "a Compose file of this run", id="hard-link-to-compose"),
    pytest.param(lambda d: d / "no" / "ticket.tar.gz", "does not exist", id="missing-folder"),
]


@pytest.mark.parametrize(("make", "words"), BUNDLE_TARGETS)
def test_bundle_refuses(cli: Cli, tmp_path: Path, make: Target, words: str) -> None:
    directory = project(tmp_path)
    target = make(directory)
    before = state(target) if os.path.lexists(target) else None
    # --force allows replacing an archive, never a device, a link or an input.
    result = cli("--project-directory", str(directory), "--offline", "--bundle", str(target), "--force")
    refused(result.code, result.err, words)
    assert (state(target) if os.path.lexists(target) else None) == before


def test_existing_bundle_needs_force(cli: Cli, tmp_path: Path) -> None:
    archive = tmp_path / "ticket.tar.gz"
    archive.write_bytes(b"an earlier bundle")
    args = ("--project-directory", str(GUIDE_CORRECT), "--offline", "--bundle", str(archive))
    result = cli(*args)
    refused(result.code, result.err, "--force")
    assert archive.read_bytes() == b"an earlier bundle"
    result = cli(*args, "--force")
    assert result.code == 0, result.err
    with tarfile.open(archive) as bundle:
        assert "ticket/report.json" in bundle.getnames()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ticket.tar.gz"]  # no temporary file left


def test_force_goes_with_bundle(cli: Cli) -> None:
    result = cli("--project-directory", str(GUIDE_CORRECT), "--offline", "--force")
    refused(result.code, result.err, "--force goes with --bundle")


def test_output_and_bundle_must_differ(cli: Cli, tmp_path: Path) -> None:
    same = str(tmp_path / "x.tar.gz")
    result = cli("--project-directory", str(GUIDE_CORRECT), "--offline", "--bundle", same, "-o", same)
    refused(result.code, result.err, "the same file")
    assert not Path(same).exists()


@pytest.mark.parametrize("flag", ["-o", "--bundle"])
def test_a_folder_it_may_not_write_is_one_sentence(shared_tmp: Path, flag: str) -> None:
    """As an ordinary user, a folder owned by root: exit 2 and a sentence, never PermissionError."""
    directory = shutil.copytree(GUIDE_CORRECT, shared_tmp / "project")  # readable by nobody, unlike the checkout
    locked = shared_tmp / "locked"
    locked.mkdir()
    give_to_nobody(shared_tmp)
    if os.geteuid() == 0:
        os.chown(locked, 0, 0)
    locked.chmod(0o555)
    code, _, err = cli_in_child(
        ["--project-directory", str(directory), "--offline", flag, str(locked / "out.tar.gz")], as_nobody=True
    )
    locked.chmod(0o755)
    refused(code, err, "is not writable")
    assert list(locked.iterdir()) == []


def test_a_replaced_report_keeps_owner_group_and_mode(cli: Cli, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "needs root to hand the report to another user")
    report = tmp_path / "report.json"
    report.write_text("old")
    uid, gid = nobody_ids()
    os.chown(report, uid, gid)
    report.chmod(0o640)
    result = cli("--project-directory", str(GUIDE_CORRECT), "--offline", "--format", "json", "-o", str(report))
    assert result.code == 0, result.err
    assert json.loads(report.read_text())["status"] == "ok"
    status = report.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (uid, gid, 0o640)


def test_refused_output_stops_the_run_before_fix_writes(cli: Cli, tmp_path: Path) -> None:
    """-o onto the Compose file with --fix: refused before anything is written."""
    directory = project(tmp_path)
    (directory / "compose.yaml").write_text(
        PROJECT.replace("db_socket:/var/run/postgresql", "./sock:/var/run/postgresql")
    )
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    result = cli(
        "--project-directory", str(directory), "--offline", "--fix", "--yes", "-o", str(directory / "compose.yaml")
    )
    refused(result.code, result.err, "a Compose file of this run")
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
