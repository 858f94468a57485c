"""One pass and one fail fixture per Compose rule, judged through the real check sequence.

Fixtures live in tests/fixtures/compose/<case>/; each is a project directory as an operator
would have it (compose.yaml, sometimes an override file or .env)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks import CHECKS
from doctor.context import Options, build_context
from doctor.models import Finding, Status
from doctor.runner import run_checks
from tests.conftest import FIXTURES

COMPOSE = FIXTURES / "compose"


def findings_for(case: str, target_os: str, environ: dict[str, str] | None = None) -> list[Finding]:
    options = Options(project_directory=COMPOSE / case, target_os=target_os, offline=True)
    ctx = build_context(options, environ=environ if environ is not None else {"HOME": "/home/op"})
    return run_checks(ctx, CHECKS)


def statuses(findings: list[Finding], finding_id: str) -> set[Status]:
    return {f.status for f in findings if f.id == finding_id}


FAILING = [
    pytest.param("socket-host-path-fail", "macos", "socket-host-path", Status.FAIL, id="host-path-macos"),
    pytest.param("socket-host-path-fail", "linux", "socket-host-path", Status.WARN, id="host-path-linux-warns"),
    pytest.param("socket-host-path-long-syntax", "macos", "socket-host-path", Status.FAIL, id="host-path-long-syntax"),
    pytest.param("socket-host-path-override", "macos", "socket-host-path", Status.FAIL, id="host-path-in-override"),
    pytest.param("socket-host-path-interpolated", "macos", "socket-host-path", Status.FAIL, id="host-path-from-env"),
    pytest.param(
        "socket-volume-bind-device-fail", "macos", "socket-volume-bind-device", Status.FAIL, id="bind-device-macos"
    ),
    pytest.param(
        "socket-volume-bind-device-fail", "linux", "socket-volume-bind-device", Status.WARN, id="bind-device-linux"
    ),
    pytest.param("socket-volume-undeclared-fail", "linux", "socket-volume-undeclared", Status.FAIL, id="undeclared"),
    pytest.param("socket-volume-mismatch-fail", "linux", "socket-volume-mismatch", Status.FAIL, id="mismatch"),
    pytest.param("socket-tmpfs-private", "macos", "socket-volume-mismatch", Status.FAIL, id="tmpfs-at-socket-dir"),
    pytest.param(
        "backend-socket-not-mounted-fail", "linux", "backend-socket-not-mounted", Status.FAIL, id="not-mounted"
    ),
    pytest.param(
        "database-url-socket-mismatch-fail", "linux", "database-url-socket-mismatch", Status.FAIL, id="url-dir"
    ),
    pytest.param(
        "database-url-socket-mismatch-port", "linux", "database-url-socket-mismatch", Status.FAIL, id="url-port"
    ),
    pytest.param("socket-dir-not-mounted-fail", "linux", "socket-dir-not-mounted", Status.FAIL, id="server-dir"),
    pytest.param("socket-path-too-long-fail", "linux", "socket-path-too-long", Status.FAIL, id="too-long"),
    pytest.param("data-volume-strategy-fail", "macos", "data-volume-strategy", Status.WARN, id="data-host-path-macos"),
    pytest.param("data-volume-strategy-pass", "linux", "data-volume-strategy", Status.INFO, id="data-named-linux-info"),
    pytest.param("backend-start-order-fail", "linux", "backend-start-order", Status.WARN, id="start-order"),
    pytest.param("compose-invalid-fail", "linux", "compose-invalid", Status.FAIL, id="services-not-mapping"),
    pytest.param("compose-invalid-syntax", "linux", "compose-invalid", Status.FAIL, id="yaml-syntax"),
    pytest.param("compose-invalid-volume-entry", "linux", "compose-invalid", Status.FAIL, id="volume-entry-type"),
    pytest.param(
        "compose-variable-required-fail", "linux", "compose-variable-required", Status.FAIL, id="required-var"
    ),
    pytest.param("guide-incorrect", "macos", "socket-host-path", Status.FAIL, id="guide-incorrect"),
]


@pytest.mark.parametrize(("case", "target_os", "finding_id", "status"), FAILING)
def test_fail_fixture_reports_the_rule(case: str, target_os: str, finding_id: str, status: Status) -> None:
    assert statuses(findings_for(case, target_os), finding_id) == {status}


PASSING = [
    pytest.param("socket-host-path-pass", "socket-host-path", id="host-path"),
    pytest.param("socket-volume-bind-device-pass", "socket-volume-bind-device", id="bind-device"),
    pytest.param("socket-volume-undeclared-pass", "socket-volume-undeclared", id="undeclared"),
    pytest.param("socket-volume-mismatch-pass", "socket-volume-mismatch", id="mismatch"),
    pytest.param("backend-socket-not-mounted-pass", "backend-socket-not-mounted", id="not-mounted"),
    pytest.param("database-url-socket-mismatch-pass", "database-url-socket-mismatch", id="url"),
    pytest.param("socket-dir-not-mounted-pass", "socket-dir-not-mounted", id="server-dir"),
    pytest.param("socket-path-too-long-pass", "socket-path-too-long", id="too-long"),
    pytest.param("data-volume-strategy-pass", "data-volume-strategy", id="data"),
    pytest.param("backend-start-order-pass", "backend-start-order", id="start-order"),
    pytest.param("compose-invalid-pass", "compose-invalid", id="valid"),
    pytest.param("compose-variable-required-pass", "compose-variable-required", id="required-var-from-dotenv"),
]


@pytest.mark.parametrize(("case", "finding_id"), PASSING)
@pytest.mark.parametrize("target_os", ["linux", "macos"])
def test_pass_fixture_has_no_problem(case: str, finding_id: str, target_os: str) -> None:
    findings = findings_for(case, target_os)
    assert not statuses(findings, finding_id) & {Status.WARN, Status.FAIL, Status.ERROR}
    assert not [f for f in findings if f.status in (Status.FAIL, Status.ERROR)], [f.title for f in findings]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param("tcp-client", id="tcp-client-needs-no-socket"),
        pytest.param("run-equals-var-run", id="run-is-var-run-and-ro-is-fine"),
        pytest.param("pghost-and-dsn-clients", id="pghost-dsn-percent-encoded"),
        pytest.param("guide-correct", id="guide-correct"),
    ],
)
@pytest.mark.parametrize("target_os", ["linux", "macos"])
def test_healthy_variants_are_never_reported(case: str, target_os: str) -> None:
    findings = findings_for(case, target_os)
    problems = [f"{f.id}: {f.title}" for f in findings if f.status in (Status.WARN, Status.FAIL, Status.ERROR)]
    assert problems == []


def test_guide_correct_says_why_socket_is_ok() -> None:
    ok = [f for f in findings_for("guide-correct", "macos") if f.id == "socket-volume-ok"]
    assert len(ok) == 1
    assert "guide-correct_db_socket" in ok[0].title


def test_tcp_client_is_not_a_socket_client() -> None:
    ids = {f.id for f in findings_for("tcp-client", "macos")}
    assert "socket-no-clients" in ids
    assert "backend-socket-not-mounted" not in ids


def test_override_evidence_points_at_the_override_file() -> None:
    finding = next(f for f in findings_for("socket-host-path-override", "macos") if f.id == "socket-host-path")
    sources = {e.source for e in finding.evidence}
    assert sources == {"compose.override.yaml:5", "compose.override.yaml:8"}
    assert "/home/op/cultivate/socket" in finding.title


def test_interpolated_entry_shows_written_and_resolved() -> None:
    finding = next(f for f in findings_for("socket-host-path-interpolated", "macos") if f.id == "socket-host-path")
    text = finding.evidence[0].text
    assert "${SOCKET_DIR:-/Users/me/socket}:/var/run/postgresql" in text
    assert "/Users/me/cultivate/socket:/var/run/postgresql" in text


def test_syntax_error_names_line_and_column() -> None:
    finding = next(f for f in findings_for("compose-invalid-syntax", "linux") if f.id == "compose-invalid")
    assert finding.title.startswith("compose.yaml:")
    line = int(finding.title.split(":")[1])
    assert line == 5  # the unclosed flow sequence ends with the file, after line 4


def test_shape_error_names_the_path_inside_the_file() -> None:
    finding = next(f for f in findings_for("compose-invalid-volume-entry", "linux") if f.id == "compose-invalid")
    assert "services.database.volumes[2]" in finding.title
    assert "compose.yaml:7" in finding.title


def test_url_mismatch_suggests_the_mounted_directory() -> None:
    finding = next(
        f for f in findings_for("database-url-socket-mismatch-fail", "linux") if f.id == "database-url-socket-mismatch"
    )
    assert finding.remedy is not None
    assert "host=/sockets" in finding.remedy.summary
    assert "+      DATABASE_URL: postgresql://app@localhost/app?host=/sockets" in finding.remedy.diff


def test_compose_checks_skip_when_the_file_is_unreadable() -> None:
    findings = findings_for("compose-invalid-syntax", "linux")
    assert statuses(findings, "socket-mounts") == {Status.SKIP}


def test_volume_engine_names_follow_the_project(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "name: My_App\nservices: {}\nvolumes:\n  a: {}\n  b: {name: fixed}\n  c: {external: true}\n"
    )
    ctx = build_context(Options(project_directory=tmp_path, offline=True), environ={})
    assert dict(ctx.target().volumes) == {"a": "my_app_a", "b": "fixed", "c": "c"}


def test_bind_device_is_only_a_warning_on_finch() -> None:

    from checks import socket_mounts
    from doctor.engine.api import EngineAPI
    from doctor.engine.endpoint import Endpoint
    from doctor.engine.runtime import identify
    from doctor.engine.session import EngineSession

    finch = identify(
        {"Platform": {"Name": "Finch Daemon - 0.12.0"}},
        {},
        "unix:///Applications/Finch/lima/data/finch/sock/finch.sock",
        "macos",
    )
    options = Options(project_directory=COMPOSE / "socket-volume-bind-device-fail", target_os="macos", offline=True)
    ctx = build_context(options, environ={})
    # socket-mounts reads only the engine's runtime: a client that never connects is enough.
    endpoint = Endpoint("unix:///Applications/Finch/lima/data/finch/sock/finch.sock", "--docker-host")
    ctx.engine = EngineSession(
        api=EngineAPI(endpoint.url, 5), endpoint=endpoint, version={}, info={}, runtime=finch, timeout=5
    )
    finding = next(f for f in socket_mounts.run(ctx) if f.id == "socket-volume-bind-device")
    assert finding.status is Status.WARN
    assert "works only by accident" in finding.detail
