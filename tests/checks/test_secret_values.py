"""secret-values: a secret that is also a name, part of a path or an ordinary word cannot be
masked everywhere without masking what the report is about (weak-secret, info)."""

from __future__ import annotations

import pytest

from checks import secret_values
from doctor.models import Status
from doctor.redact import Redactor
from tests.checks.projects import context, verdicts


@pytest.mark.parametrize(
    ("case", "expected", "evidence"),
    [
        pytest.param("weak-secret-pass", [("secret-values", Status.OK)], [], id="pass"),
        pytest.param(
            "weak-secret-fail",
            [("weak-secret", Status.INFO)],
            [("compose.yaml:6", "POSTGRES_PASSWORD, value not shown")],
            id="fail",
        ),
    ],
)
def test_run(case: str, expected: list[tuple[str, Status]], evidence: list[tuple[str, str]]) -> None:
    found = list(secret_values.run(context(case)))
    assert verdicts(found) == expected
    assert [(e.source, e.text) for f in found for e in f.evidence] == evidence


PROTECTED = ["shop", "database", "/var/run/postgresql"]


@pytest.mark.parametrize(
    ("secrets", "weak"),
    [
        pytest.param([("POSTGRES_PASSWORD", "Zq8-long-random-Kp31x", "c:1")], [], id="strong"),
        pytest.param([("POSTGRES_PASSWORD", "${DB_PASSWORD}", "c:1")], [], id="reference-is-not-a-value"),
        pytest.param([("POSTGRES_PASSWORD", "   ", "c:1")], [], id="blank"),
        pytest.param([("POSTGRES_PASSWORD", "password", "c:1")], ["POSTGRES_PASSWORD"], id="ordinary-word"),
        pytest.param([("POSTGRES_PASSWORD", "database", "c:1")], ["POSTGRES_PASSWORD"], id="a-service-name"),
        pytest.param([("POSTGRES_PASSWORD", "postgresql", "c:1")], ["POSTGRES_PASSWORD"], id="part-of-a-path"),
        pytest.param([("POSTGRES_PASSWORD", "x9!", "c:1")], ["POSTGRES_PASSWORD"], id="too-short"),
        pytest.param(
            [("POSTGRES_PASSWORD", "shop", "c:1"), ("POSTGRES_PASSWORD", "shop", "c:2")],
            ["POSTGRES_PASSWORD"],
            id="one-finding-per-name",
        ),
        pytest.param(
            [
                ("POSTGRES_PASSWORD", "shop", "c:1"),
                ("API_TOKEN", "Zq8-long-random-Kp31x", "c:2"),
                ("PGPASSWORD", "abc", "c:3"),
            ],
            ["POSTGRES_PASSWORD", "PGPASSWORD"],
            id="only-the-weak-ones",
        ),
    ],
)
def test_find_weak(secrets: list[tuple[str, str, str]], weak: list[str]) -> None:
    found = list(secret_values.find_weak(Redactor(protected=PROTECTED), "database", secrets))
    assert verdicts(found) == [("weak-secret", Status.INFO)] * len(weak)
    assert [e.text for f in found for e in f.evidence] == [f"{name}, value not shown" for name in weak]
