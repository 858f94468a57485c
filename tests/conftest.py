"""Shared fixtures: real PostgreSQL servers started with initdb/postgres, the FUSE host share,
and a helper that runs the CLI in-process. Tests that need a missing component skip with the
reason on a laptop, and fail in CI (CI=true), where everything must run."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

import hypothesis
import pytest


def _installed_package_first() -> None:
    """The suite tests what users install: the wheel in site-packages, not this source tree.

    ``python -m pytest`` and pytest's rootdir insertion put the repository root first on
    ``sys.path``, where ``doctor/`` and ``checks/`` would shadow the installed package. Moving
    site-packages ahead keeps ``lab`` and ``tests`` (never installed) importable from the tree
    while ``doctor`` and ``checks`` come from the installed distribution when there is one."""
    import sys
    import sysconfig

    purelib = sysconfig.get_paths()["purelib"]
    if purelib in sys.path:
        sys.path.remove(purelib)
    sys.path.insert(0, purelib)


_installed_package_first()

# Bind both top-level packages now: pytest later puts the repository root back in front while it
# collects test modules, and a package first imported after that would come from the tree.
import checks  # noqa: E402, F401
from doctor.cli import main  # noqa: E402

if TYPE_CHECKING:
    from lab.scenarios import Share

IN_CI = os.environ.get("CI") == "true"

# CI explores the same examples on every run, so a landing never hangs on a new random draw;
# locally hypothesis draws fresh examples (and replays failures from .hypothesis/).
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    hypothesis.settings.load_profile("ci")
REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Compose fixtures whose failure the remedy diff (and --fix) repairs: (case, finding id).
FIXABLE = [
    pytest.param("guide-incorrect", "socket-host-path", id="guide-incorrect"),
    pytest.param("socket-host-path-fail", "socket-host-path", id="host-path"),
    pytest.param("socket-host-path-long-syntax", "socket-host-path", id="host-path-long-syntax"),
    pytest.param("socket-host-path-override", "socket-host-path", id="host-path-override"),
    pytest.param("socket-host-path-interpolated", "socket-host-path", id="host-path-interpolated"),
    pytest.param("socket-volume-bind-device-fail", "socket-volume-bind-device", id="bind-device"),
    pytest.param("socket-volume-undeclared-fail", "socket-volume-undeclared", id="undeclared"),
    pytest.param("socket-volume-mismatch-fail", "socket-volume-mismatch", id="mismatch"),
    pytest.param("backend-socket-not-mounted-fail", "backend-socket-not-mounted", id="not-mounted"),
    pytest.param("database-url-socket-mismatch-fail", "database-url-socket-mismatch", id="url"),
    pytest.param("data-volume-strategy-fail", "data-volume-strategy", id="data"),
]


def require(condition: bool, reason: str) -> None:
    """Skip without the component on a laptop; in CI a missing component is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


