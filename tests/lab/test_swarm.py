"""The multi-node Swarm lab: two dockerd nodes in their own network namespaces, joined into one
swarm. Each scenario is deployed with ``docker stack deploy``, its state is proven from the
engines (where each task runs, what the backend logs), and the doctor must name it, with the
nodes in its evidence. The lab is torn down at the end and must leave nothing behind."""

from __future__ import annotations

import json
import tarfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import docker
import pytest

from checks import CHECKS, select
from doctor.bundle import write_bundle
from doctor.context import Options, build_context
from doctor.engine.session import PROBE_LABEL
from doctor.models import Finding, Status
from doctor.report import make_report
from doctor.runner import Check, run_checks
from lab import lab_dir
from lab.swarm import StackDeployment, SwarmLab, deploy, why_unavailable
from tests.conftest import require


@pytest.fixture(scope="module")
def swarm() -> Iterator[tuple[SwarmLab, str]]:
    problem = why_unavailable()
    require(problem is None, f"{problem}")
    lab = SwarmLab(lab_dir() / "swarm-test")
    try:
        image = lab.up()
        yield lab, image
    finally:
        lab.down()
    assert lab.leftovers() == []


@pytest.fixture
def stack(swarm: tuple[SwarmLab, str]) -> Iterator[list[StackDeployment]]:
    deployments: list[StackDeployment] = []
    yield deployments
    for deployment in deployments:
        deployment.down()


def doctor(lab: SwarmLab, deployment: StackDeployment) -> list[Finding]:
    options = Options(
        project_directory=deployment.workdir,
        project_name=deployment.stack,
        docker_host=lab.manager.host,
        node_engines=tuple(lab.node_engines()),
        timeout=10,
    )
    return checked(options)


def checked(options: Options, checks: Sequence[Check] = CHECKS) -> list[Finding]:
    """The checks' findings for ``options``, the context's engine connections closed after."""
    ctx = build_context(options, environ={"HOME": "/nonexistent"})
    try:
        return run_checks(ctx, checks)
    finally:
        ctx.close()


def by_id(findings: list[Finding], finding_id: str) -> Finding:
    found = [f for f in findings if f.id == finding_id]
    assert found, [(f.id, f.status.value, f.title) for f in findings]
    return found[0]


def evidence_text(finding: Finding) -> str:
    return "\n".join(f"{e.source} {e.text}" for e in finding.evidence)


def test_the_bundle_records_nodes_and_placement(
    swarm: tuple[SwarmLab, str], stack: list[StackDeployment], tmp_path: Path
) -> None:
    lab, image = swarm
    deployment = deploy(lab, "stack-apart", image)
    stack.append(deployment)
    deployment.wait()
    options = Options(
        project_directory=deployment.workdir,
        project_name=deployment.stack,
        docker_host=lab.manager.host,
        node_engines=tuple(lab.node_engines()),
        tokens=True,
    )
    ctx = build_context(options, environ={"HOME": "/nonexistent"})
    bundle = tmp_path / "ticket.tar.gz"
    try:
        findings = run_checks(ctx, CHECKS)
        write_bundle(ctx, make_report(ctx.target(findings), findings), bundle)
    finally:
        ctx.close()
    with tarfile.open(bundle) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("swarm.json"))
        extracted = archive.extractfile(member)
        assert extracted is not None
        document = json.loads(extracted.read())
    assert sorted(n["hostname"] for n in document["nodes"]) == ["lab-n1", "lab-n2"]
    running = {(t["service"], t["node"]) for t in document["tasks"] if t["state"] == "running"}
    assert running == {("database", "lab-n1"), ("backend", "lab-n2")}


def test_the_nodes_are_distinct_and_ready(swarm: tuple[SwarmLab, str]) -> None:
    lab, _ = swarm
    listed = lab.manager.docker("node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}")
    assert sorted(line.strip() for line in listed.strip().splitlines()) == ["lab-n1 Ready Leader", "lab-n2 Ready"]


