"""``cultivate doctor``: parse the arguments, build the context, run the checks, render. Nothing else."""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from doctor import __version__
from doctor.atomic import Keep, WriteRefused, check_target, existing, write_file
from doctor.render import FORMATS

if TYPE_CHECKING:
    from doctor.context import Context
    from doctor.fixflow import FixSummary
    from doctor.models import Finding, Target

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """argparse with one-sentence errors: no usage dump, a "did you mean" for a mistyped flag."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cultivate", description="Cultivate deployment tools.")
    parser.add_argument("--version", action="version", version=f"cultivate doctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    doctor = commands.add_parser(
        "doctor",
        help="find why PostgreSQL and its backend cannot talk over the Unix socket",
        description="Find why PostgreSQL and its backend cannot talk over the Unix socket, and say what to change.",
    )
    doctor.add_argument("--version", action="version", version=f"cultivate doctor {__version__}")
    add_doctor_arguments(doctor)
    explain = commands.add_parser(
        "explain",
        help="print a finding's page: what it means, the rule, the remedy, how to verify, look-alikes",
        description="Print the page of a finding id (the same text as docs/findings/ID.md).",
    )
    explain.add_argument("finding_id", metavar="ID", nargs="?", help="a finding id, as in a report; none lists them")
    diff = commands.add_parser(
        "diff",
        help="what changed between two runs (bundles or JSON reports)",
        description="Print findings that appeared, disappeared or changed status between two runs, each a "
        "bundle (.tar.gz) or a JSON report, and changed mounts (bundles). Exit 0 when nothing changed, 1 when "
        "something did, 2 when an input cannot be read.",
    )
    diff.add_argument("before", metavar="A", type=_path)
    diff.add_argument("after", metavar="B", type=_path)
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description="Print a completion script generated from this parser. "
        "bash: `source <(cultivate completion bash)`; zsh: `source <(cultivate completion zsh)`.",
    )
    completion.add_argument("shell", choices=("bash", "zsh"))
    return parser


def doctor_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices["doctor"]
            return found
    raise LookupError("doctor")


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checks", nargs="*", metavar="CHECK", help="run only these checks (see --list)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument("--schema", action="store_true", help="print the JSON Schema of --format json and exit")
    compose = parser.add_argument_group("Compose input (read as docker compose reads it)")
    compose.add_argument(
        "-f", "--file", action="append", default=[], metavar="FILE", type=_path, help="Compose file; repeatable"
    )
    compose.add_argument(
        "--project-directory",
        metavar="DIR",
        type=_path,
        help="project directory (default: the first Compose file's folder)",
    )
    compose.add_argument("-p", "--project-name", metavar="NAME", help="project name")
    compose.add_argument("--env-file", metavar="FILE", type=_path, help="interpolation variables (default: DIR/.env)")
    compose.add_argument(
        "--profile", action="append", default=[], metavar="NAME", help="activate a Compose profile; repeatable"
    )
    compose.add_argument(
        "--stack", metavar="NAME", help="judge the files as the Swarm stack NAME (docker stack deploy)"
    )
    compose.add_argument(
        "--target-os",
        choices=("auto", "linux", "macos"),
        default="auto",
        help="where the containers run (default: auto, this machine's OS)",
    )
    other = parser.add_argument_group("other evidence")
    other.add_argument(
        "--log-file",
        action="append",
        default=[],
        metavar="FILE",
        type=_path,
        help="PostgreSQL or backend log to analyse ('-' for stdin); repeatable",
    )
    other.add_argument(
        "--socket-dir", metavar="DIR", type=_path, help="socket directory to probe with a real connection"
    )
    other.add_argument("--port", type=_port, default=5432, help="PostgreSQL port of the socket (default 5432)")
    other.add_argument("--db-user", metavar="USER", help="role for the probe (default: from DATABASE_URL, PGUSER)")
    other.add_argument("--db-name", metavar="NAME", help="database for the probe (default: from DATABASE_URL)")
    engine = parser.add_argument_group("the container engine")
    engine.add_argument(
        "--docker-host", metavar="URL", help="engine endpoint (default: DOCKER_HOST, the CLI context, known sockets)"
    )
    engine.add_argument(
        "--node-engine",
        action="append",
        default=[],
        metavar="NODE=URL",
        help="a Swarm node's own engine, to look inside its task containers; repeatable",
    )
    engine.add_argument("--offline", action="store_true", help="do not contact the container engine")
    engine.add_argument("--read-only", action="store_true", help="no exec in containers and no probe container")
    engine.add_argument(
        "--probe-container",
        choices=("auto", "always", "never"),
        default="auto",
        help="the probe container: auto (when this machine cannot reach the socket), always, never",
    )
    engine.add_argument(
        "--log-lines",
        type=_positive,
        default=5000,
        metavar="N",
        help="last N lines of each container's log (default 5000)",
    )
    engine.add_argument(
        "--since", type=_since, metavar="WHEN", help="container logs since WHEN: epoch seconds, or 10m, 2h, 1d ago"
    )
    engine.add_argument("--timeout", type=_seconds, default=5.0, help="seconds for each external call (default 5)")
    engine.add_argument(
        "--deadline",
        type=_seconds,
        default=60.0,
        help="seconds for the whole run; checks not started by then are skipped (default 60)",
    )
    fixing = parser.add_argument_group("fixing and support")
    fixing.add_argument(
        "--fix", action="store_true", help="rewrite the Compose files to the guide's strategy (asks first)"
    )
    fixing.add_argument("--yes", action="store_true", help="with --fix: apply without asking")
    fixing.add_argument("--dry-run", action="store_true", help="with --fix: show the diff, change nothing")
    fixing.add_argument("--bundle", metavar="FILE.tar.gz", type=_path, help="write a redacted support bundle")
    fixing.add_argument(
        "--from-bundle",
        metavar="FILE.tar.gz",
        type=_path,
        help="re-read a bundle: re-run the checks its files allow, take the rest as recorded",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=FORMATS, default="text", help="report format (default text)")
    output.add_argument("-o", "--output", metavar="FILE", type=_path, help="write the report to FILE (atomically)")
    output.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour (default auto)")
    output.add_argument("-v", "--verbose", action="store_true", help="show evidence and each check's duration")
    output.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    # Here, away from --bundle's line, only so parallel edits of that line merge cleanly.
    output.add_argument("--force", action="store_true", help="with --bundle: replace an existing archive")


MAX_LOG_LINES = 10_000_000  # far above any use; keeps the engine's `tail` a sane integer
MAX_SINCE_SECONDS = 100 * 365 * 86400  # a century back


def _path(text: str) -> str:
    # The operating system cannot name a file with a NUL byte; say so here, not in a traceback.
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"a file name cannot contain a NUL byte: {text!r}")
    return text


def _integer(text: str, what: str) -> int:
    # int() accepts any length of digits; a bounded, plain form keeps overflow out of later code.
    stripped = text.strip()
    if not stripped.lstrip("+-").isdigit() or len(stripped) > 19:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(stripped)


def _port(text: str) -> int:
    try:
        value = _integer(text, "port")
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 1-65535")
    return value


def _positive(text: str) -> int:
    value = _integer(text, "count")
    if not 1 <= value <= MAX_LOG_LINES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_LOG_LINES:,}")
    return value


def _since(text: str) -> int:
    """Epoch seconds (Finch parses `since` as an integer), from '1700000000' or '10m', '2h', '1d'.

    Every form is checked against a range before it becomes an int: '1e400m' is infinity as a
    float and 'nanm' is not a number, and int() of either raises an error argparse does not catch."""
    import math
    import time

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    problem = f"not a time: {text!r} (use epoch seconds, or 10m, 2h, 1d ago, up to 100 years)"
    now = time.time()
    try:
        if text[-1:] in units:
            amount = float(text[:-1])
            if not math.isfinite(amount) or not 0 <= amount * units[text[-1]] <= MAX_SINCE_SECONDS:
                raise argparse.ArgumentTypeError(problem)
            return int(now - amount * units[text[-1]])
        value = _integer(text, "time")
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(problem) from None
    if not now - MAX_SINCE_SECONDS <= value <= now + 86400:
        raise argparse.ArgumentTypeError(problem)
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:  # also false for NaN
        raise argparse.ArgumentTypeError("the timeout must be between 0 and 600 seconds")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        return _quiet_broken_pipe()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # argparse has printed its one-line message
        return int(exc.code or 0)
    if extra:
        return _unrecognised(parser, extra)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command == "completion":
        from doctor.completion import script

        sys.stdout.write(script(parser, args.shell))
        return EXIT_OK
    if args.command == "explain":
        return explain(args.finding_id)
    if args.command == "diff":
        return diff_runs(args.before, args.after)
    if args.command != "doctor":
        parser.print_help()
        return EXIT_USAGE
    try:
        return run_doctor(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise
    except OSError as exc:  # an input the checks could not read: one sentence, never a traceback
        return _usage(_os_sentence(exc))
    except Exception as exc:  # a bug must still end in one paragraph, not a traceback
        return _usage(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in cultivate doctor; "
            "please report it with the command line you ran."
        )


def diff_runs(before: str, after: str) -> int:
    from doctor.readback import BundleUnreadable
    from doctor.reportdiff import load, render

    try:
        runs = load(before), load(after)
    except BundleUnreadable as exc:
        print(f"cultivate diff: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text, changed = render(*runs)
    sys.stdout.write(text)
    return EXIT_PROBLEMS if changed else EXIT_OK


def explain(finding_id: str | None) -> int:
    import difflib

    from doctor.findings import page, page_ids

    if not finding_id:
        sys.stdout.write("".join(f"{known}\n" for known in page_ids()))
        return EXIT_OK
    text = page(finding_id)
    if text is None:
        close = difflib.get_close_matches(finding_id, page_ids(), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "`cultivate explain` lists them"
        print(f"cultivate explain: no page for {finding_id!r}; {hint}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(text)
    return EXIT_OK


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a program a closed pipe stopped


def _quiet_broken_pipe() -> int:
    """The reader went away (``--list | head -1``): stop without a word. Python would otherwise
    complain once more when it flushes stdout at exit, so stdout now points at /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture): nothing to flush
        pass
    return EXIT_BROKEN_PIPE


