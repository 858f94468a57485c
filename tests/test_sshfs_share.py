"""The lab's real reverse-sshfs share (lab/sshfs.py) and what it makes real components do:
Debian's sshfs in passive mode over a socketpair to OpenSSH's sftp-server running as ``nobody``,
the way Lima mounts a Mac folder for Finch with ``vmType: qemu``. Then the doctor's classifier
and root cause, fed by the log of a real PostgreSQL server whose socket directory is on it."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pwd
import re
import select
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from doctor.logscan import DATA_DIR, SOCKET_FAILED, classify_line, findings_for, scan_lines
from doctor.models import Evidence, Facts, Finding, Remedy, Status
from doctor.rootcause import find_root_cause
from lab.sshfs import ShareError, SshfsShare, is_mounted, why_unavailable
from tests.conftest import Cli, PgServer, give_to_postgres, public_tempdir, require

OWNER = "nobody"  # sftp-server runs as the folder's unprivileged owner, as the Mac user does

Mount = Callable[[], SshfsShare]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _children() -> set[int]:
    """The live child processes of this test process, from /proc (field 4 of stat is the parent)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.add(int(entry))
    return found


def _mounts_of(path: Path) -> list[str]:
    with open("/proc/mounts", encoding="utf-8") as table:
        return [line for line in table if f" {path} " in line]


@pytest.fixture
def share_root() -> Iterator[Path]:
    """A folder holding the share's source (owned by ``nobody``) and its empty mount point."""
    problem = why_unavailable()
    require(problem is None, f"{problem}")
    root = public_tempdir("cd-sshfs-")
    source, mountpoint = root / "source", root / "mnt"
    source.mkdir()
    mountpoint.mkdir()
    owner = pwd.getpwnam(OWNER)
    os.chown(source, owner.pw_uid, owner.pw_gid)
    yield root
    if is_mounted(mountpoint):  # a test failed before its own unmount: never leave a mount behind
        subprocess.run(["fusermount3", "-u", "-z", str(mountpoint)], check=False, capture_output=True, timeout=10)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def sshfs_share(share_root: Path) -> Iterator[Mount]:
    shares: list[SshfsShare] = []

    def mount() -> SshfsShare:
        share = SshfsShare.mount(share_root / "source", share_root / "mnt", user=OWNER)
        shares.append(share)
        return share

    yield mount
    for share in shares:
        share.unmount()


@pytest.mark.sshfs
def test_files_pass_through_as_the_unprivileged_owner(sshfs_share: Mount) -> None:
    share = sshfs_share()
    (share.mountpoint / "note.txt").write_text("from the VM")
    written = share.source / "note.txt"
    assert written.read_text() == "from the VM"
    # Created by sftp-server on the "Mac" side, so it belongs to the folder's owner, not to root.
    assert written.stat().st_uid == pwd.getpwnam(OWNER).pw_uid


@pytest.mark.sshfs
def test_binding_a_unix_socket_on_the_share_is_refused_with_eperm(sshfs_share: Mount) -> None:
    share = sshfs_share()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server, pytest.raises(OSError) as caught:
        server.bind(str(share.mountpoint / ".s.PGSQL.5432"))
    assert (caught.value.errno, caught.value.strerror) == (errno.EPERM, "Operation not permitted")
    assert not (share.source / ".s.PGSQL.5432").exists()


@pytest.mark.sshfs
def test_chown_on_the_share_is_refused(sshfs_share: Mount) -> None:
    """The data-directory case: the postgres image's entrypoint chowns PGDATA and fails here."""
    share = sshfs_share()
    data = share.mountpoint / "data"
    data.mkdir()
    postgres = pwd.getpwnam("postgres")
    with pytest.raises(PermissionError) as caught:
        os.chown(data, postgres.pw_uid, postgres.pw_gid)
    # sftp-server answers SSH_FX_PERMISSION_DENIED, which sshfs turns into EACCES (lima#231 shows
    # the same "Permission denied" from chown on a reverse-sshfs mount).
    assert caught.value.errno == errno.EACCES
    done = subprocess.run(["chown", "postgres", str(data)], check=False, capture_output=True, text=True, timeout=10)
    line = f"chown: changing ownership of '{data}': Permission denied"
    assert (done.returncode, done.stderr.strip()) == (1, line)
    match = classify_line(line)
    assert match is not None and (match.finding, match.cause) == (DATA_DIR, "chown")
    assert (share.source / "data").stat().st_uid == pwd.getpwnam(OWNER).pw_uid


@pytest.fixture
def postgres_on_sshfs(sshfs_share: Mount, request: pytest.FixtureRequest) -> Iterator[PgServer]:
    """A real server (not started) whose socket directory is on the share. Not pg_factory: it
    chowns the socket directory to postgres, which this share refuses, as a Mac folder does."""
    share = sshfs_share()
    # Asked for only now, so a machine without the share skips for that reason first.
    pg_template: Path = request.getfixturevalue("pg_template")
    socket_dir = share.mountpoint / "sock"
    socket_dir.mkdir()  # belongs to nobody; sshfs checks no permissions, sftp-server writes as its owner
    root = public_tempdir("cd-pg-sshfs-")
    give_to_postgres(root)
    subprocess.run(["cp", "-a", str(pg_template), str(root / "data")], check=True, timeout=60)
    server = PgServer(root, root / "data", socket_dir, 5432, root / "postgres.log")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _strip_prefix(line: str) -> str:
    return line.split("] ", 1)[1] if "] " in line else line


