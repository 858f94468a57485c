"""A private Docker engine: its own socket, data root, exec root and pidfile under the lab
directory, so it never touches a Docker the user already runs. No bridge and no iptables:
scenarios run with ``network_mode: none`` (a Unix socket needs no network), and nothing is
ever pulled."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lab import lab_dir


class EngineError(RuntimeError):
    pass


@dataclass(frozen=True)
class Engine:
    root: Path
    name: str = "dockerd"

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.root / "docker.pid"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host}

    def _ping(self) -> bool:
        """GET /_ping on the socket by hand: while dockerd starts, docker-py's failed connects
        leak their sockets (its transport keeps them only once connected)."""
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(5)
        try:
            probe.connect(str(self.socket))
            probe.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = probe.recv(4096)
        except OSError:
            return False
        finally:
            probe.close()
        return answer.startswith(b"HTTP/1.") and answer.rstrip().endswith(b"OK")

    def start(self, timeout: float = 60) -> None:
        if self.pid() is not None and self._ping():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        command = [
            "dockerd",
            "--host", self.host,
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.pidfile),
            "--bridge", "none",
            "--iptables=false",
            "--ip-masq=false",
            "--storage-driver", "overlay2",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            # setsid -f detaches the daemon; it is stopped later by the pid in its pidfile.
            subprocess.run(["setsid", "-f", *command], stdout=log, stderr=subprocess.STDOUT, check=True, timeout=10)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ping():
                return
            time.sleep(0.25)
        raise EngineError(f"dockerd did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self, timeout: float = 30) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.pid() is not None:
                time.sleep(0.2)
            if self.pid() is not None:
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.5)
        self._unmount_leftovers()
        shutil.rmtree(self.root, ignore_errors=True)

    def _unmount_leftovers(self) -> None:
        # Overlay and netns mounts a killed daemon may leave under its roots; deepest first.
        for mountpoint in sorted(mounts_under(self.root), key=len, reverse=True):
            subprocess.run(["umount", "-l", mountpoint], check=False, capture_output=True)


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for init to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()) + "/"
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    points = [line.split()[1].encode().decode("unicode_escape") for line in lines if len(line.split()) > 1]
    return [point for point in points if point.startswith(prefix)]


def teardown(root: Path) -> None:
    """Stop the engines under ``root`` and remove everything the lab left there, shares included."""
    from lab.podman import PodmanEngine  # here: lab.podman imports this module

    if (root / "podman").exists():
        PodmanEngine(root / "podman").stop()
    Engine(root / "engine").stop()
    for mountpoint in sorted(mounts_under(root), key=len, reverse=True):
        command = (
            ["fusermount3", "-u", "-z", mountpoint] if "/mnt/share" in mountpoint else ["umount", "-l", mountpoint]
        )
        subprocess.run(command, check=False, capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


def default_engine() -> Engine:
    return Engine(lab_dir() / "engine")
