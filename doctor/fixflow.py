"""The ``--fix`` conversation: show the diff, ask (or take --yes / --dry-run), back up, apply,
and re-run the checks on the result, whose findings decide the exit code. A fix that could not
be written (refused before writing, or failed and rolled back) is ``FixSummary.failed``: the
run then ends with exit 2 and the summary's one-sentence message."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from doctor.context import Context, build_context
from doctor.fix import DATA_CHECK, SOCKET_CHECKS, plan_fixes
from doctor.fixwrite import FixConflict, FixFailed, FixRefused, apply
from doctor.models import Finding
from doctor.patch import combined_patch
from doctor.report import FixReason, FixSummary
from doctor.runner import run_checks

if TYPE_CHECKING:
    from doctor.runner import Check


@dataclass
class FixRun:
    ctx: Context
    findings: list[Finding]
    summary: FixSummary


def run_fix(
    ctx: Context,
    checks: Sequence[Check],
    findings: list[Finding],
    *,
    yes: bool,
    dry_run: bool,
    ask: Callable[[str], bool] | None = None,
) -> FixRun:
    redact = ctx.redactor.text
    selected = {check.ID for check in checks}
    # --fix honours the selected checks: `doctor socket-mounts --fix` leaves the data volume alone.
    plan = plan_fixes(ctx, socket=bool(selected & SOCKET_CHECKS), data=DATA_CHECK in selected)
    if plan is None or not plan.changed():
        by_hand = tuple(plan.by_hand) if plan else ()
        message = "Nothing to fix in the Compose files." + (" Change by hand: " + "; ".join(by_hand) if by_hand else "")
        return FixRun(ctx, findings, FixSummary(False, FixReason.NOTHING_TO_FIX, by_hand=by_hand, message=message))

    patch = combined_patch(plan.project.texts, plan.editor.result(), redact)

    def summary(applied: bool, reason: FixReason, message: str, backups: tuple[str, ...] = ()) -> FixSummary:
        return FixSummary(
            applied,
            reason,
            diff=patch.text,
            files=tuple(sorted(plan.changed())),
            backups=backups,
            notes=tuple(redact(n) for n in plan.notes),
            by_hand=tuple(redact(b) for b in plan.by_hand),
            data_commands=tuple(plan.data_commands),
            message=message,
        )

    if dry_run:
        return FixRun(ctx, findings, summary(False, FixReason.DRY_RUN, "Dry run: nothing was changed."))
    if not yes:
        asker = ask if ask is not None else (_ask_on_terminal if sys.stdin.isatty() else None)
        if asker is None:
            message = "Not applied: standard input is not a terminal; run again with --yes to apply."
            return FixRun(ctx, findings, summary(False, FixReason.NOT_A_TERMINAL, message))
        # What would be lost comes before the question, not after the "y".
        for note in plan.notes:
            print(f"Note: {redact(note)}", file=sys.stderr)
        if plan.data_commands:
            print("Warning: this fix moves no data. Before starting the database on the new volume:", file=sys.stderr)
            for command in plan.data_commands:
                print(f"  $ {command}", file=sys.stderr)
        print(patch.text, file=sys.stderr, end="")
        if not asker(f"Apply these changes to {', '.join(sorted(plan.changed()))}? [y/N] "):
            return FixRun(ctx, findings, summary(False, FixReason.DECLINED, "Not applied."))
    try:
        applied = apply(plan)
    except FixConflict as exc:
        return FixRun(ctx, findings, summary(False, FixReason.CONFLICT, f"Not applied: {exc}."))
    except FixRefused as exc:
        return FixRun(ctx, findings, summary(False, FixReason.REFUSED, f"Not applied: {exc}."))
    except FixFailed as exc:
        return FixRun(ctx, findings, summary(False, FixReason.FAILED, str(exc)))
    backups = tuple(str(a.backup) for a in applied)
    changed = "; ".join(f"{a.file} (backup: {a.backup})" for a in applied)
    fresh = build_context(ctx.options, ctx.environ)
    after = run_checks(fresh, checks)
    return FixRun(fresh, after, summary(True, FixReason.APPLIED, f"Applied to {changed}.", backups))


def _ask_on_terminal(question: str) -> bool:
    print(question, file=sys.stderr, end="", flush=True)
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False
