"""A multi-node Docker Swarm on this machine, for the stack scenarios.

Each node is a private dockerd (its own socket, data root, exec root and pidfile under the lab
directory) started inside a network namespace the lab makes, with its own hostname (a UTS
namespace), so Swarm sees distinct nodes. A veth pair joins the namespaces; the addresses are
from 192.0.2.0/24 (RFC 5737, reserved for documentation and tests) and exist only inside those
namespaces. Node 1 is the manager, the others join as workers. The lab image is loaded on every
node. ``down`` removes everything: stacks, volumes on every node, the swarm, the daemons, any
process left in the namespaces, the namespaces and the directory.

By hand: ``python -m lab.swarm up``, ``python -m lab.swarm scenario stack-apart``,
``python -m lab.swarm down`` (root; ``CULTIVATE_LAB_DIR`` moves it)."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lab import ROOT, lab_dir
from lab.engine import Engine, EngineError, alive, mounts_under
from lab.image import ensure_image

SCENARIOS = ROOT / "swarm_scenarios"
SUBNET = "192.0.2"  # RFC 5737 TEST-NET-1: never routed, used only inside the lab's namespaces
STACK_LABEL = "com.docker.stack.namespace"
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"


class SwarmError(RuntimeError):
    pass


def why_unavailable() -> str | None:
    for command, package in (("dockerd", "docker.io"), ("docker", "docker.io"), ("ip", "iproute2"),
                             ("nsenter", "util-linux"), ("unshare", "util-linux"), ("mmdebstrap", "mmdebstrap")):  # fmt: skip
        if shutil.which(command) is None:
            return f"the Swarm lab needs {command} (apt-get install {package})"
    if os.geteuid() != 0:
        return "the Swarm lab makes network namespaces and runs dockerd, which needs root"
    return None


def _run(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 60, check: bool = True) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise SwarmError(f"{' '.join(command)} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")  # fmt: skip
    return done.stdout


@dataclass(frozen=True)
class Node:
    index: int  # 1-based; node 1 is the manager
    root: Path
    netns: str

    @property
    def hostname(self) -> str:
        return f"lab-n{self.index}"

    @property
    def address(self) -> str:
        return f"{SUBNET}.{self.index}"

    @property
    def engine(self) -> Engine:
        return Engine(self.root)

    @property
    def host(self) -> str:
        return self.engine.host

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host, **extra}

    def docker(self, *args: str, timeout: float = 60, check: bool = True, env: dict[str, str] | None = None) -> str:
        return _run([DOCKER, *args], env=self.env(**(env or {})), timeout=timeout, check=check)

    def start(self, timeout: float = 60) -> None:
        engine = self.engine
        if engine.pid() is not None and engine._ping():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        dockerd = [
            "dockerd", "--host", self.host, "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"), "--pidfile", str(engine.pidfile),
            "--bridge", "none", "--storage-driver", "overlay2",
        ]  # fmt: skip
        # unshare --uts gives the node its own hostname; nsenter --net (not `ip netns exec`, which
        # remounts /sys and hides the cgroup mounts dockerd needs) enters only the network
        # namespace. Every step execs, so the pidfile holds dockerd's own pid.
        script = f'hostname {self.hostname} && exec nsenter --net=/run/netns/{self.netns} "$@"'
        with engine.log.open("ab") as log:
            subprocess.run(["setsid", "-f", "unshare", "--uts", "sh", "-c", script, "sh", *dockerd],
                           stdout=log, stderr=subprocess.STDOUT, check=True, timeout=10)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if engine._ping():
                return
            time.sleep(0.25)
        raise EngineError(f"dockerd of {self.hostname} did not answer within {timeout:.0f} s; see {engine.log}")


@dataclass(frozen=True)
class SwarmLab:
    root: Path
    size: int = 2

    @property
    def tag(self) -> str:
        # Namespace and link names are global to the machine: derive them from the lab directory
        # so two labs never collide, and keep them within the 15 bytes of an interface name.
        return "cs" + hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:6]

    @property
    def nodes(self) -> list[Node]:
        return [Node(i, self.root / f"n{i}", f"{self.tag}-n{i}") for i in range(1, self.size + 1)]

    @property
    def manager(self) -> Node:
        return self.nodes[0]

    def node_engines(self) -> list[str]:
        """``--node-engine`` arguments for the doctor."""
        return [f"{n.hostname}={n.host}" for n in self.nodes]

    def up(self) -> str:
        """Namespaces, daemons, swarm and image on every node; returns the image tag."""
        self._network()
        with ThreadPoolExecutor(max_workers=self.size) as pool:
            list(pool.map(lambda node: node.start(), self.nodes))
        self._swarm()
        with ThreadPoolExecutor(max_workers=self.size) as pool:
            tags = list(pool.map(lambda node: ensure_image(node.host), self.nodes))
        return tags[0]

    def _network(self) -> None:
        existing = _run(["ip", "netns", "list"])
        for node in self.nodes:
            if node.netns not in existing:
                _run(["ip", "netns", "add", node.netns])
            _run(["ip", "-n", node.netns, "link", "set", "lo", "up"])
        # A bridge in node 1's namespace joins every other node by a veth pair (with two nodes
        # it is a plain link); the bridge holds node 1's address.
        first = self.manager
        bridge = f"{self.tag}br"
        if bridge not in _run(["ip", "-n", first.netns, "link", "show"], check=False):
            _run(["ip", "-n", first.netns, "link", "add", bridge, "type", "bridge"])
            _run(["ip", "-n", first.netns, "addr", "add", f"{first.address}/24", "dev", bridge])
            _run(["ip", "-n", first.netns, "link", "set", bridge, "up"])
        for node in self.nodes[1:]:
            inside, outside = f"{self.tag}v{node.index}", f"{self.tag}p{node.index}"
            if inside in _run(["ip", "-n", node.netns, "link", "show"], check=False):
                continue
            _run(["ip", "link", "add", outside, "netns", first.netns, "type", "veth", "peer", "name", inside, "netns", node.netns])  # fmt: skip
            _run(["ip", "-n", first.netns, "link", "set", outside, "master", bridge, "up"])
            _run(["ip", "-n", node.netns, "addr", "add", f"{node.address}/24", "dev", inside])
            _run(["ip", "-n", node.netns, "link", "set", inside, "up"])

    def _swarm(self) -> None:
        manager = self.manager
        state = manager.docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()
        if state != "active":
            manager.docker("swarm", "init", "--advertise-addr", manager.address, "--listen-addr", f"{manager.address}:2377")  # fmt: skip
        token = manager.docker("swarm", "join-token", "-q", "worker").strip()
        for node in self.nodes[1:]:
            if node.docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip() != "active":
                node.docker("swarm", "join", "--token", token, "--advertise-addr", node.address,
                            "--listen-addr", f"{node.address}:2377", f"{manager.address}:2377", timeout=90)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = manager.docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").split("\n")
            if sum(1 for line in ready if line.endswith(" Ready")) == self.size:
                return
            time.sleep(0.5)
        raise SwarmError(f"the swarm did not have {self.size} ready nodes within 60 s")

    def stacks(self) -> list[str]:
        out = self.manager.docker("stack", "ls", "--format", "{{.Name}}", check=False)
        return [line for line in out.split() if line]

    def remove_stack(self, name: str, timeout: float = 60) -> None:
        """``docker stack rm``, wait until every node's task containers are gone (their volumes
        are in use until then), then remove the stack's volumes on every node."""
        self.manager.docker("stack", "rm", name, check=False)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            while time.monotonic() < deadline:
                left = node.docker("ps", "-aq", "--filter", f"label={STACK_LABEL}={name}", check=False).split()
                if not left:
                    break
                time.sleep(0.5)
            volumes = node.docker("volume", "ls", "-q", "--filter", f"label={STACK_LABEL}={name}", check=False).split()
            if volumes:
                node.docker("volume", "rm", "-f", *volumes, check=False)

    def down(self) -> None:
        for stack in self.stacks() if self.manager.engine.pid() is not None else []:
            self.remove_stack(stack)
        for node in reversed(self.nodes):
            if node.engine.pid() is not None:
                node.docker("swarm", "leave", "--force", check=False, timeout=30)
            node.engine.stop()
        for node in self.nodes:
            # Anything still in the lab's namespaces was started by the lab (shims, containers).
            for pid in _run(["ip", "netns", "pids", node.netns], check=False).split():
                if alive(int(pid)):
                    os.kill(int(pid), signal.SIGKILL)
            _run(["ip", "netns", "del", node.netns], check=False)
        for mountpoint in sorted(mounts_under(self.root), key=len, reverse=True):
            _run(["umount", "-l", mountpoint], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def leftovers(self) -> list[str]:
        """What of this lab still exists on the machine (empty after ``down``)."""
        found = []
        namespaces = _run(["ip", "netns", "list"], check=False)
        found += [f"netns {n.netns}" for n in self.nodes if n.netns in namespaces]
        found += [f"dockerd {n.hostname}" for n in self.nodes if n.engine.pid() is not None]
        found += [f"mount {m}" for m in mounts_under(self.root)] if self.root.exists() else []
        found += [f"directory {self.root}"] if self.root.exists() else []
        return found


@dataclass(frozen=True)
class Scenario:
    name: str
    directory: Path
    spec: dict[str, Any]

    @property
    def deploy_file(self) -> str:
        return str(self.spec.get("deploy", "compose.yaml"))

    @property
    def expect(self) -> dict[str, Any]:
        return dict(self.spec.get("expect") or {})


def scenario_names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if (p / "scenario.yaml").is_file())


