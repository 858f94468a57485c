"""Everything a check may look at, gathered once before the checks run."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from doctor.compose.files import DEFAULT_NAMES, FileNotFound
from doctor.compose.model import ComposeProject
from doctor.compose.project import interpolation_env, load_project
from doctor.engine.composetool import ComposeTool, default_tool, identify_tool
from doctor.engine.endpoint import Endpoint, resolve
from doctor.engine.session import EngineSession, EngineUnreachable, connect
from doctor.fingerprint import fingerprint
from doctor.models import Finding, Target
from doctor.postgres import client_targets
from doctor.redact import Redactor


class UsageError(Exception):
    """The doctor cannot run as asked; the message is one sentence for stderr (exit 2)."""


@dataclass(frozen=True)
class Options:
    project_directory: Path = field(default_factory=Path.cwd)
    files: tuple[str, ...] = ()
    project_name: str | None = None
    env_file: str | None = None
    target_os: str = "auto"
    log_files: tuple[str, ...] = ()
    socket_dir: str | None = None
    port: int = 5432
    db_user: str | None = None
    db_name: str | None = None
    offline: bool = False
    timeout: float = 5.0
    deadline: float = 60.0  # seconds for the whole run (--deadline)
    docker_host: str | None = None
    read_only: bool = False
    probe_container: str = "auto"  # auto | always | never
    log_lines: int = 5000
    since: int | None = None  # epoch seconds
    tokens: bool = False  # consistent [secret-N] tokens (for bundles) instead of [redacted]


@dataclass
class Context:
    options: Options
    target_os: str
    target_os_reason: str
    project: ComposeProject | None
    environ: Mapping[str, str]
    redactor: Redactor
    endpoint: Endpoint | None = None
    engine: EngineSession | None = None
    engine_error: EngineUnreachable | None = None
    _compose_tool: ComposeTool | None = None

    @property
    def runtime(self) -> str:
        """The command the operator types: the engine's, else finch on macOS and docker elsewhere."""
        if self.engine is not None:
            return self.engine.runtime.command
        return "finch" if self.target_os == "macos" else "docker"

    @property
    def compose_tool(self) -> ComposeTool:
        """The Compose tool that deployed the project, from its containers' labels (asked once);
        without an engine or containers, the runtime's own Compose."""
        if self._compose_tool is None:
            tool = default_tool(self.runtime)
            if self.engine is not None and self.project is not None:
                try:
                    containers = self.engine.all_project_containers(self.project.name)
                except Exception:  # the checks report engine errors; the tool stays assumed
                    containers = []
                tool = identify_tool((c.labels for c in containers), self.runtime)
            self._compose_tool = tool
        return self._compose_tool

    @property
    def compose_command(self) -> str:
        return self.compose_tool.command

    def target(self, findings: list[Finding] | None = None) -> Target:
        project = self.project
        volumes: tuple[tuple[str, str], ...] = ()
        if project is not None:
            volumes = tuple((key, decl.engine_name) for key, decl in project.volumes.items())
        return Target(
            os=self.target_os,
            os_reason=self.target_os_reason,
            runtime=self.engine.runtime.name if self.engine is not None else None,
            compose_tool=self.compose_tool.description if self.project is not None else None,
            project=project.name if project else None,
            compose_files=tuple(project.texts or project.files) if project else (),
            project_directory=str(self.options.project_directory),
            volumes=volumes,
            fingerprint=fingerprint(project, findings) if findings is not None else None,
        )


def host_os() -> str:
    system = platform.system()
    return {"Darwin": "macos", "Linux": "linux"}.get(system, system.lower())


def build_context(options: Options, environ: Mapping[str, str] | None = None) -> Context:
    environ = dict(os.environ if environ is None else environ)
    project_dir = options.project_directory
    if not project_dir.is_dir():
        raise UsageError(f"the project directory {project_dir} does not exist or is not a directory")
    for log in options.log_files:
        if log != "-" and not Path(log).exists():
            raise UsageError(f"the log file {log} does not exist")
    # The engine is reached while the Compose files are read: importing docker-py and waiting
    # for /version and /info overlap the file work instead of following it.
    connecting = None if options.offline else _start_connecting(options, environ)
    try:
        try:
            project = load_project(
                project_dir,
                options.files,
                environ=environ,
                env_file=options.env_file,
                explicit_name=options.project_name,
            )
        except FileNotFound as exc:
            raise UsageError(str(exc)) from None
        if project is None and not options.log_files and not options.socket_dir:
            names = ", ".join(DEFAULT_NAMES)
            raise UsageError(
                f"nothing to examine: no Compose file in {project_dir} (looked for {names} and "
                "COMPOSE_FILE), and no --log-file or --socket-dir given"
            )
        if options.target_os == "auto":
            target_os, reason = host_os(), "this machine's OS (--target-os auto)"
        else:
            target_os, reason = options.target_os, "--target-os"
        ctx = Context(options, target_os, reason, project, environ, _redactor(project, environ, options))
        if connecting is not None:
            _reach_engine(ctx, connecting)
    except BaseException:
        if connecting is not None:  # a usage error: the session being made is not wanted
            _discard(connecting)
        raise
    return ctx


Connecting = tuple[Endpoint, "Future[EngineSession]"]


def _start_connecting(options: Options, environ: Mapping[str, str]) -> Connecting:
    home = environ.get("HOME", str(Path.home()))
    endpoint = resolve(options.docker_host, environ, home)
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(connect, endpoint, options.timeout, host_os())
    pool.shutdown(wait=False)  # the one job still runs; the pool takes no more
    return endpoint, future


def _discard(connecting: Connecting) -> None:
    with contextlib.suppress(Exception):  # a failed connect opened nothing
        connecting[1].result().close()


def _reach_engine(ctx: Context, connecting: Connecting) -> None:
    """Connect once, bounded by the timeout; what the engine says about where containers run
    replaces the guess of --target-os auto, so every check judges severities the same way."""
    ctx.endpoint, future = connecting
    try:
        ctx.engine = future.result()
    except EngineUnreachable as exc:
        ctx.engine_error = exc
        return
    runtime = ctx.engine.runtime
    if ctx.options.target_os == "auto" and runtime.target_os is not None:
        ctx.target_os, ctx.target_os_reason = runtime.target_os, f"the engine: {runtime.description}"


def _redactor(project: ComposeProject | None, environ: Mapping[str, str], options: Options) -> Redactor:
    redactor = Redactor(tokens=options.tokens)
    redactor.add_named(environ.items())
    if project is not None:
        try:
            env, _ = interpolation_env(Path(project.directory), options.env_file, {})
        except FileNotFound:
            env = {}
        redactor.add_named(env.items())
        for service in project.services.values():
            redactor.add_named((name, entry.value) for name, entry in service.environment.items())
            redactor.add(t.password for t in client_targets(service) if t.password)
    return redactor
