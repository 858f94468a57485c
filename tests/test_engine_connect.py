"""Reaching the engine: where, which runtime, and every way it can be unreachable, each within
a few timeouts. The one fake is a socket server that accepts and never answers."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doctor.engine.endpoint import Endpoint, resolve
from doctor.engine.runtime import identify
from doctor.engine.session import EngineUnreachable, connect
from tests.conftest import Cli, CliResult, run_as_nobody, silent_unix_server


@pytest.mark.parametrize(
    ("flag", "environ", "existing", "url", "reason"),
    [
        pytest.param("tcp://h:2375", {"DOCKER_HOST": "unix:///x"}, set(), "tcp://h:2375", "--docker-host", id="flag-first"),
        pytest.param(None, {"DOCKER_HOST": "unix:///x"}, set(), "unix:///x", "DOCKER_HOST", id="env"),
        pytest.param(None, {}, {"/Applications/Finch/lima/data/finch/sock/finch.sock", "/var/run/docker.sock"},
                     "unix:///Applications/Finch/lima/data/finch/sock/finch.sock", "Finch on macOS's default socket", id="finch-mac"),
        pytest.param(None, {}, {"/home/op/.colima/default/docker.sock"}, "unix:///home/op/.colima/default/docker.sock",
                     "Colima's default socket", id="colima"),
        pytest.param(None, {"XDG_RUNTIME_DIR": "/run/user/1000"}, {"/run/user/1000/podman/podman.sock"},
                     "unix:///run/user/1000/podman/podman.sock", "rootless Podman's default socket", id="podman-rootless"),
        pytest.param(None, {"XDG_RUNTIME_DIR": "/run/user/0"}, {"/run/podman/podman.sock"},
                     "unix:///run/podman/podman.sock", "rootful Podman's default socket", id="podman-rootful"),
        pytest.param(None, {}, {"/run/podman/podman.sock", "/var/run/docker.sock"},
                     "unix:///var/run/docker.sock", "Docker's default socket", id="docker-before-rootful-podman"),
        pytest.param(None, {}, set(), "unix:///var/run/docker.sock", "no engine socket found; Docker's default", id="none"),
    ],
)  # fmt: skip
def test_resolve(flag: str | None, environ: dict[str, str], existing: set[str], url: str, reason: str) -> None:
    endpoint = resolve(flag, environ, "/home/op", exists=lambda path: path in existing)
    assert (endpoint.url, endpoint.reason) == (url, reason)


@pytest.mark.parametrize(
    ("cause", "needles"),
    [
        pytest.param("no-socket", ("podman machine start", "systemctl --user start podman.socket"), id="no-socket"),
        pytest.param("refused", ("podman machine start", "systemctl --user start podman.socket"), id="refused"),
        pytest.param("timeout", ("podman machine stop && podman machine start",), id="timeout"),
    ],
)
def test_unreachable_remedies_name_podman(cause: str, needles: tuple[str, ...]) -> None:
    remedy = EngineUnreachable(Endpoint("unix:///run/podman/podman.sock", "x"), cause, "d").remedy
    assert all(needle in remedy for needle in needles), remedy


def test_resolve_reads_the_cli_context(tmp_path: Path) -> None:
    config = tmp_path / ".docker"
    meta = config / "contexts" / "meta" / hashlib.sha256(b"colima").hexdigest()
    meta.mkdir(parents=True)
    (config / "config.json").write_text(json.dumps({"currentContext": "colima"}))
    (meta / "meta.json").write_text(json.dumps({"Endpoints": {"docker": {"Host": "unix:///c.sock"}}}))
    endpoint = resolve(None, {}, str(tmp_path), exists=lambda _: False)
    assert (endpoint.url, endpoint.reason) == ("unix:///c.sock", "the Docker CLI's current context 'colima'")


@pytest.mark.parametrize(
    ("version", "info", "url", "host", "name", "target", "ignores_opts"),
    [
        pytest.param({"Platform": {"Name": "Finch Daemon - 0.12.0"}, "ApiVersion": "1.43"}, {"OperatingSystem": "Amazon Linux 2023"},
                     "unix:///Applications/Finch/lima/data/finch/sock/finch.sock", "macos", "finch", "macos", True, id="finch-mac"),
        pytest.param({"Platform": {"Name": "Finch Daemon - 0.12.0"}}, {}, "unix:///run/finch.sock", "linux", "finch", "linux", True, id="finch-linux"),
        pytest.param({"Platform": {"Name": "Docker Desktop 4.30.0 (149282)"}}, {"OperatingSystem": "Docker Desktop"},
                     "unix:///Users/o/.docker/run/docker.sock", "macos", "docker-desktop", "macos", False, id="docker-desktop"),
        pytest.param({}, {"Name": "colima", "OperatingSystem": "Ubuntu 24.04"}, "unix:///Users/o/.colima/default/docker.sock",
                     "macos", "colima", "macos", False, id="colima"),
        pytest.param({"Components": [{"Name": "Podman Engine"}]}, {"OperatingSystem": "fedora"}, "unix:///run/user/1/podman/podman.sock",
                     "linux", "podman", "linux", False, id="podman"),
        pytest.param({"ApiVersion": "1.41"}, {"OperatingSystem": "Debian GNU/Linux 12 (bookworm)"}, "unix:///var/run/docker.sock",
                     "linux", "docker", "linux", False, id="docker"),
    ],
)  # fmt: skip
def test_identify_runtime(
    version: dict[str, Any],
    info: dict[str, Any],
    url: str,
    host: str,
    name: str,
    target: str,
    ignores_opts: bool,
) -> None:
    runtime = identify(version, info, url, host)
    assert (runtime.name, runtime.target_os, runtime.ignores_driver_opts) == (name, target, ignores_opts)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    from tests.conftest import public_tempdir

    path = public_tempdir("cd-eng-")
    yield path
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def unreachable(url: str, timeout: float = 2) -> EngineUnreachable:
    with pytest.raises(EngineUnreachable) as caught:
        connect(Endpoint(url, "test"), timeout, "linux")
    return caught.value


def test_no_socket(short_dir: Path) -> None:
    assert unreachable(f"unix://{short_dir}/missing.sock").cause == "no-socket"


def test_refused(short_dir: Path) -> None:
    path = short_dir / "stale.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the file stays, nothing listens
    assert unreachable(f"unix://{path}").cause == "refused"


def test_permission_denied(short_dir: Path) -> None:
    path = short_dir / "private.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    path.chmod(0o600)
    try:
        cause = run_as_nobody(lambda: unreachable(f"unix://{path}").cause)
    finally:
        server.close()
    assert cause == "permission"


def test_an_engine_that_never_answers_is_bounded(short_dir: Path, cli: Cli) -> None:
    path = short_dir / "silent.sock"
    project = Path(__file__).resolve().parent / "fixtures" / "compose" / "guide-incorrect"
    args = (
        "--project-directory",
        str(project),
        "--docker-host",
        f"unix://{path}",
        "--timeout",
        "1",
        "--format",
        "json",
    )
    outcome: list[CliResult] = []
    with silent_unix_server(path):
        started = time.monotonic()
        worker = threading.Thread(target=lambda: outcome.append(cli(*args)))
        worker.start()
        worker.join(60)
    assert not worker.is_alive(), "the doctor hung on a silent engine"
    assert time.monotonic() - started < 30
    report = json.loads(outcome[0].out)
    engine = next(f for f in report["findings"] if f["id"] == "engine-unreachable")
    assert "did not answer" in engine["title"]
    assert any(f["id"] == "socket-host-path" for f in report["findings"])  # the file checks still reported


def test_ssh_without_paramiko_says_what_to_install() -> None:
    pytest.importorskip("docker")
    try:
        import paramiko  # noqa: F401
    except ImportError:
        error = unreachable("ssh://user@example.invalid")
        assert error.cause == "ssh"
        assert "paramiko" in error.remedy
    else:
        pytest.skip("paramiko is installed here, so ssh:// is supported")


def test_last_lines_keeps_the_tail_on_this_side() -> None:
    import io

    from doctor.engine.session import last_lines

    stream = io.BufferedReader(io.BytesIO(b"".join(f"line {n}\n".encode() for n in range(10))))
    assert last_lines(stream, 3).read() == b"line 7\nline 8\nline 9\n"
    assert stream.closed
