"""A remedy's commands split into steps (change, in order, marked) and verify (read-only)."""

from __future__ import annotations

import pytest

from doctor.models import Remedy
from doctor.steps import Step, split


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("finch volume inspect p_db_socket", None, id="inspect-reads"),
        pytest.param("docker compose -p p logs --tail 50 database", None, id="logs-read"),
        pytest.param("docker compose config -q", None, id="config-reads"),
        pytest.param("finch compose -p p up -d --force-recreate", Step("finch compose -p p up -d --force-recreate", True, False), id="recreate-stops"),
        pytest.param("finch compose down", Step("finch compose down", True, False), id="down-stops"),
        pytest.param("tar czf db_data.tar.gz -C /srv/data .", Step("tar czf db_data.tar.gz -C /srv/data .", False, True), id="tar-moves"),
        pytest.param(
            "finch run --rm -v v:/data alpine tar xzf /backup/d.tgz -C /data",
            Step("finch run --rm -v v:/data alpine tar xzf /backup/d.tgz -C /data", False, True),
            id="run-rm-is-not-a-stop",
        ),
        pytest.param("finch volume create p_db_data", Step("finch volume create p_db_data"), id="create-is-a-step"),
        pytest.param("frobnicate --all", Step("frobnicate --all"), id="unknown-is-a-step"),
        pytest.param("docker compose logs -f && docker compose down", Step("docker compose logs -f && docker compose down", True, False), id="a-stop-anywhere-is-a-step"),
    ],
)  # fmt: skip
def test_split(command: str, expected: Step | None) -> None:
    steps, verify = split((command,))
    assert (steps, verify) == (((expected,), ()) if expected else ((), (command,)))


def test_order_is_kept_and_marks_read() -> None:
    remedy = Remedy(
        "s", commands=("finch compose down", "finch volume inspect v", "tar czf a.tgz .", "finch compose up -d")
    )
    assert [s.command for s in remedy.steps] == ["finch compose down", "tar czf a.tgz .", "finch compose up -d"]
    assert remedy.verify == ("finch volume inspect v",)
    assert [s.marks for s in remedy.steps] == ["stops the service", "moves data", ""]