def load(name: str) -> Scenario:
    directory = SCENARIOS / name
    if not (directory / "scenario.yaml").is_file():
        raise SwarmError(f"no Swarm scenario {name!r}; known: {', '.join(scenario_names())}")
    return Scenario(name, directory, yaml.safe_load((directory / "scenario.yaml").read_text()) or {})


@dataclass
class StackDeployment:
    lab: SwarmLab
    scenario: Scenario
    stack: str
    workdir: Path
    env: dict[str, str]

    def tasks(self) -> list[dict[str, Any]]:
        """(service key, node hostname, state) of every task Swarm wants running."""
        out = self.lab.manager.docker(
            "stack", "ps", self.stack, "--no-trunc", "--filter", "desired-state=running",
            "--format", "{{.Name}}\t{{.Node}}\t{{.CurrentState}}\t{{.Error}}",
        )  # fmt: skip
        rows = []
        for line in out.splitlines():
            name, node, state, error = [*line.split("\t"), "", "", ""][:4]
            service = name.split(".", 1)[0][len(self.stack) + 1 :]
            rows.append({"service": service, "node": node, "state": state.split(" ")[0].lower(), "error": error})
        return rows

    def logs(self, service: str) -> str:
        return self.lab.manager.docker("service", "logs", "--raw", f"{self.stack}_{service}", check=False, timeout=30)

    def wait(self, timeout: float = 120) -> None:
        """Until every expected task runs on its expected node and the expected log lines appear."""
        expect = self.scenario.expect
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            tasks = self.tasks()
            last = f"tasks {tasks}"
            if self._placed(tasks, expect) and self._logged(expect) and self._database_healthy():
                # The backend retries once a second: give it time to try against the ready server.
                time.sleep(3)
                return
            time.sleep(1)
        raise SwarmError(f"{self.scenario.name} did not reach its state within {timeout:.0f} s: {last}")

    def _placed(self, tasks: list[dict[str, Any]], expect: dict[str, Any]) -> bool:
        for service in ("database", "backend"):
            wanted = sorted(self.env[n] for n in expect.get(f"{service}_nodes", []))
            running = sorted(t["node"] for t in tasks if t["service"] == service and t["state"] == "running")
            if wanted and running != wanted:
                return False
        return True

    def _database_healthy(self) -> bool:
        label = f"label=com.docker.swarm.service.name={self.stack}_database"
        return any(
            node.docker("ps", "-q", "--filter", label, "--filter", "health=healthy", check=False).strip()
            for node in self.lab.nodes
        )

    def _logged(self, expect: dict[str, Any]) -> bool:
        line = expect.get("backend_log")
        return not line or line in self.logs("backend")

    def down(self) -> None:
        self.lab.remove_stack(self.stack)
        for node in self.scenario.spec.get("drain") or []:
            self.lab.manager.docker("node", "update", "--availability", "active", self.env[node], check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)


