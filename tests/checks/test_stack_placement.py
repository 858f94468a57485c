"""Swarm stacks judged from the files (``--stack``, offline) and from the nodes a swarm reports:
placement binds the database and its socket clients to one node, one database replica, and
Swarm's disregard of depends_on. The live side is proven on the multi-node lab (tests/lab)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks import CHECKS
from doctor.compose.deploy import Constraint, Deploy, read_deploy
from doctor.compose.model import Origin
from doctor.compose.project import load_project
from doctor.context import Options, build_context
from doctor.engine.swarm import Node, Stack, Task
from doctor.models import Finding, Status, Target, TargetOS
from doctor.placement import together
from doctor.plan import build_plan, pair_subject
from doctor.report import make_report
from doctor.runner import run_checks
from tests.conftest import FIXTURES

COMPOSE = FIXTURES / "compose"


def findings_for(directory: Path, stack: str | None = "st1") -> list[Finding]:
    options = Options(project_directory=directory, target_os="linux", offline=True, stack=stack)
    return run_checks(build_context(options, environ={"HOME": "/home/op"}), CHECKS)


def ids(findings: list[Finding], status: Status) -> set[str]:
    return {f.id for f in findings if f.status is status}


CASES = [
    pytest.param("stack-placement-pass", "stack-placement-ok", Status.OK, id="pinned-together"),
    pytest.param("stack-placement-fail", "stack-placement-apart", Status.FAIL, id="no-constraints"),
    pytest.param("stack-placement-label", "stack-placement-apart", Status.FAIL, id="only-database-pinned"),
    pytest.param("stack-database-replicas-fail", "stack-database-replicas", Status.FAIL, id="two-db-replicas"),
    pytest.param("stack-placement-fail", "stack-depends-on-ignored", Status.INFO, id="depends-on-ignored"),
]


@pytest.mark.parametrize(("case", "finding_id", "status"), CASES)
def test_stack_rules(case: str, finding_id: str, status: Status) -> None:
    findings = findings_for(COMPOSE / case)
    assert finding_id in ids(findings, status), [(f.id, f.status) for f in findings]


def test_a_stack_is_not_told_to_add_depends_on() -> None:
    findings = findings_for(COMPOSE / "stack-placement-pass")
    assert not [f for f in findings if f.id == "backend-start-order" and f.status is Status.WARN]


def test_without_stack_the_placement_check_skips() -> None:
    findings = findings_for(COMPOSE / "guide-correct", stack=None)
    assert {f.status for f in findings if f.check == "stack-placement"} == {Status.SKIP}


def test_the_header_says_stack() -> None:
    ctx = build_context(Options(project_directory=COMPOSE / "stack-placement-pass", offline=True, stack="st1"))
    target = ctx.target([])
    assert (target.stack, target.project) == ("st1", "st1")


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch (apt-get install patch)")
@pytest.mark.parametrize("case", ["stack-placement-fail", "stack-placement-label"])
def test_the_diff_applies_and_binds_them(case: str, tmp_path: Path) -> None:
    project = tmp_path / case
    shutil.copytree(COMPOSE / case, project)
    finding = next(f for f in findings_for(project) if f.id == "stack-placement-apart")
    assert finding.remedy is not None and finding.remedy.diff
    subprocess.run(["patch", "-p1"], cwd=project, input=finding.remedy.diff, text=True, check=True, timeout=30)
    after = findings_for(project)
    assert "stack-placement-apart" not in {f.id for f in after}
    assert "stack-placement-ok" in ids(after, Status.OK)


def test_deploy_keys_are_read_with_lines() -> None:
    project = load_project(COMPOSE / "stack-placement-pass", environ={"HOME": "/home/op"})
    assert project is not None
    deploys = read_deploy(project)
    backend = deploys["backend"]
    assert [c.written for c in backend.constraints] == ["node.hostname == db1"]
    assert backend.restart_condition == "any"
    assert backend.constraints[0].origin == Origin("compose.yaml", 26)
    assert deploys["database"].replicas == 1


def node(hostname: str, labels: dict[str, str] | None = None, availability: str = "active") -> Node:
    return Node(f"id-{hostname}", hostname, "worker", "ready", availability, labels or {})


def deploy(name: str, *constraints: str) -> Deploy:
    parsed = []
    for text in constraints:
        key, op, value = text.split(" ")
        parsed.append(Constraint(key, op, value, text, Origin("compose.yaml", 1)))
    return Deploy(name, constraints=parsed)


NODES = [node("n1", {"db": "true"}), node("n2"), node("n3", {"db": "true"}, availability="drain")]

TOGETHER = [
    pytest.param(["node.hostname == n1"], ["node.hostname == n1"], None, True, id="same-hostname-offline"),
    pytest.param(["node.hostname == n1"], ["node.hostname == n2"], None, False, id="different-hostnames-offline"),
    pytest.param(["node.hostname == n1"], [], None, False, id="client-unpinned-offline"),
    pytest.param(["node.labels.db == true"], ["node.labels.db == true"], None, True, id="label-trusted-offline"),
    pytest.param(["node.hostname == n1"], ["node.hostname == n1"], NODES, True, id="same-hostname-live"),
    # n3 carries the label but is drained: the label leaves only n1.
    pytest.param(["node.labels.db == true"], ["node.labels.db == true"], NODES, True, id="label-one-active-node"),
    pytest.param(
        ["node.labels.db == true"],
        ["node.labels.db == true"],
        [*NODES[:2], node("n4", {"db": "true"})],
        False,
        id="label-on-two-nodes",
    ),
    pytest.param([], [], [node("n1")], True, id="single-node-swarm"),
    pytest.param([], [], NODES[:2], False, id="two-nodes-unpinned"),
    pytest.param(["node.hostname == n1"], ["node.hostname != n2"], NODES, True, id="exclusion-leaves-one"),
]


@pytest.mark.parametrize(("db", "client", "nodes", "expected"), TOGETHER)
def test_together(db: list[str], client: list[str], nodes: list[Node] | None, expected: bool) -> None:
    verdict = together(deploy("database", *db), deploy("backend", *client), nodes)
    assert verdict.together is expected, verdict.reason


def _task(service: str, node_id: str, state: str = "running") -> Task:
    return Task(f"{service}-{node_id}-task", service, 1, node_id, state, "running", "", "", "", None, "")


def test_live_tasks_apart_name_each_node() -> None:
    from checks.stack_placement import find_apart_live

    stack = Stack("st1", True, nodes={n.id: n for n in NODES[:2]})
    stack.tasks = [_task("database", "id-n1"), _task("backend", "id-n2")]
    found = list(find_apart_live(stack, deploy("database"), deploy("backend"), pinned_in_file=False))
    assert [f.id for f in found] == ["stack-tasks-apart"]
    assert "node n1" in found[0].title and "node n2" in found[0].title
    texts = sorted(e.text for e in found[0].evidence)
    assert texts == ["st1_backend.1 on node n2: running", "st1_database.1 on node n1: running"]
    stack.tasks = [_task("database", "id-n1"), _task("backend", "id-n1")]
    assert not list(find_apart_live(stack, deploy("database"), deploy("backend"), pinned_in_file=False))


def test_a_stack_volume_is_the_stacks_own() -> None:
    from checks.engine_volumes import WantedVolume, find_volume_problems

    wanted = [WantedVolume("db_socket", "st1_db_socket", "socket", False)]
    stack_volume = {"Name": "st1_db_socket", "Labels": {"com.docker.stack.namespace": "st1"}, "Options": None}
    assert not list(find_volume_problems(wanted, [stack_volume], "st1", True, TargetOS.LINUX))
    other = {**stack_volume, "Labels": {"com.docker.stack.namespace": "other"}}
    assert [f.id for f in find_volume_problems(wanted, [other], "st1", True, TargetOS.LINUX)] == [
        "volume-foreign-project"
    ]


@pytest.mark.parametrize(
    ("nodes", "status"),
    [
        pytest.param([node("n1")], Status.WARN, id="one-node-warns"),
        pytest.param(NODES[:2], Status.FAIL, id="two-nodes-fail"),
    ],
)
def test_unpinned_stack_on_a_live_swarm(nodes: list[Node], status: Status) -> None:
    from checks.stack_placement import find_apart_in_file

    project = load_project(COMPOSE / "stack-placement-fail", environ={"HOME": "/home/op"})
    assert project is not None
    deploys = read_deploy(project)
    stack = Stack("st1", True, nodes={n.id: n for n in nodes})
    stack.tasks = [_task("database", nodes[0].id)]
    found = list(find_apart_in_file(project, deploys["database"], deploys["backend"], stack))
    assert [(f.id, f.status) for f in found] == [("stack-placement-apart", status)]
    assert found[0].remedy is not None and "`node.hostname == n1`" in found[0].remedy.summary
    # The diff is the planner's slice for the pair: the node the database runs on, in both services.
    ctx = build_context(Options(project_directory=COMPOSE / "stack-placement-fail", stack="st1", offline=True), {})
    ctx.stack = stack
    diff = build_plan(ctx).diff("stack-placement-apart", pair_subject("database", "backend"), partial=True)
    added = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added.count("- node.hostname == n1") == 2, diff


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        pytest.param(
            "st1",
            (
                "docker stack deploy -c compose.yaml st1",
                "docker service ps --no-trunc st1_backend",
                "docker service logs --tail 50 st1_backend",
                "docker node ls",
            ),
            id="stack",
        ),
        pytest.param(
            None,
            (
                "docker compose -p backend-socket-not-mounted-fail up -d --force-recreate",
                "docker volume inspect backend-socket-not-mounted-fail_db_socket",
                "docker compose -p backend-socket-not-mounted-fail logs --tail 50 backend",
            ),
            id="compose",
        ),
    ],
)
def test_remedy_commands_follow_the_deployment(stack: str | None, expected: tuple[str, ...]) -> None:
    findings = findings_for(COMPOSE / "backend-socket-not-mounted-fail", stack=stack)
    finding = next(f for f in findings if f.id == "backend-socket-not-mounted")
    assert finding.remedy is not None
    assert finding.remedy.commands == expected


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(Options(project_name="a", stack="b"), id="p-and-stack-differ"),
        pytest.param(Options(stack="st1", node_engines=("lab-n2",)), id="node-engine-without-url"),
        pytest.param(Options(stack="st1", node_engines=("lab-n2=/run/docker.sock",)), id="node-engine-not-a-url"),
    ],
)
def test_bad_stack_flags_are_usage_errors(options: Options) -> None:
    from dataclasses import replace

    from doctor.context import UsageError

    with pytest.raises(UsageError):
        build_context(replace(options, project_directory=COMPOSE / "stack-placement-pass", offline=True), {})


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["replicas", "mode", "placement", "constraints", "preferences", "spread", "restart_policy", "condition"]), inner, max_size=4)), max_leaves=12)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(deploy_value=_VALUES)
@example(deploy_value={"replicas": float("inf")})
@example(deploy_value={"replicas": "two", "placement": {"constraints": "node.role == manager"}})
@example(deploy_value={"placement": {"constraints": [{"node.hostname": "a"}, None, 3]}, "restart_policy": [1]})
def test_any_deploy_shape_is_read_without_crashing(
    deploy_value: object, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("deploy")
    body = {
        "services": {"database": {"image": "postgres:16", "deploy": deploy_value}, "backend": {"deploy": deploy_value}}
    }
    (directory / "compose.yaml").write_text(yaml.safe_dump(body))
    findings = findings_for(directory)
    assert not [f for f in findings if f.id == "check-crashed"], [
        f.evidence for f in findings if f.id == "check-crashed"
    ]


@pytest.mark.parametrize(
    ("target", "header"),
    [
        pytest.param(
            Target(TargetOS.LINUX, "x", project="st1", stack="st1", nodes=2), "stack st1 on 2 nodes", id="stack"
        ),
        pytest.param(
            Target(TargetOS.LINUX, "x", project="st1", stack="st1", nodes=1), "stack st1 on 1 node", id="one-node"
        ),
        pytest.param(Target(TargetOS.LINUX, "x", project="app"), "project app", id="compose"),
    ],
)
def test_every_format_names_the_stack(target: Target, header: str) -> None:
    import io
    import json

    from doctor.render.json_report import render_json
    from doctor.render.markdown import render_markdown
    from doctor.render.terminal import make_console, render_terminal

    stream = io.StringIO()
    render_terminal(make_console(stream, "never"), make_report(target, []))
    assert header in stream.getvalue()
    kind, name = header.split(" ", 1)
    assert f"| {kind.capitalize()} | {name} |" in render_markdown(make_report(target, []))
    stack = json.loads(render_json(make_report(target, [])))["target"]["stack"]
    assert stack == ({"name": "st1", "nodes": target.nodes} if target.stack else None)
