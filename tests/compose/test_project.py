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


@pytest.mark.parametrize(
    ("dotenv", "env_file", "problem"),
    [
        # Compose v2.40, checked by hand: "failed to read …/.env: required variable V is missing a value: need V".
        pytest.param("X=${V:?need V}\n", None, "required variable V is missing a value: need V", id="dotenv-required"),
        pytest.param("X=${V?}\n", None, "required variable V is missing a value", id="dotenv-required-no-message"),
        pytest.param(None, "X=${V:?need V}\n", "env_file e.env: required variable V is missing a value: need V",
                     id="env-file-required"),
        pytest.param("X=${V:-fine}\nY=${W}\n", None, None, id="dotenv-default-and-unset-are-read"),
    ],
)  # fmt: skip
def test_a_required_variable_inside_an_env_file_makes_it_unreadable(
    tmp_path: Path, dotenv: str | None, env_file: str | None, problem: str | None
) -> None:
    service = "services:\n  db:\n    image: postgres:16\n" + ("    env_file: e.env\n" if env_file else "")
    (tmp_path / "compose.yaml").write_text(service)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    if env_file is not None:
        (tmp_path / "e.env").write_text(env_file)
    project = load_project(tmp_path, environ={})
    assert project is not None
    messages = [p.message for p in project.problems]
    if problem is None:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].endswith(problem), messages


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

        def messages() -> list[str]:
            project = load_project(directory, environ={})
            assert project is not None
            return [p.message for p in project.problems]

        problems = run_as_nobody(messages)
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


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_extends_in_the_same_file_and_another_folder(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n  base:\n    image: app\n    environment: {A: base, B: base}\n"
                "  same:\n    extends: base\n    environment: {B: own}\n"
                "  other:\n    extends: {file: common/base.yaml, service: tmpl}\n    volumes: [./own:/own]\n"
            ),
            "common/base.yaml": "services:\n  tmpl:\n    image: t\n    volumes: [./data:/data]\n    env_file: t.env\n",
            "common/t.env": "FROM_BASE=1\n",
        },
    )
    project = load_project(root, environ={})
    assert project is not None and not project.problems
    assert {k: v.value for k, v in project.services["same"].environment.items()} == {"A": "base", "B": "own"}
    other = project.services["other"]
    assert {(m.source, m.target) for m in other.mounts} == {(f"{root}/common/data", "/data"), (f"{root}/own", "/own")}
    assert other.env("FROM_BASE") == "1"  # the base's env_file, relative to the base's folder


def test_include_brings_services_volumes_and_its_own_dotenv(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "compose.yaml": "include: [db/compose.yaml]\nservices:\n  api:\n    image: app\n",
            "db/compose.yaml": (
                "services:\n  database:\n    image: postgres\n    environment: [SOCK]\n"
                "    volumes: [sock:/var/run/postgresql, ./conf:/conf]\nvolumes:\n  sock: {}\n"
            ),
            "db/.env": "SOCK=/var/run/postgresql\n",
        },
    )
    project = load_project(root, environ={})
    assert project is not None and not project.problems
    database = project.services["database"]
    assert database.env("SOCK") == "/var/run/postgresql"
    assert {m.source for m in database.mounts} == {"sock", f"{root}/db/conf"}
    assert project.volumes["sock"].engine_name == f"{project.name}_sock"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        pytest.param({"compose.yaml": "include: [compose.yaml]\n"}, "include cycle", id="include-cycle"),
        pytest.param({"compose.yaml": "include: [gone.yaml]\n"}, "does not exist", id="include-missing"),
        pytest.param(
            {"compose.yaml": "services:\n  a:\n    extends: nowhere\n"},
            "service nowhere not found",
            id="extends-missing",
        ),
        pytest.param(
            {"compose.yaml": "services:\n  a:\n    extends: b\n  b:\n    extends: a\n"}, "loops", id="extends-cycle"
        ),
    ],
)
def test_include_and_extends_mistakes_are_problems(tmp_path: Path, files: dict[str, str], message: str) -> None:
    project = load_project(write_tree(tmp_path, files), environ={})
    assert project is not None
    assert any(message in p.message for p in project.problems), project.problems