@pytest.mark.sshfs
@pytest.mark.postgres
def test_real_postgres_with_its_socket_directory_on_the_share(postgres_on_sshfs: PgServer) -> None:
    server = postgres_on_sshfs.start(wait=False)
    assert server.wait_exit() == 1
    lines = [_strip_prefix(line) for line in server.log_text().splitlines()]
    bind = f'LOG:  could not bind Unix address "{server.socket_dir}/.s.PGSQL.5432": Operation not permitted'
    start = lines.index(bind)
    assert lines[start : start + 3] == [
        bind,
        f'WARNING:  could not create Unix-domain socket in directory "{server.socket_dir}"',
        "FATAL:  could not create any Unix-domain sockets",
    ]


@pytest.fixture
def sshfs_postgres_log(postgres_on_sshfs: PgServer) -> list[str]:
    server = postgres_on_sshfs.start(wait=False)
    server.wait_exit()
    return server.log_text().splitlines()


LIMA_LINES = [  # PostgreSQL 14.7 inside a Lima VM (cachix/devenv#587), as quoted in the fact sheet
    'LOG:  could not bind Unix address "/user/code/api/.devenv/state/postgres/.s.PGSQL.5432": Operation not permitted',
    'WARNING:  could not create Unix-domain socket in directory "/user/code/api/.devenv/state/postgres"',
    "FATAL:  could not create any Unix-domain sockets",
]
NINE_P_LINES = [  # Colima (typelevel/skunk#1192): 9p or virtiofs answer chmod of a socket with EINVAL
    'LOG:  could not set permissions of file "/var/run/postgresql/.s.PGSQL.5432": Invalid argument',
    "FATAL:  could not create any Unix-domain sockets",
]
SSHFS_PHRASE = "bind() is refused on a reverse-sshfs host share (Finch with vmType: qemu)"


@pytest.mark.parametrize(
    ("source", "cause", "phrase"),
    [
        pytest.param(
            "real",
            "reverse-sshfs",
            SSHFS_PHRASE,
            id="real-server-on-sshfs",
            marks=[pytest.mark.sshfs, pytest.mark.postgres],
        ),
        pytest.param(LIMA_LINES, "reverse-sshfs", SSHFS_PHRASE, id="lima-quoted"),
        pytest.param(
            [
                '2026-11-26 09:12:03.001 UTC [7] LOG:  could not bind Unix address "/s/.s.PGSQL.5432": Operation not '
                "permitted",
                "2026-11-26 09:12:03.001 UTC [7] FATAL:  could not create any Unix-domain sockets",
            ],
            "reverse-sshfs",
            SSHFS_PHRASE,
            id="with-timestamps",
        ),
        pytest.param(NINE_P_LINES, "unsupported-fs", "its directory cannot hold sockets", id="9p-einval"),
        pytest.param(
            ['LOG:  could not set permissions of file "/s/.s.PGSQL.5432": Operation not permitted'],
            "unsupported-fs",
            "its directory cannot hold sockets",
            id="virtiofs-chmod-eperm",
        ),
        pytest.param(
            ['LOG:  could not bind Unix address "/s/.s.PGSQL.5432": Permission denied'],
            "permission",
            "permission denied in the socket directory",
            id="eacces-is-not-sshfs",
        ),
    ],
)
def test_the_cause_is_named_from_the_bind_errno(
    source: str | list[str], cause: str, phrase: str, request: pytest.FixtureRequest
) -> None:
    lines = request.getfixturevalue("sshfs_postgres_log") if source == "real" else source
    finding = next(f for f in findings_for(scan_lines(lines, "postgres.log")) if f.id == SOCKET_FAILED)
    assert finding.facts.cause == cause
    assert finding.detail.startswith(f"Cause ({cause}):")
    root = find_root_cause([finding])
    assert root is not None and root.findings == (SOCKET_FAILED,)
    assert phrase in root.statement
    assert ("reverse-sshfs" in root.statement) == (cause == "reverse-sshfs")


def test_the_chain_from_the_file_names_reverse_sshfs_with_its_count() -> None:
    stamped = [
        f"2026-11-26 09:{minute:02d}:03.001 UTC [7] {line}" for minute in (12, 40) for line in LIMA_LINES
    ]  # two start-ups: 2 events, not 6 lines
    logged = next(findings_for(scan_lines(stamped, "database")))
    host_path = Finding(
        "socket-host-path",
        Status.FAIL,
        "The socket directory /var/run/postgresql is the host folder /Users/me/s (database, backend)",
        evidence=(Evidence("compose.yaml:9", "database: - /Users/me/s:/var/run/postgresql"),),
        remedy=Remedy("Mount the named volume db_socket at /var/run/postgresql in every service"),
        facts=Facts(path="/Users/me/s", services=("database", "backend"), origin="compose.yaml:9"),
    )
    root = find_root_cause([logged, host_path])
    assert root is not None
    assert root.statement == (
        "The socket directory is a host folder (compose.yaml:9) → PostgreSQL could not create its socket: "
        f"{SSHFS_PHRASE} (2 times since 2026-11-26 09:12:03.001 UTC)"
    )
    assert root.next_step == "Mount the named volume db_socket at /var/run/postgresql in every service"