SCENARIOS = [
    pytest.param("stack-pinned", id="pinned-healthy"),
    pytest.param("stack-one-node", id="unpinned-on-one-active-node"),
    pytest.param("stack-apart", id="forced-apart"),
    pytest.param("stack-db-replicas", id="two-database-replicas"),
    pytest.param("stack-drift", id="file-pins-tasks-apart"),
]


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name: str, swarm: tuple[SwarmLab, str], stack: list[StackDeployment]) -> None:
    lab, image = swarm
    deployment = deploy(lab, name, image)
    stack.append(deployment)
    deployment.wait()  # the tasks run on the expected nodes and the backend logged the expected line
    findings = doctor(lab, deployment)
    problems = {f.id for f in findings if f.status in (Status.FAIL, Status.ERROR)}
    if name == "stack-pinned":
        assert problems == set(), [(f.id, f.title) for f in findings if f.status is Status.FAIL]
        assert by_id(findings, "stack-placement-ok").status is Status.OK
        vantage = by_id(findings, "socket-vantage")
        assert vantage.status is Status.OK
        assert "client:backend@lab-n2" in evidence_text(vantage)
        # Without lab-n2's engine, probe tasks on lab-n2 look at the database's and the backend's volume.
        blind = Options(
            project_directory=deployment.workdir, project_name=deployment.stack, docker_host=lab.manager.host
        )
        probed = by_id(checked(blind, select(["socket-vantage"])), "socket-vantage")  # fmt: skip
        assert probed.status is Status.OK, evidence_text(probed)
        assert "probe@lab-n2 answered — pg_isready in a probe task on node lab-n2" in evidence_text(probed)
        assert "client:backend@lab-n2 answered" in evidence_text(probed)
        # Both tasks run on the worker: their containers and volumes are read through its engine.
        assert by_id(findings, "containers").status is Status.OK
        assert by_id(findings, "engine-volumes").status is Status.OK
    elif name == "stack-one-node":
        # Together by chance on the only active node: no fail, but the file is warned about.
        assert problems == set(), [(f.id, f.title) for f in findings if f.status is Status.FAIL]
        assert by_id(findings, "stack-placement-apart").status is Status.WARN
        assert by_id(findings, "socket-vantage").status is Status.OK
    elif name == "stack-apart":
        assert {"stack-placement-apart", "stack-tasks-apart", "socket-vantage"} <= problems
        apart = by_id(findings, "stack-tasks-apart")
        assert "node lab-n1" in apart.title and "node lab-n2" in apart.title
        assert "sw" in evidence_text(apart) and "on node lab-n2: running" in evidence_text(apart)
        vantage = by_id(findings, "socket-vantage")
        assert vantage.title.startswith("Server up on node lab-n1; backend on node lab-n2")
        # The backend's own log, read through node lab-n2's engine.
        assert by_id(findings, "log-backend-cannot-connect").status is Status.FAIL
        # The stack's volumes carry Swarm's label, not Compose's: they are the stack's own.
        assert "volume-foreign-project" not in {f.id for f in findings}
        assert by_id(findings, "engine-volumes").status is Status.OK
        # Without lab-n2's engine, a probe task on lab-n2 looks at the backend's socket volume there.
        blind = Options(
            project_directory=deployment.workdir, project_name=deployment.stack, docker_host=lab.manager.host
        )
        blind_findings = checked(blind, select(["socket-vantage"]))
        vantage = by_id(blind_findings, "socket-vantage")
        assert vantage.title.startswith("Server up on node lab-n1; backend on node lab-n2")
        assert "no answer — pg_isready in a probe task on node lab-n2" in evidence_text(vantage)
        assert not lab.manager.docker("service", "ls", "-q", "--filter", f"label={PROBE_LABEL}").strip()
        # From the worker (no Swarm API there) the file is still judged, and the doctor says so.
        worker = Options(
            project_directory=deployment.workdir, project_name=deployment.stack, docker_host=lab.nodes[1].host
        )
        seen = checked(worker)
        assert by_id(seen, "stack-placement-apart").status is Status.FAIL
        assert "judged from the files only" in by_id(seen, "stack-placement").title
    elif name == "stack-db-replicas":
        replicas = by_id(findings, "stack-database-replicas")
        assert replicas.status is Status.FAIL
        assert "on nodes lab-n1, lab-n2" in replicas.title
    else:
        assert "stack-placement-apart" not in problems
        apart = by_id(findings, "stack-tasks-apart")
        assert apart.status is Status.FAIL and "pins them together" in apart.detail


CHANGES = {"create", "start", "stop", "kill", "die", "destroy", "remove", "update", "pause", "restart", "prune"}


def test_read_only_changes_nothing_on_any_node(swarm: tuple[SwarmLab, str], stack: list[StackDeployment]) -> None:
    """With --read-only the doctor reads the Swarm API and both nodes' engines and changes
    nothing: no event on either node but the engine's own health checks."""
    lab, image = swarm
    deployment = deploy(lab, "stack-apart", image)
    stack.append(deployment)
    deployment.wait()
    time.sleep(1 - time.time() % 1 + 0.05)  # events have whole-second times: start on a fresh second
    started = int(time.time())
    options = Options(
        project_directory=deployment.workdir,
        project_name=deployment.stack,
        docker_host=lab.manager.host,
        node_engines=tuple(lab.node_engines()),
        read_only=True,
    )
    findings = checked(options)
    assert by_id(findings, "stack-tasks-apart").status is Status.FAIL
    time.sleep(1)
    ended = int(time.time()) + 1
    changes = []
    for node in lab.nodes:
        client = docker.DockerClient(base_url=node.host, version="auto", timeout=30)
        try:
            for event in client.events(since=started, until=ended, decode=True):
                action = str(event.get("Action", ""))
                if action.split(":", maxsplit=1)[0] in CHANGES or (action.startswith("exec_") and "-t " in action):
                    changes.append((node.hostname, event.get("Type"), action))
        finally:
            client.close()
    assert changes == []
