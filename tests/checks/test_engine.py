"""engine: whether the engine answered, and which runtime it is. The context carries what
connecting gave (a session built from the engine's version and info answers, or the error)."""

from __future__ import annotations

from typing import Any

import pytest

from checks import engine
from doctor.context import Context, Options
from doctor.engine.api import EngineAPI
from doctor.engine.endpoint import Endpoint
from doctor.engine.runtime import identify
from doctor.engine.session import EngineSession, EngineUnreachable
from doctor.models import Status, TargetOS
from doctor.redact import Redactor
from tests.checks.projects import verdicts

DOCKER = "unix:///var/run/docker.sock"
FINCH = "unix:///Applications/Finch/lima/data/finch/sock/finch.sock"
ENDPOINT = Endpoint(DOCKER, "the default socket")


def session(url: str, version: dict[str, Any], info: dict[str, Any]) -> EngineSession:
    # The check reads the session's answers only: the client never connects.
    runtime = identify(version, info, url, "linux")
    return EngineSession(api=EngineAPI(url, 5), endpoint=Endpoint(url, "--docker-host"), version=version, info=info,
                         runtime=runtime, timeout=5)  # fmt: skip


def context(*, offline: bool = False, endpoint: Endpoint | None = None, live: EngineSession | None = None,
            error: EngineUnreachable | None = None) -> Context:  # fmt: skip
    return Context(Options(offline=offline), TargetOS.LINUX, "--target-os", None, {}, Redactor(),
                   endpoint=endpoint, engine=live, engine_error=error)  # fmt: skip


DOCKER_ENGINE = session(
    DOCKER,
    {"Version": "27.3.1", "ApiVersion": "1.47"},
    {"OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "KernelVersion": "6.1.0"},
)
FINCH_ENGINE = session(FINCH, {"Platform": {"Name": "Finch Daemon - 0.12.0"}, "ApiVersion": "1.43"}, {})


@pytest.mark.parametrize(
    ("ctx", "expected", "evidence"),
    [
        pytest.param(context(offline=True), [("engine", Status.SKIP)], [], id="offline"),
        pytest.param(context(), [("engine", Status.SKIP)], [], id="not-contacted"),
        pytest.param(
            context(endpoint=ENDPOINT, error=EngineUnreachable(ENDPOINT, "no-socket", "FileNotFoundError")),
            [("engine-unreachable", Status.WARN)],
            [(DOCKER, "FileNotFoundError")],
            id="unreachable",
        ),
        pytest.param(
            context(endpoint=ENDPOINT, live=DOCKER_ENGINE),
            [("engine-info", Status.INFO)],
            [("version", "27.3.1"), ("info", "Debian GNU/Linux 12 (bookworm)")],
            id="docker",
        ),
        pytest.param(
            context(endpoint=Endpoint(FINCH, "--docker-host"), live=FINCH_ENGINE),
            [("engine-info", Status.INFO)],
            [("version", ""), ("info", FINCH_ENGINE.runtime.vm_os)],
            id="finch",
        ),
    ],
)
def test_run(ctx: Context, expected: list[tuple[str, Status]], evidence: list[tuple[str, str]]) -> None:
    found = list(engine.run(ctx))
    assert verdicts(found) == expected
    assert [(e.source, e.text) for f in found for e in f.evidence] == evidence


@pytest.mark.parametrize(
    ("cause", "remedy_names"),
    [
        pytest.param("no-socket", "finch vm start", id="no-socket"),
        pytest.param("permission", "usermod -aG docker", id="permission"),
        pytest.param("ssh", "paramiko", id="ssh"),
    ],
)
def test_the_remedy_is_the_cause_s_own(cause: str, remedy_names: str) -> None:
    ctx = context(endpoint=ENDPOINT, error=EngineUnreachable(ENDPOINT, cause, "detail"))
    (finding,) = engine.run(ctx)
    assert finding.remedy is not None
    assert remedy_names in finding.remedy.summary
