"""The CLI reads a deployment as Compose v2 does: -f in a subfolder, --profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, CliResult

PROFILED = """
services:
  database:
    image: postgres:16
    volumes: [db_socket:/var/run/postgresql]
  tools:
    image: postgres:16
    profiles: [debug]
    environment:
      DATABASE_URL: postgresql://app@/app?host=/var/run/postgresql
    volumes: [./socket:/var/run/postgresql]
volumes:
  db_socket: {}
"""


def ids(result: CliResult) -> set[str]:
    report = json.loads(result.out)
    return {finding["id"] for finding in report["findings"]}


@pytest.mark.parametrize(
    ("extra", "judged"),
    [
        pytest.param([], False, id="inactive-profile-not-judged"),
        pytest.param(["--profile", "debug"], True, id="profile-flag"),
        pytest.param(["--profile", "other", "--profile", "debug"], True, id="repeatable"),
    ],
)
def test_profile_flag(cli: Cli, tmp_path: Path, extra: list[str], judged: bool) -> None:
    (tmp_path / "compose.yaml").write_text(PROFILED)
    args = ["--project-directory", str(tmp_path), "--offline", "--target-os", "macos", "--format", "json", *extra]
    result = cli(*args)
    assert ("socket-host-path" in ids(result)) is judged


def test_file_in_a_subfolder_sets_the_project_directory(cli: Cli, tmp_path: Path) -> None:
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "compose.yaml").write_text(
        "services:\n  database:\n    image: postgres:16\n    env_file: db.env\n"
        "    volumes: [db_socket:/var/run/postgresql, db_data:/var/lib/postgresql/data]\n"
        "volumes:\n  db_socket: {}\n  db_data: {}\n"
    )
    (deploy / "db.env").write_text("POSTGRES_PASSWORD=example\n")
    result = cli("-f", "deploy/compose.yaml", "--offline", "--format", "json", cwd=tmp_path)
    report = json.loads(result.out)
    assert "compose-invalid" not in ids(result)  # the env_file is found beside the file, not in the cwd
    assert report["target"]["project"] == "deploy"
    names = {v["key"]: v["engine_name"] for v in report["target"]["volumes"]}
    assert names == {"db_socket": "deploy_db_socket", "db_data": "deploy_db_data"}
