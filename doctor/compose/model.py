"""The slice of the Compose model the doctor reasons about. Every value remembers where it was
written, so findings can point at ``file:line``."""

from __future__ import annotations

import enum
import posixpath
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Origin:
    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


class MountType(str, enum.Enum):
    """What a mount is, as Compose's long syntax names it. A str-enum: it equals its value."""

    BIND = "bind"
    VOLUME = "volume"
    TMPFS = "tmpfs"
    NPIPE = "npipe"
    CLUSTER = "cluster"
    IMAGE = "image"

    def __str__(self) -> str:  # the value in f-strings and str(), on every Python version
        return self.value


@dataclass(frozen=True)
class Mount:
    """One entry of a service's ``volumes:``."""

    type: MountType
    source: str | None  # absolute host path for binds, the volume key for volumes
    target: str
    read_only: bool
    written: str  # the entry as written, before interpolation
    resolved: str  # the entry after interpolation
    origin: Origin
    index: int = 0  # position in the service's volumes list, for edits
    # What Compose keys the entry by when files merge: the target as written (``/a/`` and ``/a``
    # stay two entries), where ``target`` is cleaned as Compose prints it.
    merge_key: str = ""
    long_syntax: bool = False

    @property
    def canonical_target(self) -> str:
        return canonical_dir(self.target)


@dataclass(frozen=True)
class VolumeDecl:
    key: str
    engine_name: str
    external: bool
    driver: str | None
    driver_opts: dict[str, str]
    origin: Origin

    @property
    def binds_host_device(self) -> bool:
        options = {k.lower(): str(v) for k, v in self.driver_opts.items()}
        binds = "bind" in options.get("o", "").split(",") or options.get("type") == "none"
        return binds and bool(options.get("device"))


@dataclass(frozen=True)
class ConfFile:
    """A bind-mounted ``*.conf`` as read once, when the project loaded: the settings the doctor
    takes from it, or why it was not read (a FIFO, a device, too large). A file that does not
    exist has neither."""

    settings: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True)
class EnvValue:
    value: str
    origin: Origin
    # ``environment: [VAR]`` (no ``=``): the value comes from the shell or ``.env`` once every
    # file is merged; one set nowhere is dropped, as the container never gets it.
    passthrough: bool = False


@dataclass
class Service:
    name: str
    origin: Origin
    image: str = ""
    command: tuple[str, ...] = ()
    environment: dict[str, EnvValue] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)  # the ``volumes:`` entries
    tmpfs: list[Mount] = field(default_factory=list)  # the service-level ``tmpfs:`` key, type "tmpfs"
    profiles: tuple[str, ...] = ()
    depends_on: dict[str, str] = field(default_factory=dict)  # service -> condition
    healthcheck: bool = False
    volumes_line: int | None = None  # line of the service's ``volumes:`` key, for edits
    volumes_file: str | None = None

    def env(self, name: str) -> str | None:
        entry = self.environment.get(name)
        return None if entry is None else entry.value

    @property
    def all_mounts(self) -> list[Mount]:
        """Every mount the container gets: ``volumes:`` entries, then ``tmpfs:`` entries."""
        return [*self.mounts, *self.tmpfs]

    def mount_covering(self, directory: str) -> Mount | None:
        """The mount that holds ``directory`` inside the container (the deepest one)."""
        wanted = canonical_dir(directory)
        best: Mount | None = None
        for mount in self.all_mounts:
            target = mount.canonical_target
            inside = wanted == target or wanted.startswith(target.rstrip("/") + "/")
            if inside and (best is None or len(target) > len(best.canonical_target)):
                best = mount
        return best


@dataclass(frozen=True)
class ComposeProblem:
    """A reason the files are not a valid Compose project (syntax or shape)."""

    origin: Origin
    path: str
    message: str


@dataclass
class ComposeProject:
    name: str
    name_source: str
    directory: str
    files: list[str]
    services: dict[str, Service] = field(default_factory=dict)
    volumes: dict[str, VolumeDecl] = field(default_factory=dict)
    problems: list[ComposeProblem] = field(default_factory=list)
    missing_required: list[tuple[str, str, Origin]] = field(default_factory=list)
    unset_variables: list[tuple[str, Origin]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # file -> text as read
    # Files read but not valid YAML: kept only so a support bundle still carries them (redacted).
    unloaded: dict[str, str] = field(default_factory=dict)
    top_volumes_line: dict[str, int] = field(default_factory=dict)  # file -> line of volumes:
    not_followed: list[tuple[str, Origin]] = field(default_factory=list)  # (what, where): remote include/extends
    inactive_services: list[str] = field(default_factory=list)  # behind a profile that is not active
    # Host path -> the bind-mounted ``*.conf`` there, read once by doctor.postgres.read_conf_files
    # (build_context does), so that what is judged from the files never reads the disk again.
    conf_files: dict[str, ConfFile] = field(default_factory=dict)
    # The variables the files were interpolated with (.env or --env-file, then the shell's), and
    # those that came from the file alone: read once here, for the redactor, deploy keys and notes.
    interpolation: dict[str, str] = field(default_factory=dict)
    dotenv: dict[str, str] = field(default_factory=dict)

    def engine_volume_name(self, key: str) -> str:
        declared = self.volumes.get(key)
        return declared.engine_name if declared else f"{self.name}_{key}"


def canonical_dir(path: str) -> str:
    """Normalise a container path; ``/var/run`` is a link to ``/run`` in every common image."""
    normal = posixpath.normpath(path) if path else path
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    if normal == "/var/run" or normal.startswith("/var/run/"):
        normal = normal[len("/var") :]
    return normal


def is_host_path(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or (len(source) > 1 and source[1] == ":")
