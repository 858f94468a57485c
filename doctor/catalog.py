"""The catalog: every finding id the doctor can report, declared once with what it means.

Each entry carries the statuses by target OS (and a note when the status depends on more than
the OS), a one-line meaning (the root cause's phrase when the finding has no richer one), the
deployment guide's rule it enforces, the kind of remedy it carries, its documentation page, and
the root-cause layer it belongs to. Checks name ids through the constants below; the README's
Findings table, ``cultivate explain``, the JSON Schema's id enum and the root cause's layers are
checked against or built from this table.

Within a layer, the order of the table is the root cause's preference: the first ``fail``
of a layer is the link of the chain (doctor/rootcause.py)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from doctor.models import Status, TargetOS


class RemedyKind(str, enum.Enum):
    DIFF = "diff"  # a unified diff of the Compose files (with commands to verify or to follow)
    COMMANDS = "commands"  # commands that change the deployment, in order
    ADVICE = "advice"  # a sentence: what to change, by hand
    NONE = "none"  # nothing to do


class Layer(str, enum.Enum):
    """The root cause's layers, in the order the chain follows them."""

    FILE = "file"
    VOLUME = "volume"
    LOG = "log"
    CONTAINER = "container"
    CONNECTION = "connection"


@dataclass(frozen=True)
class Entry:
    id: str
    macos: Status
    linux: Status
    meaning: str  # one line, lower-case first, usable inside the root-cause statement
    remedy: RemedyKind
    layer: Layer | None = None
    rule: str = ""  # the deployment guide's rule it enforces, if any
    note: str = ""  # when the status depends on more than the target OS
    log_failure: bool = False  # a failure read from log lines: history once the socket works

    @property
    def page(self) -> str:
        return f"{self.id}.md"

    def status_on(self, target_os: TargetOS) -> Status:
        return self.macos if target_os == TargetOS.MACOS else self.linux

    @property
    def statuses(self) -> str:
        """As the README's table and the finding's page show it: ``**fail / warn**; note``."""
        pair = f"{self.macos.value} / {self.linux.value}"
        return (f"**{pair}**" if self.macos is not self.linux else pair) + (f"; {self.note}" if self.note else "")


class UnknownFinding(KeyError):
    """An id that is not in the catalog: a typo in the code, caught where it is looked up."""


# The guide's rules (the deployment guide, unix-socket-volumes.md).
SOCKET_RULE = "The socket directory is always a named volume, shared by the database and the backend (The Solution)"
DATA_RULE = "Data uses a named volume on macOS and may use a host path on Linux (Volume Type Comparison)"
WAIT_RULE = "Clients wait for a healthy database (Backend Cannot Connect, check 3)"
TEST_RULE = "Test on the target platform: the deployment as the engine runs it (Best Practices 5)"