def deploy(lab: SwarmLab, name: str, image: str) -> StackDeployment:
    """``docker stack deploy`` the scenario's deploy file under a unique stack name."""
    scenario = load(name)
    stack = f"sw{uuid.uuid4().hex[:6]}"
    workdir = lab.root / "deployments" / stack
    shutil.copytree(scenario.directory, workdir)
    env = {"LAB_IMAGE": image, **{f"NODE_{chr(64 + n.index)}": n.hostname for n in lab.nodes}}
    # The doctor reads the same values from .env, as Compose would; docker stack deploy reads the shell.
    (workdir / ".env").write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    deployment = StackDeployment(lab, scenario, stack, workdir, env)
    try:
        for node in scenario.spec.get("drain") or []:  # a one-node swarm, as far as placement goes
            lab.manager.docker("node", "update", "--availability", "drain", env[node])
        # --resolve-image never: the image exists on each node only, and no registry knows it.
        lab.manager.docker("stack", "deploy", "--resolve-image", "never", "-c", str(workdir / scenario.deploy_file), stack, env=env)  # fmt: skip
    except SwarmError:
        deployment.down()
        raise
    return deployment


def default_lab() -> SwarmLab:
    return SwarmLab(lab_dir() / "swarm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.swarm", description="The multi-node Swarm lab.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="namespaces, daemons, swarm and image on every node")
    commands.add_parser("down", help="remove stacks, volumes, swarm, daemons, namespaces")
    commands.add_parser("list", help="list the Swarm scenarios")
    one = commands.add_parser("scenario", help="deploy one scenario and leave it running")
    one.add_argument("name")
    args = parser.parse_args(argv)
    lab = default_lab()
    if args.command == "list":
        for name in scenario_names():
            print(f"{name:20} {' '.join(str(load(name).spec.get('description', '')).split())}")
        return 0
    if args.command == "down":
        lab.down()
        print(f"swarm lab: removed ({', '.join(lab.leftovers()) or 'nothing left'})")
        return 0
    problem = why_unavailable()
    if problem:
        print(f"swarm lab: {problem}", file=sys.stderr)
        return 2
    image = lab.up()
    print(f"export DOCKER_HOST={lab.manager.host}   # the manager, {lab.manager.hostname}")
    print(f"# node engines: {' '.join('--node-engine ' + e for e in lab.node_engines())}")
    if args.command == "scenario":
        deployment = deploy(lab, args.name, image)
        deployment.wait()
        print(f"# stack {deployment.stack} from {deployment.workdir}/{deployment.scenario.deploy_file}")
        print(f"# doctor: cultivate doctor --project-directory {deployment.workdir} -p {deployment.stack} ...")
        print(f"# down:   docker stack rm {deployment.stack}  (or python -m lab.swarm down)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
