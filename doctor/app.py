"""The application layer: one run of the doctor, from a request to one Report value.

It builds the context, runs the selected checks, runs the ``--fix`` conversation, finds the
root cause (once, in ``make_report``) and writes the bundle. It prints nothing of the report
and knows nothing of argv: doctor/cli.py parses and dispatches, doctor/render/ renders the
Report, and the bundle gets the same Report the renderers get.

What it does not own (left where it was, said here so nobody looks for it): the ``--fix``
question is asked on the terminal by doctor/fixflow.py through the ``ask`` callable, and the
one transient progress line is the CLI's, handed in as ``progress``."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from doctor.atomic import WriteRefused
from doctor.context import Options as ContextOptions
from doctor.report import BundleWritten, Report, make_report

if TYPE_CHECKING:
    from doctor.context import Context
    from doctor.runner import Check


class UsageError(Exception):
    """The run cannot go ahead as asked: one sentence for stderr, exit 2."""


@dataclass(frozen=True)
class Options:
    """What the user asked for: the context's options plus what the run does with the result."""

    context: ContextOptions
    checks: tuple[str, ...] = ()  # check ids; none runs them all
    fix: bool = False
    yes: bool = False
    dry_run: bool = False
    bundle: Path | None = None
    replace_bundle: bool = False
    output: Path | None = None  # only to refuse writing the report over an input of the run
    argv: tuple[str, ...] = ()  # as typed, for the report's command line (redacted there)


def selected_checks(names: Sequence[str]) -> list[Check]:
    """The named checks in registry order, or a UsageError with the nearest real name."""
    from checks import CHECKS, select

    try:
        return select(list(names))
    except KeyError as exc:
        raise UsageError(_unknown_check(exc.args[0], [check.ID for check in CHECKS])) from None


def run(
    options: Options,
    progress: Callable[[str], None] | None = None,
    *,
    ask: Callable[[str], bool] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Report:
    """Run the doctor once. Raises UsageError for anything that ends the run in one sentence."""
    from doctor.context import UsageError as ContextUsageError
    from doctor.context import build_context
    from doctor.outputs import check_outputs, refuse_inputs
    from doctor.runner import run_checks

    checks = selected_checks(options.checks)
    problem = _directory_problem(options.context.project_directory)
    if problem:
        raise UsageError(problem)
    try:
        # Before any work (and before --fix writes anything): a refused output ends the run now.
        check_outputs(options.output, options.bundle, replace_bundle=options.replace_bundle)
    except WriteRefused as exc:
        raise UsageError(str(exc)) from None
    say = progress or (lambda _message: None)
    say("reading the Compose files" + ("" if options.context.offline else " and reaching the engine"))
    try:
        ctx = build_context(options.context, environ)
    except ContextUsageError as exc:
        raise UsageError(str(exc)) from None
    contexts = [ctx]
    try:
        try:
            for path, what in ((options.output, "the report"), (options.bundle, "the bundle")):
                if path is not None:
                    refuse_inputs(path, ctx, what)
        except WriteRefused as exc:
            raise UsageError(str(exc)) from None
        findings = run_checks(ctx, checks, progress)
        fix = None
        if options.fix:
            from doctor.fixflow import run_fix

            outcome = run_fix(ctx, checks, findings, yes=options.yes, dry_run=options.dry_run, ask=ask)
            ctx, findings, fix = outcome.ctx, outcome.findings, outcome.summary
            contexts.append(ctx)
        report = make_report(ctx.target(findings), findings, fix, command_line=command_line(ctx, options.argv))
        if options.bundle is not None:
            written = write_bundle(ctx, report, options.bundle, options.replace_bundle)
            report = dataclasses.replace(report, bundle=written)
    finally:
        for made in {id(c): c for c in contexts}.values():
            made.close()
    return report


def write_bundle(ctx: Context, report: Report, path: Path, replace: bool) -> BundleWritten:
    from doctor.bundle import write_bundle as write

    try:
        write(ctx, report, path, replace=replace)
    except WriteRefused as exc:
        raise UsageError(str(exc)) from None
    return BundleWritten(path, path.stat().st_size)


def reread(path: Path, checks: Sequence[str] = ()) -> Report:
    """``--from-bundle``: the bundle's findings, the file checks run again from its copies;
    ``checks`` narrows the findings shown, as on a live run."""
    from doctor.readback import BundleUnreadable
    from doctor.readback import reread as read_again

    selected_checks(checks)  # an unknown name is the same sentence as on a live run
    try:
        again = read_again(path)
    except BundleUnreadable as exc:
        raise UsageError(str(exc)) from None
    findings = [f for f in again.findings if not checks or f.check in checks]
    parts = [f"ran again from the bundle's files: {', '.join(again.rerun) or 'none'}"]
    parts.append(f"recorded evidence: {', '.join(again.recorded) or 'none'}")
    if again.differed:
        parts.append(
            f"recorded, because the re-run differed (a variable not in the bundle?): {', '.join(again.differed)}"
        )
    return make_report(again.target, findings, notice=f"re-read {path}; " + "; ".join(parts))


def command_line(ctx: Context, argv: Sequence[str]) -> str:
    """The command as typed, redacted like everything else (a password in --docker-host…)."""
    import shlex

    return ctx.redactor.text(shlex.join(["cultivate", *argv]), "the command line")


def _directory_problem(directory: Path | None) -> str | None:
    """A project directory that exists but cannot be listed is one sentence, not a traceback."""
    path = directory or Path(os.getcwd())
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