class Cli(Protocol):
    """The ``cli`` fixture: ``cultivate doctor ARGS`` in-process, optionally from another folder."""

    def __call__(self, *args: str, cwd: Path | None = None) -> CliResult: ...


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    def run(*args: str, cwd: Path | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        code = main(["doctor", *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def member_text(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    """A regular member's text: ``extractfile`` answers None only for what is not a file."""
    stream = tar.extractfile(member)
    assert stream is not None, member.name
    return stream.read().decode()


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def _as_postgres() -> list[str]:
    # PostgreSQL refuses to run as root; as root, run it as the postgres user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def public_tempdir(prefix: str) -> Path:
    """A directory the postgres user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[Path]:
    """One initdb per session; each server copies it, which is much faster than initdb."""
    bindir = pg_bindir()
    require(bindir is not None, "PostgreSQL server binaries are missing (apt-get install postgresql)")
    assert bindir is not None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require(False, "there is no postgres user to run the server as")
    root = public_tempdir("cd-pgtemplate-")
    data = root / "data"
    give_to_postgres(root)
    subprocess.run(
        [*_as_postgres(), str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    yield data
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class PgServer:
    root: Path
    data: Path
    socket_dir: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    extra: list[str] = field(default_factory=list)

    def start(self, *, wait: bool = True, timeout: float = 20) -> PgServer:
        bindir = pg_bindir()
        assert bindir is not None
        log = self.log.open("ab")
        command = [
            *_as_postgres(),
            str(bindir / "postgres"),
            "-D", str(self.data),
            "-k", str(self.socket_dir),
            "-p", str(self.port),
            "-c", "listen_addresses=",
            "-c", "fsync=off",
            *self.extra,
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 20) -> None:
        socket_path = self.socket_dir / f".s.PGSQL.{self.port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if socket_path.exists() and "ready to accept connections" in self.log_text():
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"postgres exited early:\n{self.log_text()}")
            time.sleep(0.05)
        raise RuntimeError(f"postgres did not become ready:\n{self.log_text()}")

    def wait_exit(self, timeout: float = 20) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def kill(self) -> None:
        """SIGKILL the postmaster: its socket file stays behind, with nothing listening."""
        pid = self.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        if self.process is not None:
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self._reap_children()
            return
        try:
            os.kill(self.postmaster_pid(), signal.SIGINT)
        except (OSError, ValueError):
            self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._reap_children()

    def _reap_children(self) -> None:
        # After a SIGKILLed postmaster, orphaned backends exit on their own; make sure of it.
        subprocess.run(["pkill", "-KILL", "-f", f"-D {self.data}"], check=False, capture_output=True)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class PgFactory(Protocol):
    """The ``pg_factory`` fixture: a server on a copy of the template, not started yet."""

    def __call__(
        self, socket_dir: Path | None = None, port: int = 5432, extra: list[str] | None = None
    ) -> PgServer: ...


@pytest.fixture
def pg_factory(pg_template: Path) -> Iterator[PgFactory]:
    servers: list[PgServer] = []
    roots: list[Path] = []

    def make(socket_dir: Path | None = None, port: int = 5432, extra: list[str] | None = None) -> PgServer:
        root = public_tempdir("cd-pg-")
        roots.append(root)
        data = root / "data"
        subprocess.run(["cp", "-a", str(pg_template), str(data)], check=True, timeout=60)
        sockets = socket_dir or root / "sock"
        sockets.mkdir(exist_ok=True)
        give_to_postgres(sockets)
        give_to_postgres(root)
        server = PgServer(root, data, sockets, port, root / "postgres.log", extra=extra or [])
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


# --- FUSE host share ------------------------------------------------------------------------


def fuse_available() -> tuple[bool, str]:
    if not Path("/dev/fuse").exists():
        return False, "/dev/fuse is missing (FUSE is not available on this machine)"
    if shutil.which("fusermount3") is None:
        return False, "fusermount3 is missing (apt-get install fuse3)"
    try:
        import mfusepy  # noqa: F401
    except (ImportError, OSError) as exc:
        return False, f"the mfusepy binding cannot load libfuse ({exc}); pip install mfusepy, apt-get install fuse3"
    return True, ""


class HostShare(Protocol):
    """The ``hostshare`` fixture: mount a new share, unmounted at teardown."""

    def __call__(self, refuse_chown: bool = False) -> Share: ...


@pytest.fixture
def hostshare() -> Iterator[HostShare]:
    """Mount a 9p/virtiofs-like share (the lab's): chmod on a socket fails with EINVAL."""
    from lab.scenarios import Share

    available, reason = fuse_available()
    require(available, reason)
    shares: list[tuple[Path, Share]] = []

    def mount(refuse_chown: bool = False) -> Share:
        root = public_tempdir("cd-share-")
        share = Share.mount(root, refuse_chown=refuse_chown)
        shares.append((root, share))
        return share

    yield mount
    for root, share in shares:
        share.unmount()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """Like tmp_path, but reachable by the postgres user and the unprivileged probe user."""
    path = public_tempdir("cd-tmp-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


T = TypeVar("T")


def run_as_nobody(function: Callable[[], T]) -> T:
    """Run ``function()`` in a forked child as the unprivileged ``nobody`` user; return its result.

    Root may read and enter anything; permission errors only show for an ordinary user.
    """
    import pickle

    if os.geteuid() != 0:
        return function()
    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            try:
                payload: tuple[str, object] = ("ok", function())
            except Exception as exc:
                payload = ("raised", repr(exc))
            os.write(write_end, pickle.dumps(payload))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "raised":
        raise AssertionError(f"the child raised {value}")
    # The child pickled ``function()``'s own value: unpickled, it is a T again.
    return cast("T", value)


@contextlib.contextmanager
def silent_unix_server(path: Path) -> Iterator[Path]:
    """A real Unix socket server that accepts connections and never says a word: the one fault
    (a hung PostgreSQL, a hung engine) that the real servers cannot be made to show."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()
