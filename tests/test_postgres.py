"""What PostgreSQL and libpq make of a service: the server, its socket directories, its clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from doctor.compose.model import ComposeProject, EnvValue, Mount, MountType, Origin, Service, canonical_dir
from doctor.context import Options, build_context
from doctor.postgres import data_dir, is_database, parse_libpq_target, read_conf_files, server_port, socket_dirs
from doctor.topology import server_uses

HERE = Origin("compose.yaml", 1)


def service(
    image: str = "", command: tuple[str, ...] = (), env: dict[str, str] | None = None, mounts: list[Mount] | None = None
) -> Service:
    environment = {k: EnvValue(v, HERE) for k, v in (env or {}).items()}
    return Service("s", HERE, image=image, command=command, environment=environment, mounts=mounts or [])


def bind(source: str, target: str) -> Mount:
    return Mount(MountType.BIND, source, target, False, f"{source}:{target}", f"{source}:{target}", HERE)


@pytest.mark.parametrize(
    ("svc", "expected"),
    [
        pytest.param(service("postgres:16"), True, id="postgres"),
        pytest.param(service("docker.io/library/postgres@sha256:abc"), True, id="digest"),
        pytest.param(service("postgis/postgis:16-3.4"), True, id="postgis"),
        pytest.param(service("timescale/timescaledb-ha:pg16"), True, id="timescaledb"),
        pytest.param(service("pgvector/pgvector:pg16"), True, id="pgvector"),
        pytest.param(service("ghcr.io/acme/my-postgres:1"), True, id="custom-postgres-name"),
        pytest.param(service("acme/db", env={"PGDATA": "/data"}), True, id="pgdata"),
        pytest.param(service("acme/db", mounts=[bind("/d", "/var/lib/postgresql/data")]), True, id="data-mount"),
        pytest.param(service("acme/db", env={"POSTGRES_PASSWORD": "x"}), True, id="postgres-env"),
        pytest.param(
            service("acme/api", env={"POSTGRES_PASSWORD": "x", "DATABASE_URL": "postgresql://u@localhost/d?host=/s"}),
            False,
            id="backend-with-postgres-env",
        ),
        pytest.param(service("redis:7"), False, id="redis"),
        pytest.param(
            service("postgres:16", ("backend",), env={"DATABASE_URL": "postgresql://u@localhost/d?host=/s"}),
            False,
            id="client-on-a-postgres-image",
        ),
    ],
)
def test_is_database(svc: Service, expected: bool) -> None:
    assert is_database(svc) is expected


@pytest.mark.parametrize(
    ("command", "dirs"),
    [
        pytest.param((), ("/var/run/postgresql",), id="default"),
        pytest.param(("postgres", "-c", "unix_socket_directories=/a, /b"), ("/a", "/b"), id="c-list"),
        pytest.param(("postgres", "-cunix_socket_directories='/q'"), ("/q",), id="c-glued-quoted"),
        pytest.param(("postgres", "--unix-socket-directories=/long"), ("/long",), id="long-option"),
        pytest.param(("postgres", "-k", "/k"), ("/k",), id="k"),
        pytest.param(("postgres", "-c", "unix_socket_directories="), (), id="empty-means-none"),
    ],
)
def test_socket_dirs_from_command(command: tuple[str, ...], dirs: tuple[str, ...]) -> None:
    assert socket_dirs(service("postgres", command), {}).dirs == dirs


def test_socket_dirs_and_port_from_a_mounted_conf(tmp_path: Path) -> None:
    conf = tmp_path / "postgresql.conf"
    conf.write_text("# custom\nunix_socket_directories = '/sockets'   # shared\nport = 6543\n")
    svc = service("postgres", mounts=[bind(str(conf), "/etc/postgresql/postgresql.conf")])
    confs = read_conf_files(ComposeProject("p", "test", str(tmp_path), ["compose.yaml"], services={"s": svc}))
    conf.unlink()  # read once, while the project loaded: judging it reads the disk no more
    found = socket_dirs(svc, confs)
    assert found.dirs == ("/sockets",)
    assert found.source.startswith("postgresql.conf")
    assert server_port(svc, confs) == 6543


def test_command_overrides_the_conf(tmp_path: Path) -> None:
    conf = tmp_path / "postgresql.conf"
    conf.write_text("unix_socket_directories = '/from-conf'\n")
    svc = service("postgres", ("postgres", "-k", "/from-command"), mounts=[bind(str(conf), "/etc/pg.conf")])
    confs = read_conf_files(ComposeProject("p", "test", str(tmp_path), ["compose.yaml"], services={"s": svc}))
    assert socket_dirs(svc, confs).dirs == ("/from-command",)


def test_a_conf_that_is_not_on_disk_is_ignored() -> None:
    svc = service("postgres", mounts=[bind("/nowhere/postgresql.conf", "/etc/postgresql/postgresql.conf")])
    confs = read_conf_files(ComposeProject("p", "test", "/p", ["compose.yaml"], services={"s": svc}))
    assert confs["/nowhere/postgresql.conf"].problem is None  # missing is not "unreadable"
    assert socket_dirs(svc, confs).dirs == ("/var/run/postgresql",)


@pytest.mark.parametrize(
    ("image", "env", "expected"),
    [
        pytest.param("postgres:16", {}, "/var/lib/postgresql/data", id="classic"),
        pytest.param("postgres:18", {}, "/var/lib/postgresql", id="pg18"),
        pytest.param("postgres:16", {"PGDATA": "/pgdata/16"}, "/pgdata/16", id="pgdata"),
    ],
)
def test_data_dir(image: str, env: dict[str, str], expected: str) -> None:
    assert data_dir(service(image, env=env)) == expected


@pytest.mark.parametrize(
    ("variable", "value", "dirs", "port", "user", "dbname"),
    [
        pytest.param(
            "DATABASE_URL",
            "postgresql://app@localhost/db?host=/var/run/postgresql",
            ("/var/run/postgresql",),
            5432,
            "app",
            "db",
            id="prisma-style",
        ),
        pytest.param(
            "DATABASE_URL",
            "postgresql://app:pw@localhost/db?host=/s/&port=5433",
            ("/s/",),
            5433,
            "app",
            "db",
            id="query-port",
        ),
        pytest.param(
            "DATABASE_URL",
            "postgres://u@%2Frun%2Fpostgresql:5434/d",
            ("/run/postgresql",),
            5434,
            "u",
            "d",
            id="percent-encoded-host",
        ),
        pytest.param("DATABASE_URL", "postgresql:///db?host=/a,/b", ("/a", "/b"), 5432, None, "db", id="several-hosts"),
        pytest.param(
            "APP_DSN", "host=/tmp dbname=x user=u password='p w'", ("/tmp",), 5432, "u", "x", id="keyword-dsn"
        ),
        pytest.param("PGHOST", "/run/postgresql", ("/run/postgresql",), 5432, None, None, id="pghost"),
    ],
)
def test_socket_targets(
    variable: str, value: str, dirs: tuple[str, ...], port: int, user: str | None, dbname: str | None
) -> None:
    target = parse_libpq_target(variable, value)
    assert target is not None
    assert (target.dirs, target.port, target.user, target.dbname) == (dirs, port, user, dbname)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("DATABASE_URL", "postgres://u:pw@db:5432/x", id="tcp-url"),
        pytest.param("DATABASE_URL", "postgresql://u@localhost/x", id="localhost-tcp"),
        pytest.param("PGHOST", "database", id="pghost-tcp"),
        pytest.param("APP_DSN", "host=db dbname=x", id="dsn-tcp"),
        pytest.param("DATABASE_URL", "mysql://u@%2Ftmp/x", id="not-postgres"),
        pytest.param("DATABASE_URL", "postgresql://[bad", id="malformed"),
    ],
)
def test_tcp_and_other_targets_are_not_socket_clients(variable: str, value: str) -> None:
    assert parse_libpq_target(variable, value) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/var/run/postgresql", "/run/postgresql"),
        ("/run/postgresql/", "/run/postgresql"),
        ("/var/run", "/run"),
        ("//var//run/./postgresql", "/run/postgresql"),
        ("/var/lib/postgresql", "/var/lib/postgresql"),
    ],
)
def test_canonical_dir(path: str, expected: str) -> None:
    assert canonical_dir(path) == expected


def test_the_conf_is_read_while_the_project_loads_and_never_again(tmp_path: Path) -> None:
    (tmp_path / "pg.conf").write_text("unix_socket_directories = '/sockets'\nport = 6543\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    image: postgres:16\n    volumes:\n      - ./pg.conf:/etc/postgresql/postgresql.conf\n"
    )
    ctx = build_context(Options(project_directory=tmp_path, offline=True), environ={})
    (tmp_path / "pg.conf").unlink()
    assert ctx.project is not None
    assert [(use.directory, use.port) for use in server_uses(ctx.project)] == [("/sockets", 6543)]
