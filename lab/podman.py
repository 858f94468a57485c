"""A private Podman engine: Debian's podman serving its Docker-compatible API on a socket of its
own (`podman system service --time=0`), with private storage (--root), run state (--runroot),
temporary files and network configuration, and a private containers.conf (CONTAINERS_CONF) for
the service and every CLI call. Nothing is pulled; no bridge network is made by Compose v2
(scenarios run with ``network_mode: none``).

Two things Podman needs here that dockerd does not:
- ``default_ulimits``: rootful Podman's defaults exceed this machine's limits and containers
  fail with ``error setting rlimit type 7: operation not permitted``.
- A health-check loop: Podman runs health checks from systemd timers, and there is no systemd
  here, so ``service_healthy`` would never come. The lab runs ``podman healthcheck run`` for
  its containers on a loop it owns (``lab/podmanhealth.py``), stopped with the engine."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lab import REPO, lab_dir
from lab.engine import EngineError, alive, mounts_under

CONTAINERS_CONF = """\
# The lab's private Podman configuration (written by lab/podman.py).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{root}/events.log"
tmp_dir = "{root}/tmp"
volume_path = "{root}/storage/volumes"
# Exec sessions keep a conmon process for this long after they end (Podman's default is 300 s);
# a short delay lets the lab end with no process of its own left behind.
exit_command_delay = 2

