"""Bounded input: a FIFO, a device, a directory or a NUL byte wherever a Compose file or a flag
points is one clear sentence (flags: exit 2) or a finding, never a hang, a MemoryError or an
internal error; numeric flags refuse overflow."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from doctor import safeio
from tests.conftest import Cli

DB = "services:\n  db:\n    image: postgres:16\n"

# The ``watchdog`` fixture: arm it on a FIFO that a hung reader would block on.
Watchdog = Callable[[Path], None]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.fixture
def watchdog() -> Iterator[Watchdog]:
    """A FIFO that blocks would hang the test run: fail it instead, by writing to the FIFO."""
    timers: list[threading.Timer] = []

    def arm(path: Path) -> None:
        def unblock() -> None:
            with open(path, "w") as stream:  # lets a blocked reader go on; the test then fails
                stream.write("hung\n")

        timer = threading.Timer(20, unblock)
        timer.daemon = True
        timer.start()
        timers.append(timer)

    yield arm
    for timer in timers:
        timer.cancel()


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        pytest.param(lambda p: safeio.read_bytes(p, 100), "FIFO", id="read_bytes"),
        pytest.param(safeio.open_regular, "FIFO", id="open_regular"),
    ],
)
def test_a_fifo_is_refused_without_blocking(
    fifo: Path, watchdog: Watchdog, reader: Callable[[Path], object], expected: str
) -> None:
    watchdog(fifo)
    with pytest.raises(safeio.UnsafeInput, match=expected):
        reader(fifo)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/dev/zero", "character device", id="dev-zero"),
        pytest.param("/", "directory", id="directory"),
        pytest.param("bad\0name", "NUL byte", id="nul"),
        pytest.param("/no/such/file", "No such file", id="missing"),
    ],
)
def test_non_regular_paths_are_refused(path: str, expected: str) -> None:
    with pytest.raises(safeio.UnsafeInput, match=expected):
        safeio.read_bytes(path, 1024)


def test_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(safeio.UnsafeInput, match="over the limit"):
        safeio.read_bytes(path, 1024)
    assert safeio.read_bytes(path, 2048) == b"x" * 2048


@pytest.mark.parametrize("flag", ["-f", "--env-file", "--log-file"])
@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_flag_pointing_at_a_fifo_or_device_is_one_sentence_exit_2(
    cli: Cli, tmp_path: Path, fifo: Path, watchdog: Watchdog, flag: str, target: str
) -> None:
    watchdog(fifo)
    (tmp_path / "compose.yaml").write_text(DB)
    path = str(fifo) if target == "fifo" else target
    result = cli("--project-directory", str(tmp_path), "--offline", flag, path)
    assert result.code == 2
    assert "not a regular file" in result.err and "internal error" not in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "env_file",
    [pytest.param("pipe", id="fifo"), pytest.param("/dev/zero", id="dev-zero"), pytest.param("\\0", id="nul")],
)
def test_env_file_that_cannot_be_read_is_a_finding(
    cli: Cli, tmp_path: Path, fifo: Path, watchdog: Watchdog, env_file: str
) -> None:
    watchdog(fifo)
    (tmp_path / "compose.yaml").write_text(DB + f'    env_file: ["{env_file}"]\n')
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json")
    assert result.code == 1 and "internal error" not in result.err
    invalid = [f for f in json.loads(result.out)["findings"] if f["id"] == "compose-invalid"]
    assert invalid and "env_file" in invalid[0]["title"]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("pipe", "it is a FIFO (named pipe), not a regular file"),
        ("/dev/zero", "it is a character device, not a regular file"),
        ("big.conf", "it is 1.1 MiB, over the limit of 1.0 MiB"),
    ],
)
def test_bind_mounted_conf_that_is_a_fifo_or_device_is_not_read(
    cli: Cli, tmp_path: Path, fifo: Path, watchdog: Watchdog, target: str, reason: str
) -> None:
    watchdog(fifo)
    (tmp_path / "big.conf").write_bytes(b"# padding\n" * 120_000)
    source = target if target.startswith("/") else f"./{target}"
    (tmp_path / "compose.yaml").write_text(
        DB + f"    command: postgres -c config_file=/etc/postgresql/postgresql.conf\n"
        f"    volumes:\n      - {source}:/etc/postgresql/postgresql.conf\n"
    )
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json")
    assert result.code == 0 and "internal error" not in result.err
    (unread,) = [f for f in json.loads(result.out)["findings"] if f["id"] == "file-unreadable"]
    assert unread["status"] == "info"
    assert unread["title"].endswith(f", bind-mounted into db, is not read: {reason}"), unread["title"]


def test_a_regular_conf_file_is_read_and_not_reported(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "pg.conf").write_text("unix_socket_directories = '/tmp/sockets'\n")
    (tmp_path / "compose.yaml").write_text(
        DB + "    command: postgres -c config_file=/etc/postgresql/postgresql.conf\n"
        "    volumes:\n      - ./pg.conf:/etc/postgresql/postgresql.conf\n"
    )
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json")
    assert "file-unreadable" not in result.out


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--since", "1e400m"], id="since-overflow"),
        pytest.param(["--since", "nanm"], id="since-nan"),
        pytest.param(["--since", "-5m"], id="since-negative"),
        pytest.param(["--since", "99999999999999999999999"], id="since-huge-epoch"),
        pytest.param(["--log-lines", "99999999999999999999999"], id="log-lines-huge"),
        pytest.param(["--timeout", "nan"], id="timeout-nan"),
        pytest.param(["--timeout", "inf"], id="timeout-inf"),
        pytest.param(["--port", "1e400"], id="port-float"),
        pytest.param(["-o", "a\0b"], id="output-nul"),
    ],
)
def test_numeric_and_path_flags_refuse_overflow(cli: Cli, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "compose.yaml").write_text(DB)
    result = cli("--project-directory", str(tmp_path), "--offline", *args)
    assert result.code == 2
    assert "Traceback" not in result.err and "internal error" not in result.err


def test_a_sane_since_still_works(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(DB)
    result = cli("--project-directory", str(tmp_path), "--offline", "--since", "10m")
    assert result.code == 0, result.out


@pytest.mark.parametrize("kind", ["fifo", "big"])
def test_a_dotenv_that_cannot_be_read_is_a_finding(cli: Cli, tmp_path: Path, watchdog: Watchdog, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(tmp_path / ".env")
        watchdog(tmp_path / ".env")
    else:
        (tmp_path / ".env").write_bytes(b"# padding\n" * 120_000)
    (tmp_path / "compose.yaml").write_text(DB)
    result = cli("--project-directory", str(tmp_path), "--offline", "--format", "json")
    assert "internal error" not in result.err
    unread = [f for f in json.loads(result.out)["findings"] if f["id"] == "file-unreadable"]
    assert len(unread) == 1 and ".env" in unread[0]["title"]


def test_an_env_file_flag_over_the_cap_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(DB)
    (tmp_path / "big.env").write_bytes(b"A=1\n" * 300_000)
    result = cli("--project-directory", str(tmp_path), "--offline", "--env-file", str(tmp_path / "big.env"))
    assert result.code == 2 and "over the limit" in result.err