@pytest.mark.parametrize(
    ("flags", "environ", "expected"),
    [
        pytest.param((), {}, {"db"}, id="none-active"),
        pytest.param(("debug",), {}, {"db", "tools"}, id="flag"),
        pytest.param((), {"COMPOSE_PROFILES": "debug,x"}, {"db", "tools"}, id="variable"),
        pytest.param(("x",), {"COMPOSE_PROFILES": "debug"}, {"db"}, id="flag-replaces-variable"),
        pytest.param(("*",), {}, {"db", "tools"}, id="star"),
    ],
)
def test_profiles(tmp_path: Path, flags: tuple[str, ...], environ: dict[str, str], expected: set[str]) -> None:
    compose = "services:\n  db:\n    image: postgres\n  tools:\n    image: t\n    profiles: [debug]\n"
    project = load_project(write_tree(tmp_path, {"compose.yaml": compose}), environ=environ, profiles=flags)
    assert project is not None
    assert set(project.services) == expected
    assert project.inactive_services == sorted({"db", "tools"} - expected)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"PASS": "shell"}, "shell", id="from-shell"),
        pytest.param({}, "dotenv", id="from-dotenv"),
    ],
)
def test_pass_through_environment(tmp_path: Path, environ: dict[str, str], expected: str) -> None:
    compose = "services:\n  a:\n    image: x\n    env_file: a.env\n    environment: [PASS, NOWHERE]\n"
    files = {"compose.yaml": compose, ".env": "PASS=dotenv\n", "a.env": "NOWHERE=from-env-file\n"}
    project = load_project(write_tree(tmp_path, files), environ=environ)
    assert project is not None
    service = project.services["a"]
    assert service.env("PASS") == expected
    assert service.env("NOWHERE") is None  # set nowhere: Compose drops it, and the env_file value with it


def test_service_tmpfs_is_a_mount_of_type_tmpfs(tmp_path: Path) -> None:
    compose = "services:\n  db:\n    image: postgres\n    tmpfs: ['/var/run/postgresql:size=1m', /tmp]\n"
    project = load_project(write_tree(tmp_path, {"compose.yaml": compose}), environ={})
    assert project is not None
    mount = project.services["db"].mount_covering("/run/postgresql")
    assert mount is not None and (mount.type, mount.source, mount.target) == ("tmpfs", None, "/var/run/postgresql")


def test_default_file_is_found_in_a_parent_folder(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"app/compose.yaml": "services:\n  a:\n    image: x\n    volumes: [./d:/d]\n"})
    (root / "app" / "deep" / "er").mkdir(parents=True)
    project = load_project(None, environ={}, cwd=root / "app" / "deep" / "er")
    assert project is not None
    assert (project.name, project.directory) == ("app", str(root / "app"))
    assert project.services["a"].mounts[0].source == str(root / "app" / "d")


@pytest.mark.parametrize(
    ("dotenv", "shell", "interpolation", "from_file"),
    [
        pytest.param("A=file\n", {}, {"A": "file"}, {"A": "file"}, id="file-only"),
        pytest.param("", {"A": "shell"}, {"A": "shell"}, {}, id="shell-only"),
        pytest.param("A=file\n", {"A": "shell"}, {"A": "shell"}, {}, id="shell-wins"),
    ],
)
def test_the_loader_keeps_the_variables_it_interpolated_with(
    tmp_path: Path, dotenv: str, shell: dict[str, str], interpolation: dict[str, str], from_file: dict[str, str]
) -> None:
    """Read once while loading, for the redactor, the deploy keys and the planner's notes."""
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: postgres:16\n")
    (tmp_path / ".env").write_text(dotenv)
    project = load_project(tmp_path, environ=shell)
    assert project is not None
    assert project.interpolation == interpolation
    assert project.dotenv == from_file
