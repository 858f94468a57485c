"""``cultivate doctor``: parse the arguments, build the context, run the checks, render. Nothing else."""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from doctor import __version__
from doctor.render import FORMATS

if TYPE_CHECKING:
    from doctor.fixflow import FixSummary
    from doctor.models import Finding, Target

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cultivate", description="Cultivate deployment tools.")
    parser.add_argument("--version", action="version", version=f"cultivate doctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_doctor_arguments(
        commands.add_parser(
            "doctor",
            help="find why PostgreSQL and its backend cannot talk over the Unix socket",
            description="Find why PostgreSQL and its backend cannot talk over the Unix socket, and say what to change.",
        )
    )
    return parser


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checks", nargs="*", metavar="CHECK", help="run only these checks (see --list)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    compose = parser.add_argument_group("Compose input (read as docker compose reads it)")
    compose.add_argument("-f", "--file", action="append", default=[], metavar="FILE", help="Compose file; repeatable")
    compose.add_argument("--project-directory", metavar="DIR", help="project directory (default: current)")
    compose.add_argument("-p", "--project-name", metavar="NAME", help="project name")
    compose.add_argument("--env-file", metavar="FILE", help="interpolation variables (default: DIR/.env)")
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
        help="PostgreSQL or backend log to analyse ('-' for stdin); repeatable",
    )
    other.add_argument("--socket-dir", metavar="DIR", help="socket directory to probe with a real connection")
    other.add_argument("--port", type=_port, default=5432, help="PostgreSQL port of the socket (default 5432)")
    other.add_argument("--db-user", metavar="USER", help="role for the probe (default: from DATABASE_URL, PGUSER)")
    other.add_argument("--db-name", metavar="NAME", help="database for the probe (default: from DATABASE_URL)")
    engine = parser.add_argument_group("the container engine")
    engine.add_argument(
        "--docker-host", metavar="URL", help="engine endpoint (default: DOCKER_HOST, the CLI context, known sockets)"
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
    fixing.add_argument("--bundle", metavar="FILE.tar.gz", help="write a redacted support bundle")
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=FORMATS, default="text", help="report format (default text)")
    output.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically)")
    output.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour (default auto)")
    output.add_argument("-v", "--verbose", action="store_true", help="show evidence and each check's duration")
    output.add_argument("--strict", action="store_true", help="exit 1 on warnings too")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 1-65535")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _since(text: str) -> int:
    """Epoch seconds (Finch parses `since` as an integer), from '1700000000' or '10m', '2h', '1d'."""
    import time

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text[-1:] in units:
            return int(time.time() - float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (use epoch seconds or 10m, 2h, 1d)") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("seconds must be more than 0 and at most 600")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one-line message
        return int(exc.code or 0)
    if args.command != "doctor":
        parser.print_help()
        return EXIT_USAGE
    try:
        return run_doctor(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug must still end in one paragraph, not a traceback
        return _usage(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in cultivate doctor; "
            "please report it with the command line you ran."
        )


def doctor_main(argv: Sequence[str] | None = None) -> int:
    """``python -m doctor``: the doctor subcommand on its own."""
    return main(["doctor", *(sys.argv[1:] if argv is None else argv)])


def run_doctor(args: argparse.Namespace) -> int:
    from checks import CHECKS, select  # here, not at the top: keeps --help fast
    from doctor.context import Options, UsageError, build_context
    from doctor.runner import run_checks

    if args.list:
        for check in CHECKS:
            print(f"{check.ID:22} {check.SUMMARY}")
        return EXIT_OK
    try:
        checks = select(args.checks)
    except KeyError as exc:
        return _usage(f"unknown check {exc.args[0]!r}; `cultivate doctor --list` shows them")
    if (args.yes or args.dry_run) and not args.fix:
        return _usage("--yes and --dry-run go with --fix")
    if args.bundle and not args.bundle.endswith((".tar.gz", ".tgz")):
        return _usage("--bundle needs a file name ending in .tar.gz")
    options = Options(
        project_directory=Path(args.project_directory or os.getcwd()),
        files=tuple(args.file),
        project_name=args.project_name,
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
    try:
        ctx = build_context(options)
    except UsageError as exc:
        return _usage(str(exc))
    findings = run_checks(ctx, checks)
    fix = None
    if args.fix:
        from doctor.fixflow import run_fix

        outcome = run_fix(ctx, checks, findings, yes=args.yes, dry_run=args.dry_run)
        ctx, findings, fix = outcome.ctx, outcome.findings, outcome.summary
    if args.bundle:
        from doctor.bundle import BundleError, write_bundle

        try:
            write_bundle(ctx, findings, Path(args.bundle), fix=fix)
        except BundleError as exc:
            return _usage(str(exc))
    report = render(args, ctx.target(findings), findings, fix)
    if args.output:
        try:
            write_atomically(Path(args.output), report)
        except OSError as exc:
            return _usage(f"cannot write {args.output}: {exc.strerror or exc}")
    elif report:
        sys.stdout.write(report)
    return exit_code(findings, strict=args.strict)


def render(args: argparse.Namespace, target: Target, findings: list[Finding], fix: FixSummary | None) -> str:
    if args.format == "json":
        from doctor.render.json_report import render_json

        return render_json(target, findings, fix)
    if args.format == "markdown":
        from doctor.render.markdown import render_markdown

        return render_markdown(target, findings, fix)
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


def write_atomically(path: Path, text: str) -> None:
    directory = path.resolve().parent
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _usage(message: str) -> int:
    print(f"cultivate doctor: {message}", file=sys.stderr)
    return EXIT_USAGE
