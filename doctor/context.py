"""Everything a check may look at, gathered once before the checks run."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from doctor.compose.files import DEFAULT_NAMES, FileNotFound
from doctor.compose.model import ComposeProject
from doctor.compose.project import interpolation_env, load_project
from doctor.engine.endpoint import Endpoint, resolve
from doctor.engine.nodes import NodeEngines, parse_node_engine
from doctor.engine.session import EngineSession, EngineUnreachable, connect
from doctor.engine.swarm import Stack, read_stack
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
    docker_host: str | None = None
    read_only: bool = False
    probe_container: str = "auto"  # auto | always | never
    log_lines: int = 5000
    since: int | None = None  # epoch seconds
    tokens: bool = False  # consistent [secret-N] tokens (for bundles) instead of [redacted]
    stack: str | None = None  # --stack NAME: judge the files as a Swarm stack of that name
    node_engines: tuple[str, ...] = ()  # --node-engine NODE=URL: the engines of a swarm's nodes


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
    stack: Stack | None = None  # the Swarm stack of this name, when the engine runs one
    stack_error: str = ""
    nodes: NodeEngines | None = None  # the other nodes' engines (--node-engine), connected lazily

    @property
    def is_stack(self) -> bool:
        """A Swarm stack: --stack was given, or the engine runs a stack of the project's name."""
        return self.options.stack is not None or self.stack is not None

    @property
    def runtime(self) -> str:
        """The command the operator types: the engine's, else finch on macOS and docker elsewhere."""
        if self.engine is not None:
            return self.engine.runtime.command
        return "finch" if self.target_os == "macos" else "docker"

    def target(self, findings: list[Finding] | None = None) -> Target:
        project = self.project
        volumes: tuple[tuple[str, str], ...] = ()
        if project is not None:
            volumes = tuple((key, decl.engine_name) for key, decl in project.volumes.items())
        return Target(
            os=self.target_os,
            os_reason=self.target_os_reason,
            runtime=self.engine.runtime.name if self.engine is not None else None,
            project=project.name if project else None,
            compose_files=tuple(project.texts or project.files) if project else (),
            project_directory=str(self.options.project_directory),
            volumes=volumes,
            fingerprint=fingerprint(project, findings) if findings is not None else None,
            stack=(project.name if project else self.options.stack) if self.is_stack else None,
            nodes=len(self.stack.nodes) if self.stack is not None and self.stack.nodes else None,
        )


def host_os() -> str:
    system = platform.system()
    return {"Darwin": "macos", "Linux": "linux"}.get(system, system.lower())


def build_context(options: Options, environ: Mapping[str, str] | None = None) -> Context:
    environ = dict(os.environ if environ is None else environ)
    project_dir = options.project_directory
    if not project_dir.is_dir():
        raise UsageError(f"the project directory {project_dir} does not exist or is not a directory")
    if options.stack and options.project_name and options.stack != options.project_name:
        raise UsageError(f"-p {options.project_name} and --stack {options.stack} name different stacks; give one")
    node_urls = {}
    for text in options.node_engines:
        try:
            node, url = parse_node_engine(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        node_urls[node] = url
    for log in options.log_files:
        if log != "-" and not Path(log).exists():
            raise UsageError(f"the log file {log} does not exist")
    try:
        project = load_project(
            project_dir,
            options.files,
            environ=environ,
            env_file=options.env_file,
            explicit_name=options.project_name or options.stack,
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
    if not options.offline:
        ctx.nodes = NodeEngines(node_urls, options.timeout, host_os())
        _reach_engine(ctx)
    return ctx


def _reach_engine(ctx: Context) -> None:
    """Connect once, bounded by the timeout; what the engine says about where containers run
    replaces the guess of --target-os auto, so every check judges severities the same way."""
    home = ctx.environ.get("HOME", str(Path.home()))
    ctx.endpoint = resolve(ctx.options.docker_host, ctx.environ, home)
    try:
        ctx.engine = connect(ctx.endpoint, ctx.options.timeout, host_os())
    except EngineUnreachable as exc:
        ctx.engine_error = exc
        return
    _read_stack(ctx)
    runtime = ctx.engine.runtime
    if ctx.options.target_os == "auto" and runtime.target_os is not None:
        ctx.target_os, ctx.target_os_reason = runtime.target_os, f"the engine: {runtime.description}"


def _read_stack(ctx: Context) -> None:
    name = ctx.project.name if ctx.project is not None else ctx.options.stack
    if ctx.engine is None or not name:
        return
    try:
        ctx.stack = read_stack(ctx.engine.client, ctx.engine.info, name)
    except Exception as exc:  # an engine that stops answering mid-run: the stack checks say so
        ctx.stack_error = f"the Swarm API did not answer: {str(exc)[:200]}"


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