def _os_sentence(exc: OSError) -> str:
    what = f" {exc.filename}" if exc.filename else ""
    reason = exc.strerror or str(exc)
    return f"cannot read{what}: {reason[:1].lower() + reason[1:]}"


def _unrecognised(parser: argparse.ArgumentParser, extra: list[str]) -> int:
    """An unknown flag, with the nearest real one: `--ofline` → `--offline`."""
    import difflib

    flag = extra[0]
    known = [o for a in doctor_parser(parser)._actions for o in a.option_strings if o.startswith("--")]
    close = difflib.get_close_matches(flag.split("=", 1)[0], known, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]}?" if close else "; `cultivate doctor --help` lists the flags"
    return _usage(f"unrecognized argument {flag}{hint}")


def doctor_main(argv: Sequence[str] | None = None) -> int:
    """``python -m doctor``: the doctor subcommand on its own."""
    return main(["doctor", *(sys.argv[1:] if argv is None else argv)])


def run_doctor(args: argparse.Namespace) -> int:
    from checks import CHECKS, select  # here, not at the top: keeps --help fast
    from doctor.context import Options, UsageError, build_context
    from doctor.outputs import refuse_inputs
    from doctor.runner import run_checks

    if args.schema:
        from doctor.schema import report_schema_text

        sys.stdout.write(report_schema_text())
        return EXIT_OK
    if args.list:
        if args.format == "json":
            import json

            listed = [{"id": check.ID, "summary": check.SUMMARY} for check in CHECKS]
            sys.stdout.write(json.dumps({"checks": listed}, indent=2) + "\n")
        else:
            for check in CHECKS:
                sys.stdout.write(f"{check.ID:22} {check.SUMMARY}\n")
        return EXIT_OK
    try:
        checks = select(args.checks)
    except KeyError as exc:
        return _usage(_unknown_check(exc.args[0], [check.ID for check in CHECKS]))
    if args.from_bundle:
        return from_bundle(args)
    if (args.yes or args.dry_run) and not args.fix:
        return _usage("--yes and --dry-run go with --fix")
    if args.bundle and not args.bundle.endswith((".tar.gz", ".tgz")):
        return _usage("--bundle needs a file name ending in .tar.gz")
    if args.force and not args.bundle:
        return _usage("--force goes with --bundle")
    problem = _docker_host_problem(args.docker_host) or _directory_problem(args.project_directory)
    if problem:
        return _usage(problem)
    try:
        # Before any work (and before --fix writes anything): a refused output ends the run now.
        check_outputs(args)
    except WriteRefused as exc:
        return _usage(str(exc))
    options = Options(
        project_directory=Path(args.project_directory) if args.project_directory else None,
        files=tuple(args.file),
        profiles=tuple(args.profile),
        project_name=args.project_name,
        stack=args.stack,
        node_engines=tuple(args.node_engine),
        env_file=args.env_file,
        target_os=args.target_os,
        log_files=tuple(args.log_file),
        socket_dir=args.socket_dir,
        port=args.port,
        db_user=args.db_user,
        db_name=args.db_name,
        offline=args.offline,
        timeout=args.timeout,
        deadline=args.deadline,
        docker_host=args.docker_host,
        read_only=args.read_only,
        probe_container=args.probe_container,
        log_lines=args.log_lines,
        since=args.since,
        tokens=bool(args.bundle),
    )
    with Progress() as progress:
        progress("reading the Compose files" + ("" if args.offline else " and reaching the engine"))
        try:
            ctx = build_context(options)
        except UsageError as exc:
            return _usage(str(exc))
        try:
            for name, what in ((args.output, "the report"), (args.bundle, "the bundle")):
                if name:
                    refuse_inputs(Path(name), ctx, what)
        except WriteRefused as exc:
            return _usage(str(exc))
        findings = run_checks(ctx, checks, progress)
    fix = None
    if args.fix:
        from doctor.fixflow import run_fix

        outcome = run_fix(ctx, checks, findings, yes=args.yes, dry_run=args.dry_run)
        ctx, findings, fix = outcome.ctx, outcome.findings, outcome.summary
    if args.bundle:
        from doctor.bundle import write_bundle

        try:
            write_bundle(
                ctx, findings, Path(args.bundle), fix=fix, replace=args.force, command_line=command_line(args, ctx)
            )
        except WriteRefused as exc:
            return _usage(str(exc))
        size = Path(args.bundle).stat().st_size
        print(f"cultivate doctor: wrote the bundle {args.bundle} ({_size(size)})", file=sys.stderr)
    refused = _emit(args, render(args, ctx.target(findings), findings, fix, command_line(args, ctx)))
    if refused is not None:
        return refused
    if fix is not None and fix.failed:
        return _usage(fix.message)
    return exit_code(findings, strict=args.strict)


