"""Facts as values: the JSON report lists only those that are set, a bundle's are read back
(untrusted: a wrong type is left out), and the redactor masks what a fact carries as it does a
title."""

from __future__ import annotations

from typing import Any

import pytest

from doctor.models import Errno, Facts, Finding, Status, VantageVerdict, facts_dict, facts_from_dict
from doctor.readback import finding_from_dict
from doctor.redact import Redactor
from doctor.render.json_report import finding_dict

FULL = Facts(
    service="db",
    services=("backend", "worker"),
    container="app-db-1",
    state="exited",
    exit_code=137,
    count=3,
    first_seen="2026-01-01T09:12:01",
    last_seen="2026-01-01T09:12:09",
    log="app-db-1",
    cause="reverse-sshfs",
    errno_class=Errno.ENOENT,
    volume="app_db_socket",
    node="node-1",
    path="/Users/me/s",
    origin="compose.yaml:9",
    vantage=VantageVerdict.NOT_SHARED,
    reason="no --log-file given",
)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(Facts(), {}, id="none-set"),
        pytest.param(Facts(exit_code=0, services=()), {"exit_code": 0}, id="zero-is-set-empty-is-not"),
        pytest.param(Facts(errno_class=Errno.EACCES, services=("a",)), {"services": ["a"], "errno_class": "eacces"},
                     id="enum-by-value-tuple-as-list"),
    ],
)  # fmt: skip
def test_only_the_set_facts_are_in_the_json(facts: Facts, expected: dict[str, Any]) -> None:
    assert facts_dict(facts) == expected
    assert finding_dict(Finding("socket-missing", Status.FAIL, "t", facts=facts))["facts"] == expected


def test_facts_survive_a_bundle() -> None:
    finding = Finding("socket-vantage", Status.FAIL, "t", facts=FULL)
    assert finding_from_dict(finding_dict(finding)).facts == FULL


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"exit_code": "137"}, id="number-as-text"),
        pytest.param({"count": True}, id="bool-is-no-count"),
        pytest.param({"vantage": "works-somewhere"}, id="unknown-verdict"),
        pytest.param({"vantage": ["not-shared"], "errno_class": {}}, id="unhashable-enum-value"),
        pytest.param({"services": "backend"}, id="text-for-a-list"),
        pytest.param({"service": ["db"]}, id="list-for-text"),
        pytest.param({"title": "prose"}, id="unknown-key"),
    ],
)
def test_a_bundles_wrong_facts_are_left_out(bad: dict[str, Any]) -> None:
    assert facts_from_dict(bad) == Facts()


def test_an_old_bundle_without_facts_reads() -> None:
    """Its recorded title is the only account of it there is: the root cause shows it as written."""
    data = {"id": "socket-missing", "status": "fail", "title": "t", "remedy": None}
    assert finding_from_dict(data).facts == Facts(account="t")


def test_facts_are_redacted_like_titles() -> None:
    url = "postgresql://app:Kd9-Pg-31@db/app?host=/run/pg"
    finding = Finding("socket-missing", Status.FAIL, url, facts=Facts(path=url, services=(url,), exit_code=1))
    redacted = Redactor().finding(finding)
    assert "Kd9-Pg-31" not in redacted.title
    assert redacted.facts.path == redacted.title
    assert redacted.facts.services == (redacted.title,)
    assert redacted.facts.exit_code == 1
