"""Reading a project as docker compose does: which files, which name, how files merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from doctor.compose.files import FileNotFound, normalize_project_name
from doctor.compose.project import load_project

BASE = """
services:
  database:
    image: postgres:16
    environment:
      POSTGRES_DB: app
      POSTGRES_USER: app
    volumes:
      - db_socket:/var/run/postgresql
      - db_data:/var/lib/postgresql/data
volumes:
  db_socket: {}
  db_data: {}
"""


def project_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    directory = tmp_path / "My Project.v2"
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        pytest.param(["compose.yaml"], ["compose.yaml"], id="compose-yaml"),
        pytest.param(["docker-compose.yml"], ["docker-compose.yml"], id="legacy-name"),
        pytest.param(["compose.yaml", "docker-compose.yml"], ["compose.yaml"], id="first-name-wins"),
        pytest.param(
            ["compose.yaml", "compose.override.yaml"], ["compose.yaml", "compose.override.yaml"], id="override"
        ),
        pytest.param(
            ["docker-compose.yml", "docker-compose.override.yml"],
            ["docker-compose.yml", "docker-compose.override.yml"],
            id="legacy-override",
        ),
    ],
)
def test_default_files(tmp_path: Path, names: list[str], expected: list[str]) -> None:
    directory = project_dir(tmp_path, dict.fromkeys(names, "services: {}\n"))
    project = load_project(directory, environ={})
    assert project is not None
    assert [Path(f).name for f in project.files] == expected


def test_compose_file_variable_with_separator(tmp_path: Path) -> None:
    directory = project_dir(tmp_path, {"a.yaml": "services: {}\n", "b.yaml": "services: {}\n"})
    env = {"COMPOSE_FILE": "a.yaml;b.yaml", "COMPOSE_PATH_SEPARATOR": ";"}
    project = load_project(None, environ=env, cwd=directory)  # COMPOSE_FILE names are relative to the current directory
    assert project is not None
    assert [Path(f).name for f in project.files] == ["a.yaml", "b.yaml"]


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFound, match=r"nope\.yaml"):
        load_project(tmp_path, ["nope.yaml"], environ={})


def test_no_file_at_all(tmp_path: Path) -> None:
    assert load_project(tmp_path, environ={}) is None


@pytest.mark.parametrize(
    ("explicit", "env", "top", "expected", "source"),
    [
        pytest.param("Given", {"COMPOSE_PROJECT_NAME": "env"}, "top", "given", "-p/--project-name", id="flag"),
        pytest.param(None, {"COMPOSE_PROJECT_NAME": "Env"}, "top", "env", "COMPOSE_PROJECT_NAME", id="env"),
        pytest.param(None, {}, "Top_Name", "top_name", "top-level name:", id="top-level"),
        pytest.param(None, {}, None, "myprojectv2", "directory name", id="directory"),
    ],
)
def test_project_name_precedence(
    tmp_path: Path, explicit: str | None, env: dict[str, str], top: str | None, expected: str, source: str
) -> None:
    text = (f"name: {top}\n" if top else "") + "services: {}\n"
    project = load_project(project_dir(tmp_path, {"compose.yaml": text}), environ=env, explicit_name=explicit)
    assert project is not None
    assert (project.name, project.name_source) == (expected, source)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("My Project.v2", "myprojectv2"), ("__x-Y", "x-y"), ("ÄpP_1", "pp_1")],
)
def test_normalize_project_name(raw: str, expected: str) -> None:
    assert normalize_project_name(raw) == expected


def test_override_merges_volumes_by_target_and_environment_by_key(tmp_path: Path) -> None:
    override = """
services:
  database:
    environment:
      POSTGRES_DB: other
    volumes:
      - ./socket:/run/postgresql