# fmt: off
# The ids. A check's own id (its ok or skip finding) is a finding id too.
COMPOSE_FILE: Final = "compose-file"
COMPOSE_INVALID: Final = "compose-invalid"
FILE_UNREADABLE: Final = "file-unreadable"
COMPOSE_VARIABLE_REQUIRED: Final = "compose-variable-required"
COMPOSE_VARIABLE_UNSET: Final = "compose-variable-unset"
COMPOSE_NOT_FOLLOWED: Final = "compose-not-followed"
COMPOSE_NO_DATABASE: Final = "compose-no-database"
SOCKET_MOUNTS: Final = "socket-mounts"
SOCKET_HOST_PATH: Final = "socket-host-path"
SOCKET_VOLUME_BIND_DEVICE: Final = "socket-volume-bind-device"
SOCKET_VOLUME_UNDECLARED: Final = "socket-volume-undeclared"
SOCKET_SHARING: Final = "socket-sharing"
SOCKET_VOLUME_MISMATCH: Final = "socket-volume-mismatch"
BACKEND_SOCKET_NOT_MOUNTED: Final = "backend-socket-not-mounted"
DATABASE_URL_SOCKET_MISMATCH: Final = "database-url-socket-mismatch"
SOCKET_DIR_NOT_MOUNTED: Final = "socket-dir-not-mounted"
SOCKET_VOLUME_OK: Final = "socket-volume-ok"
SOCKET_NO_CLIENTS: Final = "socket-no-clients"
SOCKET_PATH_LENGTH: Final = "socket-path-length"
SOCKET_PATH_TOO_LONG: Final = "socket-path-too-long"
DATA_VOLUME_STRATEGY: Final = "data-volume-strategy"
BACKEND_START_ORDER: Final = "backend-start-order"
SECRET_VALUES: Final = "secret-values"
WEAK_SECRET: Final = "weak-secret"
STACK_PLACEMENT: Final = "stack-placement"
STACK_PLACEMENT_OK: Final = "stack-placement-ok"
STACK_DATABASE_REPLICAS: Final = "stack-database-replicas"
STACK_PLACEMENT_APART: Final = "stack-placement-apart"
STACK_TASKS_APART: Final = "stack-tasks-apart"
STACK_DEPENDS_ON_IGNORED: Final = "stack-depends-on-ignored"
LOG_SIGNATURES: Final = "log-signatures"
LOG_SOCKET_CREATE_FAILED: Final = "log-socket-create-failed"
LOG_DATA_DIR_PERMISSIONS: Final = "log-data-dir-permissions"
LOG_BACKEND_CANNOT_CONNECT: Final = "log-backend-cannot-connect"
LOG_SERVER_NOT_READY: Final = "log-server-not-ready"
LOG_FILE_UNREADABLE: Final = "log-file-unreadable"
LOG_FAILURES_PAST: Final = "log-failures-past"
SOCKET_PROBE: Final = "socket-probe"
SOCKET_CONNECT_OK: Final = "socket-connect-ok"
SOCKET_MISSING: Final = "socket-missing"
SOCKET_NOT_A_SOCKET: Final = "socket-not-a-socket"
SOCKET_REFUSED: Final = "socket-refused"
SOCKET_PERMISSION_DENIED: Final = "socket-permission-denied"
SOCKET_TIMEOUT: Final = "socket-timeout"
SOCKET_AUTH_FAILED: Final = "socket-auth-failed"
SOCKET_CONNECT_FAILED: Final = "socket-connect-failed"
ENGINE: Final = "engine"
ENGINE_INFO: Final = "engine-info"
ENGINE_UNREACHABLE: Final = "engine-unreachable"
ENGINE_VOLUMES: Final = "engine-volumes"
VOLUME_MISSING: Final = "volume-missing"
VOLUME_BIND_DEVICE: Final = "volume-bind-device"
VOLUME_FOREIGN_PROJECT: Final = "volume-foreign-project"
VOLUME_OTHER_PROJECTS: Final = "volume-other-projects"
CONTAINERS: Final = "containers"
CONTAINER_NOT_RUNNING: Final = "container-not-running"
CONTAINER_ONEOFF_SOCKET: Final = "container-oneoff-socket"
CONTAINER_RESTARTING: Final = "container-restarting"
CONTAINER_UNHEALTHY: Final = "container-unhealthy"
CONTAINER_OOM_KILLED: Final = "container-oom-killed"
CONTAINER_SOCKET_MOUNT_DRIFT: Final = "container-socket-mount-drift"
CONTAINER_LOGS: Final = "container-logs"
SOCKET_VANTAGE: Final = "socket-vantage"
CHECK_CRASHED: Final = "check-crashed"

OK, INFO, WARN, FAIL, SKIP, ERROR = Status.OK, Status.INFO, Status.WARN, Status.FAIL, Status.SKIP, Status.ERROR
DIFF, COMMANDS, ADVICE, NONE = RemedyKind.DIFF, RemedyKind.COMMANDS, RemedyKind.ADVICE, RemedyKind.NONE
E = Entry
_FILE, _VOLUME, _LOG, _CONTAINER, _CONNECTION = Layer.FILE, Layer.VOLUME, Layer.LOG, Layer.CONTAINER, Layer.CONNECTION

