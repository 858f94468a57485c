"""What PostgreSQL and libpq make of a service's configuration: which service is the server,
where it puts its socket, and where each client looks for it."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from doctor import safeio
from doctor.compose.model import ComposeProject, ConfFile, MountType, Service, canonical_dir
from doctor.models import TargetOS

DEFAULT_SOCKET_DIR = "/var/run/postgresql"
DEFAULT_PORT = 5432
# sun_path is 108 bytes on Linux and 104 on macOS, one of which holds the terminating NUL.
MAX_SOCKET_PATH = {TargetOS.LINUX: 107, TargetOS.MACOS: 103, TargetOS.WINDOWS: 107}

_IMAGE = re.compile(
    r"(^|/)(postgres|postgresql|postgis|timescaledb(-ha|-postgis)?|pgvector|"
    r"bitnami-postgresql|supabase-postgres|cloudnative-pg)(:|@|$)"
)
_CLIENT_VAR = re.compile(r"(^|_)(DATABASE_URL|DB_URL|DSN|DATABASE_DSN|POSTGRES_URL|PG_URL)$|^PGHOST$")

CONF_MAX_BYTES = 1_048_576  # a postgresql.conf is a few KiB; a bigger one is not read


@dataclass(frozen=True)
class SocketDirs:
    dirs: tuple[str, ...]
    source: str  # how they were decided, for the report


@dataclass(frozen=True)
class ClientTarget:
    """One variable through which a client points libpq at a socket directory."""

    variable: str
    dirs: tuple[str, ...]
    port: int
    user: str | None
    dbname: str | None
    password: str | None


def image_is_postgres(image: str) -> bool:
    name = image.lower().split("@")[0]
    return bool(_IMAGE.search(name)) or "postgres" in name.rsplit("/", 1)[-1].split(":")[0]


def is_database(service: Service) -> bool:
    holds_data = "PGDATA" in service.environment or any(
        canonical_dir(m.target).startswith("/var/lib/postgresql") for m in service.mounts
    )
    if holds_data:
        return True
    # A service that points libpq at a socket is a client, even on a PostgreSQL image (a migration
    # job, a backend built on the image) or with POSTGRES_* variables, unless it holds data.
    if client_targets(service):
        return False
    return image_is_postgres(service.image) or bool(
        {"POSTGRES_PASSWORD", "POSTGRES_HOST_AUTH_METHOD"} & set(service.environment)
    )


def database_services(project: ComposeProject) -> list[Service]:
    return [s for s in project.services.values() if is_database(s)]


def read_conf_files(project: ComposeProject) -> dict[str, ConfFile]:
    """Every bind-mounted ``*.conf`` of the project, read once while the project loads; what
    the doctor judges afterwards takes these as data and never reads the disk again."""
    found: dict[str, ConfFile] = {}
    for service in project.services.values():
        for source in _conf_sources(service):
            if source not in found:
                found[source] = _read_conf_file(source)
    return found


def _conf_sources(service: Service) -> list[str]:
    return [m.source for m in service.mounts if m.type == MountType.BIND and m.source and m.target.endswith(".conf")]


def _read_conf_file(source: str) -> ConfFile:
    reason = safeio.problem(source) or safeio.too_large(source, CONF_MAX_BYTES)
    if reason is None:
        return ConfFile(_read_conf(Path(source)))
    return ConfFile(problem=None if reason.endswith("No such file or directory") else reason)


def server_settings(service: Service, confs: Mapping[str, ConfFile]) -> dict[str, str]:
    """unix_socket_directories and port from a bind-mounted postgresql.conf, then ``command``."""
    settings: dict[str, str] = {}
    for source in _conf_sources(service):
        conf = confs.get(source)
        if conf is not None:
            settings.update(conf.settings)
    settings.update(_command_settings(service.command))
    return settings


def unreadable_confs(service: Service, confs: Mapping[str, ConfFile]) -> list[tuple[str, str]]:
    """Bind-mounted ``*.conf`` files that were not read, with why (a FIFO, a device, too large)."""
    found = []
    for source in _conf_sources(service):
        conf = confs.get(source)
        if conf is not None and conf.problem is not None:
            found.append((source, conf.problem))
    return found


def socket_dirs(service: Service, confs: Mapping[str, ConfFile]) -> SocketDirs:
    settings = server_settings(service, confs)
    value = settings.get("unix_socket_directories")
    if value is None:
        return SocketDirs((DEFAULT_SOCKET_DIR,), "the image's default")
    dirs = tuple(d.strip().strip("'\"") for d in value.split(",") if d.strip().strip("'\""))
    return SocketDirs(dirs, settings.get("_source", "command"))


def server_port(service: Service, confs: Mapping[str, ConfFile]) -> int:
    value = server_settings(service, confs).get("port") or service.env("PGPORT")
    try:
        return int(value) if value else DEFAULT_PORT
    except ValueError:
        return DEFAULT_PORT


def data_dir(service: Service) -> str:
    if service.env("PGDATA"):
        return service.env("PGDATA") or ""
    major = re.search(r":(\d+)", service.image)
    if major and int(major.group(1)) >= 18:
        return "/var/lib/postgresql"  # PG 18+ images keep data in a versioned subdirectory.
    return "/var/lib/postgresql/data"


def _command_settings(command: tuple[str, ...]) -> dict[str, str]:
    settings: dict[str, str] = {}
    args = list(command)
    i = 0
    while i < len(args):
        arg = args[i]
        value: str | None = None
        if arg in ("-c", "-k", "-p") and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        if arg == "-k" and value is not None:
            settings["unix_socket_directories"] = value
        elif arg == "-p" and value is not None:
            settings["port"] = value
        elif arg == "-c" and value is not None:
            _take_assignment(value, settings)
        elif (arg.startswith("-c") and len(arg) > 2) or (arg.startswith("--") and "=" in arg):
            _take_assignment(arg[2:], settings)
        i += 1
    if "unix_socket_directories" in settings:
        settings["_source"] = "command"
    return settings


def _take_assignment(text: str, settings: dict[str, str]) -> None:
    key, sep, value = text.partition("=")
    if sep:
        settings[key.strip().replace("-", "_").lower()] = value.strip()


def _read_conf(path: Path) -> dict[str, str]:
    try:
        text = safeio.read_text(path, CONF_MAX_BYTES)  # a FIFO or /dev/zero bind-mounted as a conf file
    except safeio.UnsafeInput:
        return {}
    settings: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0].strip()
        match = re.match(r"([A-Za-z_]+)\s*=?\s*(.+)", line)
        if match and match.group(1).lower() in ("unix_socket_directories", "port"):
            settings[match.group(1).lower()] = match.group(2).strip().strip("'\"")
    if "unix_socket_directories" in settings:
        settings["_source"] = f"postgresql.conf ({path})"
    return settings


def client_targets(service: Service) -> list[ClientTarget]:
    candidates = tuple((name, entry.value) for name, entry in service.environment.items() if _CLIENT_VAR.search(name))
    return list(_targets(candidates, service.env("PGPORT")))


@functools.lru_cache(maxsize=1024)
def _targets(candidates: tuple[tuple[str, str], ...], port_env: str | None) -> tuple[ClientTarget, ...]:
    """Kept by value: every check asks which services are clients (through database_services
    and client_uses), so with 30 clients the same URLs would be parsed thousands of times."""
    found = (parse_libpq_target(name, value, port_env) for name, value in candidates)
    return tuple(target for target in found if target is not None)


def parse_libpq_target(variable: str, value: str, port_env: str | None = None) -> ClientTarget | None:
    """Socket directories named by a URI, a key=value DSN or PGHOST; None for TCP-only."""
    value = value.strip()
    default_port = _int(port_env) or DEFAULT_PORT
    if variable == "PGHOST":
        dirs = _socket_hosts(value)
        return ClientTarget(variable, dirs, default_port, None, None, None) if dirs else None
    if re.match(r"postgres(ql)?://", value, re.IGNORECASE):
        return _from_uri(variable, value, default_port)
    if "=" in value and re.search(r"(^|\s)host\s*=", value):
        return _from_keyword_dsn(variable, value, default_port)
    return None


def _from_uri(variable: str, uri: str, default_port: int) -> ClientTarget | None:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    query = parse_qs(parts.query)
    # A percent-encoded path may stand in the host part: postgresql://%2Fvar%2Frun%2Fpostgresql/db
    host_part, _, port_part = parts.netloc.rsplit("@", 1)[-1].partition(":")
    hosts = query.get("host") or ([unquote(host_part)] if host_part else [])
    dirs = tuple(d for h in hosts for d in _socket_hosts(h))
    if not dirs:
        return None
    port = _int((query.get("port") or [""])[0]) or _int(port_part) or default_port
    return ClientTarget(
        variable,
        dirs,
        port,
        user=unquote(parts.username) if parts.username else None,
        dbname=unquote(parts.path.lstrip("/")) or None,
        password=unquote(parts.password) if parts.password else None,
    )


def _from_keyword_dsn(variable: str, dsn: str, default_port: int) -> ClientTarget | None:
    pairs = dict(re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn))
    values = {k.lower(): v.strip("'") for k, v in pairs.items()}
    dirs = _socket_hosts(values.get("host", ""))
    if not dirs:
        return None
    port = _int(values.get("port", "")) or default_port
    return ClientTarget(variable, dirs, port, values.get("user"), values.get("dbname"), values.get("password"))


def _socket_hosts(value: str) -> tuple[str, ...]:
    return tuple(h.strip() for h in value.split(",") if h.strip().startswith("/"))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def socket_file(directory: str, port: int) -> str:
    return f"{directory.rstrip('/')}/.s.PGSQL.{port}"