class Progress:
    """One transient line on stderr while the doctor waits (the engine, a probe, a large log),
    only when stderr is a terminal: a pipe or a log file gets nothing."""

    def __init__(self) -> None:
        self._status: Any = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty() and os.environ.get("TERM") != "dumb":
            from rich.console import Console

            self._status = Console(stderr=True, highlight=False).status("cultivate doctor: starting")
            self._status.start()
        return self

    def __call__(self, message: str) -> None:
        if self._status is not None:
            self._status.update(f"cultivate doctor: {message}")

    def __exit__(self, *_: object) -> None:
        if self._status is not None:
            self._status.stop()


def _size(size: int) -> str:
    return (
        f"{size} bytes"
        if size < 1024
        else f"{size / 1024:.1f} KiB"
        if size < 1024 * 1024
        else f"{size / 1048576:.1f} MiB"
    )


def from_bundle(args: argparse.Namespace) -> int:
    """Render a bundle's findings again: the file checks re-run, the rest as recorded."""
    from doctor.readback import BundleUnreadable, reread

    if args.fix or args.bundle:
        return _usage("--from-bundle reads a bundle only; it cannot go with --fix or --bundle")
    if args.output and os.path.abspath(args.output) == os.path.abspath(args.from_bundle):
        return _usage("-o names the bundle being read; the report would replace it")
    try:
        again = reread(args.from_bundle)
    except BundleUnreadable as exc:
        return _usage(str(exc))
    selected = set(args.checks)
    findings = [f for f in again.findings if not selected or f.check in selected]
    parts = [f"ran again from the bundle's files: {', '.join(again.rerun) or 'none'}"]
    parts.append(f"recorded evidence: {', '.join(again.recorded) or 'none'}")
    if again.differed:
        parts.append(
            f"recorded, because the re-run differed (a variable not in the bundle?): {', '.join(again.differed)}"
        )
    print(f"cultivate doctor: re-read {args.from_bundle}; " + "; ".join(parts), file=sys.stderr)
    refused = _emit(args, render(args, again.target, findings, None, None))
    if refused is not None:
        return refused
    return exit_code(findings, strict=args.strict)


