"""Everything a check may look at, gathered once before the checks run."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from doctor import safeio
from doctor.collector import start_up_done
from doctor.compose.files import DEFAULT_NAMES, FileNotFound
from doctor.compose.model import ComposeProject
from doctor.compose.project import load_project
from doctor.engine.composetool import ComposeTool, default_tool, identify_tool
from doctor.engine.endpoint import Endpoint, resolve
from doctor.engine.nodes import NodeEngines, parse_node_engine
from doctor.engine.session import EngineSession, EngineUnreachable, connect
from doctor.engine.swarm import Stack, read_stack
from doctor.fingerprint import fingerprint
from doctor.models import Finding, Target, TargetOS
from doctor.postgres import client_targets, read_conf_files
from doctor.redact import Redactor
from doctor.redact_compose import compose_text, mask_value, top_level_names

if TYPE_CHECKING:
    from doctor.plan import Plan


class UsageError(Exception):
    """The doctor cannot run as asked; the message is one sentence for stderr (exit 2)."""


@dataclass(frozen=True)
class Options:
    # --project-directory; None: the folder of the first Compose file, as in Compose v2.
    project_directory: Path | None = None
    files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()  # --profile
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
    stack: str | None = None  # --stack NAME: judge the files as a Swarm stack of that name
    node_engines: tuple[str, ...] = ()  # --node-engine NODE=URL: the engines of a swarm's nodes


@dataclass
class Context:
    options: Options
    target_os: TargetOS
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
    plan: Plan | None = None  # the edit plan, made once by doctor.plan.plan_for on first use

    @property
    def is_stack(self) -> bool:
        """A Swarm stack: --stack was given, or the engine runs a stack of the project's name."""
        return self.options.stack is not None or self.stack is not None

    _compose_tool: ComposeTool | None = None

    @property
    def runtime(self) -> str:
        """The command the operator types: the engine's, else finch on macOS and docker elsewhere."""
        if self.engine is not None:
            return self.engine.runtime.command
        return "finch" if self.target_os is TargetOS.MACOS else "docker"

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

    def close(self) -> None:
        """Close the connections to this engine and to the nodes' engines (kept alive for reuse
        while the checks run)."""
        if self.engine is not None:
            self.engine.close()
        if self.nodes is not None:
            self.nodes.close()

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
            compose_files=tuple({**project.texts, **project.unloaded} or project.files) if project else (),
            project_directory=project.directory if project else str(self.options.project_directory or Path.cwd()),
            volumes=volumes,
            fingerprint=fingerprint(project, findings) if findings is not None else None,
            stack=(project.name if project else self.options.stack) if self.is_stack else None,
            nodes=len(self.stack.nodes) if self.stack is not None and self.stack.nodes else None,
        )


def host_os() -> TargetOS:
    return TargetOS.of_machine(platform.system())


def build_context(options: Options, environ: Mapping[str, str] | None = None) -> Context:
    environ = dict(os.environ if environ is None else environ)
    project_dir = options.project_directory
    if project_dir is not None and not project_dir.is_dir():
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
    _check_flag_files(options)
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
                explicit_name=options.project_name or options.stack,
                profiles=options.profiles,
            )
        except FileNotFound as exc:
            raise UsageError(str(exc)) from None
        if project is not None:
            project.conf_files = read_conf_files(project)
        if project is None and not options.log_files and not options.socket_dir:
            names = ", ".join(DEFAULT_NAMES)
            raise UsageError(
                f"nothing to examine: no Compose file in {project_dir or Path.cwd()} or its parent folders "
                f"(looked for {names} and COMPOSE_FILE), and no --log-file or --socket-dir given"
            )
        if options.target_os == "auto":
            target_os, reason = host_os(), "this machine's OS (--target-os auto)"
        else:
            target_os, reason = TargetOS(options.target_os), "--target-os"
        ctx = Context(options, target_os, reason, project, environ, _redactor(project, environ, options))
        if connecting is not None:
            ctx.nodes = NodeEngines(node_urls, options.timeout, host_os())
            _reach_engine(ctx, connecting)
    except BaseException:
        if connecting is not None:  # a usage error: the session being made is not wanted
            _discard(connecting)
        raise
    start_up_done()  # docker-py and the checks are imported: the collector may run again
    return ctx


