"""``cultivate``: parse the arguments and dispatch. A doctor run is doctor/app.py's (options in, one
Report out); this module prints that Report through doctor/render/ and turns it into the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from doctor.arguments import build_parser, doctor_parser
from doctor.atomic import WriteRefused
from doctor.exitcodes import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

if TYPE_CHECKING:
    from doctor.app import Options as AppOptions
    from doctor.report import Report


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
    from doctor import app

    if args.schema:
        from doctor.schema import report_schema_text

        sys.stdout.write(report_schema_text())
        return EXIT_OK
    if args.list:
        return list_checks(args.format)
    if args.from_bundle:
        problem = _from_bundle_problem(args)
        if problem:
            return _usage(problem)
        try:
            report = app.reread(Path(args.from_bundle), tuple(args.checks))
        except app.UsageError as exc:
            return _usage(str(exc))
        print(f"cultivate doctor: {report.notice}", file=sys.stderr)
        return _finish(args, report)
    problem = _flag_problem(args)
    if problem:
        return _usage(problem)
    with Progress() as progress:
        try:
            report = app.run(app_options(args), progress)
        except app.UsageError as exc:
            return _usage(str(exc))
    if report.bundle is not None:
        print(f"cultivate doctor: wrote the bundle {args.bundle} ({_size(report.bundle.size)})", file=sys.stderr)
    return _finish(args, report)


def list_checks(format: str) -> int:
    from checks import CHECKS

    if format == "json":
        import json

        listed = [{"id": check.ID, "summary": check.SUMMARY} for check in CHECKS]
        sys.stdout.write(json.dumps({"checks": listed}, indent=2) + "\n")
    else:
        for check in CHECKS:
            sys.stdout.write(f"{check.ID:22} {check.SUMMARY}\n")
    return EXIT_OK


def app_options(args: argparse.Namespace) -> AppOptions:
    from doctor.app import Options
    from doctor.context import Options as ContextOptions

    context = ContextOptions(
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
    return Options(
        context=context,
        checks=tuple(args.checks),
        fix=args.fix,
        yes=args.yes,
        dry_run=args.dry_run,
        bundle=Path(args.bundle) if args.bundle else None,
        replace_bundle=args.force,
        output=Path(args.output) if args.output else None,
        argv=tuple(args.argv),
    )


def _flag_problem(args: argparse.Namespace) -> str | None:
    """Flags that do not go together, or a value the flag's own type could not judge alone."""
    if (args.yes or args.dry_run) and not args.fix:
        return "--yes and --dry-run go with --fix"
    if args.bundle and not args.bundle.endswith((".tar.gz", ".tgz")):
        return "--bundle needs a file name ending in .tar.gz"
    if args.force and not args.bundle:
        return "--force goes with --bundle"
    return _docker_host_problem(args.docker_host)


def _from_bundle_problem(args: argparse.Namespace) -> str | None:
    if args.fix or args.bundle:
        return "--from-bundle reads a bundle only; it cannot go with --fix or --bundle"
    if args.output and os.path.abspath(args.output) == os.path.abspath(args.from_bundle):
        return "-o names the bundle being read; the report would replace it"
    return None


def _finish(args: argparse.Namespace, report: Report) -> int:
    """Print or write the report; the exit code follows from it."""
    from doctor.render import render
    from doctor.report import exit_code

    if args.output:
        from doctor.outputs import write_report

        try:
            write_report(Path(args.output), render(report, args.format, verbose=args.verbose))
        except WriteRefused as exc:
            return _usage(str(exc))
    else:
        stream = sys.stdout if args.format == "text" else None
        sys.stdout.write(render(report, args.format, stream=stream, color=args.color, verbose=args.verbose))
    if report.fix is not None and report.fix.failed:
        return _usage(report.fix.message)
    return exit_code(report, strict=args.strict)


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


def _usage(message: str) -> int:
    print(f"cultivate doctor: {message}", file=sys.stderr)
    return EXIT_USAGE