[network]
network_config_dir = "{root}/networks"
"""


@dataclass(frozen=True)
class PodmanEngine:
    root: Path
    name: str = "podman"

    @property
    def socket(self) -> Path:
        return self.root / "podman.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.root / "podman.pid"

    @property
    def health_pidfile(self) -> Path:
        return self.root / "health.pid"

    @property
    def log(self) -> Path:
        return self.root / "podman.log"

    @property
    def conf(self) -> Path:
        return self.root / "containers.conf"

    def global_args(self) -> list[str]:
        return [
            "--root", str(self.root / "storage"),
            "--runroot", str(self.root / "run"),
            "--storage-driver", "overlay",
            "--cgroup-manager", "cgroupfs",
            "--tmpdir", str(self.root / "tmp"),
        ]  # fmt: skip

    def podman(self, *args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
        """The podman CLI on this engine's storage and configuration."""
        return subprocess.run(
            ["podman", *self.global_args(), *args],
            env=self.cli_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def cli_env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": str(self.conf)}

    def env(self) -> dict[str, str]:
        """For Compose v2 and the docker CLI: Podman's API through DOCKER_HOST."""
        return {**self.cli_env(), "DOCKER_HOST": self.host}

    def pid(self) -> int | None:
        return _pid(self.pidfile)

    def _ping(self) -> bool:
        from lab.engine import Engine

        return Engine._ping(self)  # type: ignore[arg-type]  # the same GET /_ping on self.socket

    def start(self, timeout: float = 60) -> None:
        if self.pid() is not None and self._ping():
            return
        for sub in ("storage", "run", "tmp", "networks"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(CONTAINERS_CONF.format(root=self.root))
        # netavark adds base chains on the first bridge network and never removes them; the lab
        # removes them at stop unless they were there before it started.
        (self.root / "netavark-before").write_text("\n".join(netavark_rules()))
        service = ["podman", *self.global_args(), "system", "service", "--time=0", self.host]
        _detach(service, self.pidfile, self.log, self.cli_env())
        loop = [sys.executable, "-m", "lab.podmanhealth", str(self.root)]
        _detach(loop, self.health_pidfile, self.root / "health.log", {**self.cli_env(), "PYTHONPATH": str(REPO)})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ping():
                return
            if self.pid() is None and self.pidfile.exists():
                break  # the service started and ended: its log says why
            time.sleep(0.25)
        raise EngineError(f"podman system service did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self, timeout: float = 30) -> None:
        _end(self.health_pidfile, timeout=5)
        if self.pid() is not None:
            # Containers a failed test left behind go first, while the service can still say which.
            self.podman("rm", "--all", "--force", "--time", "0", timeout=60)
            self.podman("volume", "prune", "--force", timeout=60)
        _end(self.pidfile, timeout=timeout)
        for pid in self.leftover_processes():
            os.kill(pid, signal.SIGKILL)  # conmon of an exec session still in its exit delay
        self._wait_for_no_processes()
        try:
            before = (self.root / "netavark-before").read_text()
        except OSError:
            before = None
        if before == "":
            remove_netavark_rules()
        if self.root.exists():
            for mountpoint in sorted(mounts_under(self.root), key=len, reverse=True):
                subprocess.run(["umount", "-l", mountpoint], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def leftover_processes(self) -> list[int]:
        """Processes whose command line names this engine's root: conmon, the service, the loop."""
        return processes_naming(self.root)

    def _wait_for_no_processes(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.leftover_processes() and time.monotonic() < deadline:
            time.sleep(0.2)


def _detach(command: list[str], pidfile: Path, log: Path, env: dict[str, str]) -> None:
    """Start ``command`` in its own session, not as this process's child (as dockerd is started),
    and record its pid: the shell writes its own pid, then becomes the command."""
    pidfile.unlink(missing_ok=True)
    script = 'echo $$ > "$0"; exec "$@"'
    with log.open("ab") as out:
        subprocess.run(["setsid", "-f", "sh", "-c", script, str(pidfile), *command], env=env, stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True, timeout=10)  # fmt: skip
    deadline = time.monotonic() + 10
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["iptables", *args], capture_output=True, text=True, timeout=30, check=False)


def netavark_rules() -> list[str]:
    """netavark's chains and the rules that jump to them, in the filter and nat tables."""
    if shutil.which("iptables") is None:
        return []
    found = []
    for table in ("filter", "nat"):
        found += [f"{table} {line}" for line in _iptables("-t", table, "-S").stdout.splitlines() if "NETAVARK" in line]
    return found


def remove_netavark_rules() -> None:
    """Undo what netavark added: the jumps first, then its chains, emptied then deleted."""
    rules = netavark_rules()
    for entry in rules:
        table, rule = entry.split(" ", 1)
        words = shlex.split(rule)
        if words[0] == "-A" and not words[1].startswith("NETAVARK"):
            _iptables("-t", table, "-D", *words[1:])
    chains = [
        (e.split(" ", 1)[0], shlex.split(e.split(" ", 1)[1])[1]) for e in rules if " -N " in f" {e.split(' ', 1)[1]}"
    ]
    for table, chain in chains:
        _iptables("-t", table, "-F", chain)
    for table, chain in chains:
        _iptables("-t", table, "-X", chain)


def processes_naming(root: Path) -> list[int]:
    """Live processes with an argument that is ``root`` or lies under it (not a sibling such as
    ``root-throwaway``): the service, the loop, conmon of this engine."""
    top = str(root).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        named = any(arg == top or arg.startswith(top + b"/") or b"=" + top + b"/" in arg for arg in arguments)
        if named and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def _end(pidfile: Path, timeout: float) -> None:
    pid = _pid(pidfile)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def default_podman() -> PodmanEngine:
    return PodmanEngine(lab_dir() / "podman")


def ensure_image(engine: PodmanEngine) -> str:
    """Import the cached root filesystem with `podman import` and build the lab image on it."""
    from lab import ROOT
    from lab.image import IMAGE, files_key, recipe_key, rootfs_tarball

    tag = f"{IMAGE}:{recipe_key()}-{files_key()}"
    if engine.podman("image", "exists", tag).returncode == 0:
        return tag
    base = f"{IMAGE}-base:{recipe_key()}"
    if engine.podman("image", "exists", base).returncode != 0:
        done = engine.podman("import", str(rootfs_tarball()), base, timeout=600)
        if done.returncode != 0:
            raise EngineError(f"podman import failed: {done.stderr[-2000:]}")
    done = engine.podman(
        "build", "--network", "none", "--build-arg", f"BASE=localhost/{base}", "-t", tag, str(ROOT / "image"),
        timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise EngineError(f"podman build failed: {done.stderr[-2000:]}")
    return tag