@pytest.mark.sshfs
@pytest.mark.postgres
def test_the_cli_names_reverse_sshfs_from_the_real_log(postgres_on_sshfs: PgServer, cli: Cli) -> None:
    server = postgres_on_sshfs.start(wait=False)
    server.wait_exit()
    result = cli("--log-file", str(server.log), "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    finding = next(f for f in report["findings"] if f["id"] == SOCKET_FAILED)
    assert "reverse-sshfs host share (Finch with vmType: qemu)" in finding["title"]
    assert finding["detail"].startswith("Cause (reverse-sshfs):")
    assert report["root_cause"]["statement"].startswith(f"PostgreSQL could not create its socket: {SSHFS_PHRASE}")


# --- nothing left behind ------------------------------------------------------------------------


@pytest.mark.sshfs
@pytest.mark.parametrize(
    "how",
    [
        pytest.param("unmount", id="unmount"),
        pytest.param("context-manager-raises", id="with-block-raises"),
        pytest.param("busy", id="a-file-still-open"),
        pytest.param("sftp-server-killed", id="sftp-server-killed"),
        pytest.param("unmounted-by-hand", id="fusermount3-by-hand"),
    ],
)
def test_nothing_is_left_mounted_or_running(share_root: Path, how: str) -> None:
    mountpoint = share_root / "mnt"
    share = SshfsShare.mount(share_root / "source", mountpoint, user=OWNER)
    pids = share.pids()
    assert is_mounted(mountpoint) and all(_running(pid) for pid in pids)
    if how == "context-manager-raises":
        with pytest.raises(RuntimeError), share:
            (mountpoint / "f").write_text("x")
            raise RuntimeError("a test failed inside the share")
    elif how == "busy":
        held = os.open(mountpoint / "held", os.O_WRONLY | os.O_CREAT, 0o644)
        share.unmount(timeout=2)
        with contextlib.suppress(OSError):  # its filesystem is gone; closing may report that
            os.close(held)
    else:
        if how == "sftp-server-killed":
            share.sftp_server.kill()
        elif how == "unmounted-by-hand":
            subprocess.run(["fusermount3", "-u", str(mountpoint)], check=True, timeout=10)
        share.unmount()
    assert not is_mounted(mountpoint)
    assert _mounts_of(mountpoint) == []
    assert [pid for pid in pids if _running(pid)] == []
    share.unmount()  # twice is harmless


@pytest.mark.sshfs
def test_a_source_owned_by_root_is_refused_and_nothing_starts(share_root: Path) -> None:
    source = share_root / "root-owned"
    source.mkdir()
    before = _children()
    with pytest.raises(ShareError, match="belongs to root; sftp-server must run as an unprivileged user"):
        SshfsShare.mount(source, share_root / "mnt")
    assert not is_mounted(share_root / "mnt")
    assert _children() - before == set()


@pytest.mark.sshfs
def test_a_source_sftp_server_cannot_read_fails_in_one_sentence_and_leaves_nothing(share_root: Path) -> None:
    private = share_root / "private"
    private.mkdir(mode=0o700)  # root's: nobody cannot pass, though it owns the folder inside
    source = private / "inner"
    source.mkdir()
    owner = pwd.getpwnam(OWNER)
    os.chown(source, owner.pw_uid, owner.pw_gid)
    before = _children()
    with pytest.raises(ShareError, match=r"^sshfs (?:could not mount|mounted) .*Permission denied$"):
        SshfsShare.mount(source, share_root / "mnt")
    assert not is_mounted(share_root / "mnt")
    assert _children() - before == set()


@pytest.mark.sshfs
def test_mounting_by_hand_and_stopping_with_sigterm(share_root: Path) -> None:
    mountpoint = share_root / "mnt"
    command = [sys.executable, "-m", "lab.sshfs", str(share_root / "source"), str(mountpoint)]
    repo = Path(__file__).resolve().parent.parent
    with subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 20)  # bounded: never hang on a silent child
            said = process.stdout.readline() if ready else ""
            assert f"is mounted at {mountpoint} over reverse-sshfs (sftp-server as {OWNER}" in said
            pids = [int(pid) for pid in re.findall(r"pid (\d+)", said)]
            assert len(pids) == 2 and all(_running(pid) for pid in pids)
            assert is_mounted(mountpoint)
            process.terminate()
            assert process.wait(20) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
    assert not is_mounted(mountpoint)
    assert [pid for pid in pids if _running(pid)] == []