def _emit(args: argparse.Namespace, report: str) -> int | None:
    """The report to -o or stdout; the usage exit code when -o is refused, else None."""
    if args.output:
        try:
            write_report(Path(args.output), report)
        except WriteRefused as exc:
            return _usage(str(exc))
    elif report:
        sys.stdout.write(report)
    return None


def command_line(args: argparse.Namespace, ctx: Context) -> str:
    """The command as typed, redacted like everything else (a password in --docker-host…)."""
    import shlex

    return ctx.redactor.text(shlex.join(["cultivate", *getattr(args, "argv", [])]), "the command line")


def render(
    args: argparse.Namespace,
    target: Target,
    findings: list[Finding],
    fix: FixSummary | None,
    command: str | None = None,
) -> str:
    if args.format == "json":
        from doctor.render.json_report import render_json

        return render_json(target, findings, fix, command_line=command)
    if args.format == "markdown":
        from doctor.render.markdown import render_markdown

        return render_markdown(target, findings, fix, command_line=command)
    from doctor.render.terminal import make_console, render_terminal

    if args.output:
        buffer = io.StringIO()
        render_terminal(make_console(buffer, "never"), target, findings, verbose=args.verbose, fix=fix)
        return buffer.getvalue()
    render_terminal(make_console(sys.stdout, args.color), target, findings, verbose=args.verbose, fix=fix)
    return ""