"""
    directory = project_dir(tmp_path, {"compose.yaml": BASE, "compose.override.yaml": override})
    project = load_project(directory, environ={})
    assert project is not None
    database = project.services["database"]
    assert database.env("POSTGRES_DB") == "other"
    assert database.env("POSTGRES_USER") == "app"
    by_target = {m.canonical_target: (m.type, m.source, m.origin.file) for m in database.mounts}
    assert by_target["/run/postgresql"] == ("bind", str(directory / "socket"), "compose.override.yaml")
    assert by_target["/var/lib/postgresql/data"][0] == "volume"


def test_reset_tag_clears_inherited_volumes(tmp_path: Path) -> None:
    override = "services:\n  database:\n    volumes: !reset []\n"
    directory = project_dir(tmp_path, {"compose.yaml": BASE, "compose.override.yaml": override})
    project = load_project(directory, environ={})
    assert project is not None
    assert project.services["database"].mounts == []


def test_env_file_is_what_the_container_sees(tmp_path: Path) -> None:
    compose = """
services:
  backend:
    image: app
    env_file: [backend.env]
    environment:
      OVERRIDDEN: from-compose
"""
    env_file = "DATABASE_URL=postgresql://app@localhost/app?host=/var/run/postgresql\nOVERRIDDEN=from-file\n"
    directory = project_dir(tmp_path, {"compose.yaml": compose, "backend.env": env_file})
    project = load_project(directory, environ={})
    assert project is not None
    backend = project.services["backend"]
    assert backend.env("DATABASE_URL") == "postgresql://app@localhost/app?host=/var/run/postgresql"
    assert backend.env("OVERRIDDEN") == "from-compose"


def test_missing_env_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    compose = "services:\n  backend:\n    image: app\n    env_file: missing.env\n"
    project = load_project(project_dir(tmp_path, {"compose.yaml": compose}), environ={})
    assert project is not None
    assert any("missing.env" in p.message for p in project.problems)


def test_shell_environment_overrides_dotenv(tmp_path: Path) -> None:
    compose = "services:\n  db:\n    image: ${IMAGE}\n"
    directory = project_dir(tmp_path, {"compose.yaml": compose, ".env": "IMAGE=postgres:15\n"})
    from_dotenv = load_project(directory, environ={})
    from_shell = load_project(directory, environ={"IMAGE": "postgres:17"})
    assert from_dotenv is not None and from_shell is not None
    assert from_dotenv.services["db"].image == "postgres:15"
    assert from_shell.services["db"].image == "postgres:17"


def test_short_volume_syntax_forms(tmp_path: Path) -> None:
    compose = """
services:
  db:
    image: postgres
    volumes:
      - named:/a
      - /abs:/b:ro
      - ./rel:/c
      - ~/home:/d
      - /e
      - type: tmpfs
        target: /f
"""
    project = load_project(project_dir(tmp_path, {"compose.yaml": compose}), environ={"HOME": "/home/op"})
    assert project is not None
    got = [(m.type, m.source, m.target, m.read_only) for m in project.services["db"].mounts]
    directory = tmp_path / "My Project.v2"
    assert got == [
        ("volume", "named", "/a", False),
        ("bind", "/abs", "/b", True),
        ("bind", str(directory / "rel"), "/c", False),
        ("bind", "/home/op/home", "/d", False),
        ("volume", None, "/e", False),
        ("tmpfs", None, "/f", False),
    ]


def test_unreadable_file_is_a_problem_for_an_ordinary_user(tmp_path: Path) -> None:
    from tests.conftest import public_tempdir, run_as_nobody

    directory = public_tempdir("cd-unreadable-")
    try:
        (directory / "compose.yaml").write_text("services: {}\n")
        (directory / "compose.yaml").chmod(0o000)
        problems = run_as_nobody(lambda: [p.message for p in load_project(directory, environ={}).problems])  # type: ignore[union-attr]
        assert problems == ["cannot read the file: Permission denied"]
    finally:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


def test_remote_include_and_extends_are_reported_as_not_followed(tmp_path: Path) -> None:
    compose = (
        "include:\n  - oci://example.org/stack:1\nservices:\n  backend:\n    extends:\n"
        "      file: https://example.org/base.yaml\n      service: app\n"
    )
    project = load_project(project_dir(tmp_path, {"compose.yaml": compose}), environ={})
    assert project is not None
    assert [(what, str(origin)) for what, origin in project.not_followed] == [
        ("include: oci://example.org/stack:1", "compose.yaml:2"),
        ("extends: https://example.org/base.yaml in service backend", "compose.yaml:6"),
    ]
