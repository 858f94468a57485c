"""Scenario deployments: a Compose file plus the state it must reach, brought up with the real
Docker Compose v2 (``lab/composev2.py``) under a unique project name and always torn down with
its volumes."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from lab import REPO, ROOT, composev2, lab_dir
from lab.sshfs import ShareError, SshfsShare

SCENARIOS = ROOT / "scenarios"
SOCKET_FILE = ".s.PGSQL.5432"


class ScenarioError(RuntimeError):
    pass


class LabEngine(Protocol):
    """What a scenario needs of an engine: dockerd (lab/engine.py) or Podman (lab/podman.py)."""

    @property
    def name(self) -> str: ...

    @property
    def host(self) -> str: ...

    def env(self) -> dict[str, str]: ...


def names(engine: str | None = None) -> list[str]:
    """Every scenario, or those that run on ``engine`` (dockerd | podman)."""
    found = sorted(p.name for p in SCENARIOS.iterdir() if (p / "scenario.yaml").is_file())
    return found if engine is None else [name for name in found if engine in load(name).engines]


@dataclass(frozen=True)
class Scenario:
    name: str
    directory: Path
    spec: dict[str, Any]

    @property
    def description(self) -> str:
        return " ".join(str(self.spec.get("description", "")).split())

    @property
    def share(self) -> str:
        return str(self.spec.get("share", "none"))

    @property
    def deploy_file(self) -> str:
        return str(self.spec.get("deploy", "compose.yaml"))

    @property
    def compose_tool(self) -> str:
        """compose-v2 (the real Docker Compose v2) or podman-compose (Debian's, Podman only)."""
        return str(self.spec.get("compose", "compose-v2"))

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(self.spec.get("engines", ("dockerd", "podman")))

    @property
    def expect(self) -> dict[str, Any]:
        return dict(self.spec.get("expect", {}))

    @property
    def comes_up_healthy(self) -> bool:
        """Whether every service first runs (healthy where it has a health check): the database
        is expected running, or steps act on a deployment that came up. Then ``up --wait`` is the
        proof; a scenario whose database is meant to fail at start cannot pass ``--wait``."""
        return self.expect.get("database", {}).get("state") == "running" or bool(self.spec.get("steps"))


def load(name: str) -> Scenario:
    directory = SCENARIOS / name
    if not (directory / "scenario.yaml").is_file():
        raise ScenarioError(f"no scenario {name!r}; known: {', '.join(names())}")
    return Scenario(name, directory, yaml.safe_load((directory / "scenario.yaml").read_text()))


# The `share:` values whose share holds the socket directory: the server's socket file is then
# looked for in the share's source.
SOCKET_SHARES = ("socket", "sshfs-socket")
SSHFS_OWNER = "nobody"  # sftp-server runs as the folder's unprivileged owner, as the Mac user does


@dataclass
class Share:
    """A FUSE host share mounted for one deployment: the 9p-like one of lab/hostshare.py, or the
    real reverse-sshfs one of lab/sshfs.py (``sshfs`` set, ``process`` None)."""

    source: Path
    mountpoint: Path
    process: subprocess.Popen[bytes] | None
    sshfs: SshfsShare | None = None

    @classmethod
    def mount(cls, root: Path, *, refuse_chown: bool = False, sshfs: bool = False) -> Share:
        source, mountpoint = root / "share-source", root / "share"
        source.mkdir(parents=True)
        mountpoint.mkdir()
        source.chmod(0o777)
        for sub in ("socket", "data"):
            (source / sub).mkdir()
            (source / sub).chmod(0o777)
        if sshfs:
            return cls._mount_sshfs(source, mountpoint)
        args = [sys.executable, "-m", "lab.hostshare", str(source), str(mountpoint)]
        if refuse_chown:
            args.append("--refuse-chown")
        process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not os.path.ismount(mountpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise ScenarioError("the FUSE host share did not mount")
            time.sleep(0.05)
        return cls(source, mountpoint, process)

    @classmethod
    def _mount_sshfs(cls, source: Path, mountpoint: Path) -> Share:
        # The folder belongs to an unprivileged user, as a Mac folder belongs to the Mac user, so
        # sftp-server runs as that user and refuses chown; every parent must let that user through.
        owner = pwd.getpwnam(SSHFS_OWNER)
        for path in (source, source / "socket", source / "data"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        for parent in source.parents:
            if parent.stat().st_mode & 0o001 == 0:
                raise ScenarioError(f"{parent} does not let {SSHFS_OWNER} through; the reverse-sshfs share needs o+x")
        try:
            share = SshfsShare.mount(source, mountpoint)
        except ShareError as exc:
            raise ScenarioError(f"the reverse-sshfs share did not mount: {exc}") from None
        return cls(source, mountpoint, None, share)

    def unmount(self) -> None:
        if self.sshfs is not None:
            self.sshfs.unmount()
            return
        subprocess.run(["fusermount3", "-u", "-z", str(self.mountpoint)], check=False, capture_output=True)
        if self.process is None:
            return
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)


@dataclass
class Deployment:
    scenario: Scenario
    engine: LabEngine
    image: str
    project: str
    workdir: Path
    share: Share | None = None
    log: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {**self.engine.env(), "LAB_IMAGE": self.image, "COMPOSE_PROJECT_NAME": self.project}
        if self.share is not None:
            env["LAB_SHARE"] = str(self.share.mountpoint)
        return env

    def compose_args(self, *args: str, file: str | None = None) -> list[str]:
        return ["-p", self.project, "-f", str(self.workdir / (file or self.scenario.deploy_file)), *args]

    def compose(self, *args: str, file: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """The scenario's Compose tool on this deployment, in its directory, against the lab's
        engine: Docker Compose v2, or podman-compose driving the lab Podman's own CLI."""
        arguments = self.compose_args(*args, file=file)
        if self.scenario.compose_tool == "podman-compose":
            from lab.podmancompose import run as podman_compose

            done = podman_compose(self.engine, arguments, cwd=self.workdir, env=self.env(), timeout=timeout)
            self.log.append(f"$ podman-compose {' '.join(arguments)}\n{done.stdout}{done.stderr}")
            return done
        done = composev2.run(arguments, cwd=self.workdir, env=self.env(), timeout=timeout)
        self.log.append(f"$ docker compose {' '.join(arguments)}\n{done.stdout}{done.stderr}")
        return done

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.engine.host, version="auto", timeout=30)

    def container(self, service: str) -> Any:
        client = self.client()
        found = client.containers.list(
            all=True,
            filters={"label": [f"com.docker.compose.project={self.project}", f"com.docker.compose.service={service}"]},
        )
        return found[0] if found else None

    def state(self, service: str) -> dict[str, Any]:
        container = self.container(service)
        if container is None:
            return {"state": "missing"}
        container.reload()
        state = container.attrs["State"]
        return {
            "state": state["Status"],
            "exit_code": state["ExitCode"],
            "health": state.get("Health", {}).get("Status"),
        }

    def logs(self, service: str) -> str:
        container = self.container(service)
        if container is None:
            return ""
        raw: bytes = container.logs(stdout=True, stderr=True)
        return raw.decode("utf-8", errors="replace")

    def socket_path(self) -> Path | None:
        """Where the server's socket file lives on this machine, whatever holds the directory."""
        if self.scenario.share in SOCKET_SHARES and self.share is not None:
            return self.share.source / "socket" / SOCKET_FILE
        container = self.container("database")
        if container is None:
            return None
        for mount in container.attrs.get("Mounts", []):
            if mount.get("Type") == "volume" and mount.get("Name", "").endswith("_db_socket"):
                return Path(mount["Source"]) / SOCKET_FILE
        return None

    def mounts(self, service: str) -> dict[str, dict[str, Any]]:
        container = self.container(service)
        return {} if container is None else {m["Destination"]: m for m in container.attrs.get("Mounts", [])}

    def run_steps(self) -> None:
        for step in self.scenario.spec.get("steps", []):
            if "wait" in step:
                self.wait_for(step["wait"], timeout=90)
            elif "kill" in step:
                self._step("kill", "-s", "SIGKILL", step["kill"])
            elif "stop" in step:
                self._step("stop", "--timeout", "20", step["stop"])
            else:
                raise ScenarioError(f"unknown step {step!r}")

    def _step(self, *args: str) -> None:
        done = self.compose(*args, timeout=60)
        if done.returncode != 0:
            raise ScenarioError(f"docker compose {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def wait_for(self, conditions: dict[str, Any], timeout: float = 90) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.satisfied(conditions):
                return True
            time.sleep(0.5)
        return False

    def satisfied(self, conditions: dict[str, Any]) -> bool:
        for key, wanted in conditions.items():
            if key in ("database", "backend"):
                state = self.state(key)
                if state["state"] != wanted["state"]:
                    return False
                code = wanted.get("exit_code")
                if code == "nonzero" and state["exit_code"] == 0:
                    return False
                if isinstance(code, int) and state["exit_code"] != code:
                    return False
                if "health" in wanted and state["health"] != wanted["health"]:
                    return False
            elif key in ("database_log", "backend_log"):
                text = self.logs(key.removesuffix("_log"))
                lines = wanted if isinstance(wanted, list) else [wanted]
                if not all(line in text for line in lines):
                    return False
            elif key == "socket_file":
                path = self.socket_path()
                present = path is not None and path.exists()
                if present != (wanted == "present"):
                    return False
        return True

    def down(self) -> None:
        try:
            if self.scenario.compose_tool == "podman-compose":
                from lab.podmancompose import down as podman_compose_down

                podman_compose_down(self)
            else:
                self.compose("down", "--volumes", "--remove-orphans", "--timeout", "2")
            _sweep(self.engine, self.project)
        finally:
            # Even when down or the sweep fails: a share left mounted would outlive the lab.
            if self.share is not None:
                self.share.unmount()
            shutil.rmtree(self.workdir, ignore_errors=True)


def _sweep(engine: LabEngine, project: str) -> None:
    """Remove whatever ``down`` left of the project (it never should; this is the safety net)."""
    import docker

    client = docker.DockerClient(base_url=engine.host, version="auto", timeout=30)
    try:
        label = f"com.docker.compose.project={project}"
        for container in client.containers.list(all=True, filters={"label": label}):
            container.remove(force=True, v=True)
        for volume in client.volumes.list():
            if (volume.attrs.get("Labels") or {}).get("com.docker.compose.project") == project:
                volume.remove(force=True)
    finally:
        client.close()


def up(engine: LabEngine, name: str, image: str, *, wait: float = 120) -> Deployment:
    """Bring a scenario up and run its steps. The caller must call ``down()``, even on failure."""
    scenario = load(name)
    if engine.name not in scenario.engines:
        raise ScenarioError(f"scenario {name!r} runs on {', '.join(scenario.engines)}, not {engine.name}")
    project = f"lab-{name}-{uuid.uuid4().hex[:6]}"
    workdir = lab_dir() / "deployments" / project
    shutil.copytree(scenario.directory, workdir)
    deployment = Deployment(scenario, engine, image, project, workdir)
    try:
        if scenario.share != "none":
            deployment.share = Share.mount(
                workdir / "mnt",
                refuse_chown=scenario.share == "data-refuse-chown",
                sshfs=scenario.share.startswith("sshfs-"),
            )
        if scenario.compose_tool == "podman-compose":
            # podman-compose has no --wait (and would not honour service_healthy anyway).
            done = deployment.compose("up", "-d", timeout=wait)
            if done.returncode != 0:
                raise ScenarioError(f"podman-compose up failed:\n{done.stdout}{done.stderr}")
        elif scenario.comes_up_healthy:
            # --wait returns once every container runs and every health check passes, and fails
            # when one does not: the steps then act on a deployment that really came up.
            done = deployment.compose("up", "-d", "--wait", "--wait-timeout", str(int(wait)), timeout=wait + 30)
            if done.returncode != 0:
                raise ScenarioError(f"docker compose up --wait failed:\n{done.stdout}{done.stderr}")
        else:
            # The database is meant to fail after it starts: `up` only creates and starts (its
            # clients depend on it being started, not healthy), and the expectations follow.
            done = deployment.compose("up", "-d", timeout=wait)
            if done.returncode != 0:
                raise ScenarioError(f"docker compose up failed:\n{done.stdout}{done.stderr}")
        deployment.run_steps()
        deployment.wait_for(scenario.expect, timeout=wait)
    except BaseException:
        deployment.down()
        raise
    return deployment