_ENTRIES: tuple[Entry, ...] = (
    # The file layer, in the root cause's order of preference.
    E(COMPOSE_INVALID, FAIL, FAIL, "a Compose file that Docker Compose v2 refuses", ADVICE, _FILE),
    E(COMPOSE_VARIABLE_REQUIRED, FAIL, FAIL, "a required variable is not set", ADVICE, _FILE),
    E(SOCKET_HOST_PATH, FAIL, WARN, "the socket directory is a host folder", DIFF, _FILE, SOCKET_RULE),
    E(SOCKET_VOLUME_BIND_DEVICE, FAIL, WARN, "the socket volume binds a host folder through driver_opts", DIFF, _FILE,
      SOCKET_RULE, "warn when the engine is Finch"),
    E(SOCKET_VOLUME_UNDECLARED, FAIL, FAIL, "the socket volume is not declared under top-level volumes", DIFF, _FILE,
      SOCKET_RULE),
    E(SOCKET_VOLUME_MISMATCH, FAIL, FAIL, "a client mounts other storage at its socket directory than the database",
      DIFF, _FILE, SOCKET_RULE),
    E(BACKEND_SOCKET_NOT_MOUNTED, FAIL, FAIL, "a client looks for the socket where it mounts nothing of the database's",
      DIFF, _FILE, SOCKET_RULE),
    E(DATABASE_URL_SOCKET_MISMATCH, FAIL, FAIL, "a client's URL names another directory or port than the server's socket",
      DIFF, _FILE, SOCKET_RULE),
    E(SOCKET_DIR_NOT_MOUNTED, FAIL, FAIL, "the server creates its socket outside the shared volume", ADVICE, _FILE,
      SOCKET_RULE),
    E(SOCKET_PATH_TOO_LONG, FAIL, FAIL, "the socket path is longer than the kernel allows", ADVICE, _FILE),
    E(STACK_DATABASE_REPLICAS, FAIL, FAIL, "more than one database replica shares one socket volume name", COMMANDS,
      _FILE, SOCKET_RULE),
    E(STACK_PLACEMENT_APART, FAIL, FAIL, "the database and a socket client may be placed on different nodes", DIFF,
      _FILE, SOCKET_RULE, "warn on a one-node swarm"),
    # The volume layer.
    E(CONTAINER_SOCKET_MOUNT_DRIFT, FAIL, FAIL, "the running containers mount another socket storage than the file says",
      COMMANDS, _VOLUME, SOCKET_RULE),
    E(VOLUME_BIND_DEVICE, FAIL, WARN, "the live socket volume binds a host folder", ADVICE, _VOLUME, SOCKET_RULE),
    E(VOLUME_MISSING, WARN, WARN, "a volume of the file does not exist on the engine", ADVICE, _VOLUME, TEST_RULE,
      "fail when the project's containers exist; info on a node of a Swarm stack"),
    E(VOLUME_FOREIGN_PROJECT, WARN, WARN, "a volume was made for another project or outside Compose", ADVICE, _VOLUME),
    # The log layer.
    E(LOG_SOCKET_CREATE_FAILED, FAIL, FAIL, "PostgreSQL could not create its Unix socket", ADVICE, _LOG, SOCKET_RULE,
      log_failure=True),
    E(LOG_DATA_DIR_PERMISSIONS, FAIL, FAIL, "PostgreSQL could not use its data directory", ADVICE, _LOG, DATA_RULE,
      log_failure=True),
    # The container layer.
    E(STACK_TASKS_APART, FAIL, FAIL, "the database's task and a client's task run on different nodes", COMMANDS,
      _CONTAINER, SOCKET_RULE),
    E(CONTAINER_NOT_RUNNING, FAIL, FAIL, "a service container is not running", COMMANDS, _CONTAINER, TEST_RULE),
    E(CONTAINER_RESTARTING, FAIL, FAIL, "a container keeps restarting", ADVICE, _CONTAINER, TEST_RULE),
    E(CONTAINER_UNHEALTHY, FAIL, FAIL, "a container's health check fails", ADVICE, _CONTAINER, TEST_RULE),
    E(CONTAINER_OOM_KILLED, FAIL, FAIL, "the kernel's OOM killer ended a container", ADVICE, _CONTAINER, TEST_RULE),
    # The connection layer.
    E(LOG_BACKEND_CANNOT_CONNECT, FAIL, FAIL, "the backend cannot connect to PostgreSQL over the socket", ADVICE,
      _CONNECTION, WAIT_RULE, log_failure=True),
    E(SOCKET_VANTAGE, FAIL, FAIL, "the socket does not answer from every vantage point", ADVICE, _CONNECTION, TEST_RULE,
      "ok when the socket works from every vantage point"),
    E(SOCKET_MISSING, FAIL, FAIL, "no socket file: the server is down or the socket is elsewhere", ADVICE, _CONNECTION),
    E(SOCKET_REFUSED, FAIL, FAIL, "nothing listens on the socket file (a stale socket)", ADVICE, _CONNECTION),
    E(SOCKET_TIMEOUT, FAIL, FAIL, "the server accepted the connection but never answered", ADVICE, _CONNECTION),
    E(SOCKET_PERMISSION_DENIED, FAIL, FAIL, "the socket directory or socket may not be entered or opened", ADVICE,
      _CONNECTION),
    E(SOCKET_NOT_A_SOCKET, FAIL, FAIL, "something other than a socket sits at the socket's path", ADVICE, _CONNECTION),
    E(SOCKET_CONNECT_FAILED, FAIL, FAIL, "the connection over the socket failed", ADVICE, _CONNECTION),
    # No layer: passes, information, and problems that cause nothing by themselves.
    E(COMPOSE_FILE, OK, OK, "the Compose files parse and merge", NONE, note="skip when no Compose file is found"),
    E(FILE_UNREADABLE, INFO, INFO, "a .env or bind-mounted .conf file is not a regular file, or too large", NONE),
    E(COMPOSE_VARIABLE_UNSET, INFO, INFO, "a variable is unset: Compose substitutes a blank string", NONE),
    E(COMPOSE_NOT_FOLLOWED, INFO, INFO, "a remote include or extends, or an entry the doctor cannot model", NONE),
    E(COMPOSE_NO_DATABASE, WARN, WARN, "no service runs PostgreSQL", ADVICE),
    E(SOCKET_MOUNTS, OK, OK, "every socket directory is on a named volume", NONE, rule=SOCKET_RULE),
    E(SOCKET_SHARING, OK, OK, "the database and every socket client share the socket directory", NONE,
      rule=SOCKET_RULE, note="skip when no PostgreSQL service has a socket directory"),
    E(SOCKET_VOLUME_OK, OK, OK, "the socket directory is a named volume shared by the database and every client", NONE,
      rule=SOCKET_RULE),
    E(SOCKET_NO_CLIENTS, INFO, INFO, "no service points libpq at a socket directory", NONE),
    E(SOCKET_PATH_LENGTH, OK, OK, "every socket path fits the kernel's limit", NONE),
    E(DATA_VOLUME_STRATEGY, WARN, OK, "the data directory's volume does not follow the guide for the target OS", DIFF,
      rule=DATA_RULE, note="ok / info for a named volume; info when no volume holds the data"),
    E(BACKEND_START_ORDER, WARN, WARN, "a socket client may start before the database is healthy", ADVICE,
      rule=WAIT_RULE),
    E(SECRET_VALUES, OK, OK, "no secret value is also a name, a path or an ordinary word", NONE),
    E(WEAK_SECRET, INFO, INFO, "a secret value is also a name, part of a path or an ordinary word", ADVICE),
    E(STACK_PLACEMENT, SKIP, SKIP, "not a Swarm stack, or nothing to place", NONE,
      note="info when placement is judged from the files only"),
    E(STACK_PLACEMENT_OK, OK, OK, "the database and every socket client are bound to one node", NONE,
      rule=SOCKET_RULE),
    E(STACK_DEPENDS_ON_IGNORED, INFO, INFO, "Swarm ignores depends_on in a stack", ADVICE, rule=WAIT_RULE,
      note="warn with `restart_policy: condition: none`"),
    E(LOG_SIGNATURES, OK, OK, "the given logs show no known failure signature", NONE,
      note="skip without `--log-file`"),
    E(LOG_SERVER_NOT_READY, INFO, INFO, "a client met a server that was starting up or shutting down", ADVICE,
      rule=WAIT_RULE),
    E(LOG_FILE_UNREADABLE, ERROR, ERROR, "a --log-file cannot be opened", NONE),
    E(LOG_FAILURES_PAST, INFO, INFO, "log failures from before the socket worked from every vantage point", ADVICE,
      rule=WAIT_RULE),
    E(SOCKET_PROBE, SKIP, SKIP, "no --socket-dir given: no probe from this machine", NONE),
    E(SOCKET_CONNECT_OK, OK, OK, "a real connection over the socket worked", NONE),
    E(SOCKET_AUTH_FAILED, WARN, WARN, "the socket works, but the server refused the login", ADVICE),
    E(ENGINE, SKIP, SKIP, "the engine was not contacted (--offline)", NONE),
    E(ENGINE_INFO, INFO, INFO, "which engine, runtime and VM answered", NONE),
    E(ENGINE_UNREACHABLE, WARN, WARN, "the container engine could not be reached", ADVICE),
    E(ENGINE_VOLUMES, OK, OK, "the socket and data volumes exist as Compose made them", NONE, rule=TEST_RULE),
    E(VOLUME_OTHER_PROJECTS, INFO, INFO, "volumes of the same key exist under other project names", NONE),
    E(CONTAINERS, OK, OK, "the project's containers run as the file says", NONE, rule=TEST_RULE,
      note="info when nothing is deployed"),
    E(CONTAINER_ONEOFF_SOCKET, INFO, INFO, "a one-off container holds the socket volume", NONE),
    E(CONTAINER_LOGS, OK, OK, "the containers' logs show no failure signature", NONE, rule=TEST_RULE),
    E(CHECK_CRASHED, ERROR, ERROR, "a check crashed (a bug in the doctor)", NONE),
)
# fmt: on
del E, OK, INFO, WARN, FAIL, SKIP, ERROR, DIFF, COMMANDS, ADVICE, NONE, _FILE, _VOLUME, _LOG, _CONTAINER, _CONNECTION


def _index(entries: tuple[Entry, ...]) -> Mapping[str, Entry]:
    index: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in index:
            raise ValueError(f"finding id {entry.id!r} is declared twice in the catalog")
        index[entry.id] = entry
    return MappingProxyType(index)


FINDINGS: Final = _index(_ENTRIES)


def get(finding_id: str) -> Entry:
    """The entry of a finding id; an unknown id raises UnknownFinding naming it."""
    try:
        return FINDINGS[finding_id]
    except KeyError:
        raise UnknownFinding(finding_id) from None


def ids() -> tuple[str, ...]:
    return tuple(sorted(FINDINGS))


def layers() -> tuple[tuple[Layer, tuple[str, ...]], ...]:
    """Each root-cause layer with its ids, in the order of preference within the layer."""
    return tuple((layer, tuple(e.id for e in _ENTRIES if e.layer is layer)) for layer in Layer)


def log_failures() -> tuple[str, ...]:
    """The failures read from log lines (the bundle keeps their lines; history settles them)."""
    return tuple(e.id for e in _ENTRIES if e.log_failure)