def _check_flag_files(options: Options) -> None:
    """A file named by a flag must be a regular file: a FIFO would block the run, a device
    would never end. One sentence and exit 2, as for a file that does not exist. ``-f`` names
    are relative to the current directory, as in Compose v2."""
    named: list[tuple[str, str | Path]] = [("the log file", log) for log in options.log_files if log != "-"]
    named += [("the Compose file", Path(name).expanduser()) for name in options.files]
    if options.env_file:
        named.append(("the --env-file", Path(options.env_file)))
    for what, path in named:
        reason = safeio.problem(path)
        if reason is None and what == "the --env-file":
            reason = safeio.too_large(path, 1_048_576)  # as doctor.compose.envfile reads it
        if reason is None:
            continue
        if reason.endswith("No such file or directory"):
            raise UsageError(f"{what} {path} does not exist")
        raise UsageError(f"cannot read {what} {path}: {reason.removeprefix('cannot be read: ')}")


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
    _read_stack(ctx)
    runtime = ctx.engine.runtime
    if ctx.options.target_os == "auto" and runtime.target_os is not None:
        ctx.target_os, ctx.target_os_reason = runtime.target_os, f"the engine: {runtime.description}"


def _read_stack(ctx: Context) -> None:
    name = ctx.project.name if ctx.project is not None else ctx.options.stack
    if ctx.engine is None or not name:
        return
    try:
        ctx.stack = read_stack(ctx.engine, name)
    except Exception as exc:  # an engine that stops answering mid-run: the stack checks say so
        ctx.stack_error = f"the Swarm API did not answer: {str(exc)[:200]}"


def _redactor(project: ComposeProject | None, environ: Mapping[str, str], options: Options) -> Redactor:
    """Names and paths first (they are protected), then the secrets: the shell's and ``.env``'s
    secret-named variables, and every value at a secret position of the Compose files, found
    by the same structural pass that masks the bundle's copies."""
    env = dict(project.interpolation if project is not None else environ)
    protected = protected_names(project)
    redactor = Redactor(tokens=options.tokens, protected=protected, env=env)
    redactor.add_named(env.items())
    if project is not None:
        collector = Redactor(protected=protected, env=env)
        services = frozenset(project.services)
        for name, text in project.texts.items():
            compose_text(collector, text, name, services, learn=True)
        for service in project.services.values():
            # What the container sees, env_file values included, by the same rule as the files.
            for key, entry in service.environment.items():
                mask_value(collector, key, entry.value, "", "", services=services, learn=True)
            collector.add(t.password for t in client_targets(service) if t.password)
        redactor.learn(collector)
    return redactor


# Paths every report names whatever the files say; a password inside one of them is weak too.
_DOCTOR_PATHS = ("/var/run/postgresql", "/run/postgresql", "/var/lib/postgresql/data", ".s.PGSQL.5432")


def protected_names(project: ComposeProject | None) -> dict[str, str]:
    """The names and paths a report is about, with what each is; they are never masked."""
    names = dict.fromkeys(_DOCTOR_PATHS, "path")
    if project is None:
        return names

    def put(kind: str, *values: str | None) -> None:
        for value in values:
            if value:
                names.setdefault(value, kind)

    put("project name", project.name)
    put("service name", *project.services)
    for key, declaration in project.volumes.items():
        put("volume name", key, declaration.engine_name)
    for service in project.services.values():
        put("image", service.image)
        for mount in service.mounts:
            put("path", mount.target, mount.source)
    put("name", *top_level_names(project.texts.values()))
    put("file name", *project.texts)
    put("path", project.directory, *project.files)
    return names