def exit_code(findings: list[Finding], *, strict: bool) -> int:
    from doctor.models import Status

    failing = {Status.FAIL, Status.ERROR} | ({Status.WARN} if strict else set())
    return EXIT_PROBLEMS if any(f.status in failing for f in findings) else EXIT_OK


ENGINE_SCHEMES = ("unix", "tcp", "ssh")


def _docker_host_problem(url: str | None) -> str | None:
    """docker-py would read http:// as plain TCP and fail later with a misleading cause."""
    if not url:
        return None
    scheme, sep, _ = url.partition("://")
    if sep and scheme in ENGINE_SCHEMES:
        return None
    named = f"scheme {scheme}://" if sep else "no scheme"
    return (
        f"--docker-host {url} has {named}, which the doctor does not support; "
        "use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST"
    )


def _directory_problem(directory: str | None) -> str | None:
    """A project directory that exists but cannot be listed is one sentence, not a traceback."""
    path = Path(directory or os.getcwd())
    try:
        if not stat.S_ISDIR(os.stat(path).st_mode):
            return None  # the context says it is not a directory
        os.listdir(path)
    except FileNotFoundError:
        return None  # the context says it does not exist
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"cannot read the project directory {path}: {reason.lower()}"
    return None


def _unknown_check(name: str, known: list[str]) -> str:
    import difflib

    if Path(name).is_file() or name.endswith((".yaml", ".yml")):
        return f"{name} is not a check; to read it as a Compose file, use -f {name}"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "`cultivate doctor --list` shows them"
    return f"unknown check {name!r}; {hint}"


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before the run, an -o or --bundle that is no place for a new regular file."""
    if args.output:
        check_target(Path(args.output), replace=True, what="the report")
    if args.bundle:
        check_target(Path(args.bundle), replace=args.force, what="the bundle")
    if args.output and args.bundle:
        first, second = existing(Path(args.output)), existing(Path(args.bundle))
        same_inode = (
            first is not None and second is not None and (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)
        )
        if same_inode or os.path.abspath(args.output) == os.path.abspath(args.bundle):
            raise WriteRefused("-o and --bundle name the same file")


def write_report(path: Path, text: str) -> None:
    """A replaced report keeps the owner, group and mode of the file it replaces."""
    status = check_target(path, replace=True, what="the report")
    write_file(path, text.encode("utf-8"), keep=Keep.of(status) if status is not None else None, what="the report")


def _usage(message: str) -> int:
    print(f"cultivate doctor: {message}", file=sys.stderr)
    return EXIT_USAGE
