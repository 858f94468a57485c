from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

from doctor.context import Context, Options
from doctor.models import Finding, Status, TargetOS
from doctor.redact import Redactor
from doctor.runner import run_checks


def make_check(check_id: str, body: object) -> SimpleNamespace:
    return SimpleNamespace(ID=check_id, SUMMARY=check_id, run=body)


def context() -> Context:
    return Context(Options(), TargetOS.LINUX, "test", None, {}, Redactor())


def test_a_crashing_check_becomes_an_error_and_the_rest_run() -> None:
    def crash(ctx: Context) -> Iterator[Finding]:
        yield Finding("first", Status.OK, "before the crash")
        raise ZeroDivisionError("boom")

    def fine(ctx: Context) -> Iterator[Finding]:
        yield Finding("fine", Status.OK, "ran")

    findings = run_checks(context(), [make_check("crashy", crash), make_check("later", fine)])
    assert [(f.id, f.status, f.check) for f in findings] == [
        ("check-crashed", Status.ERROR, "crashy"),
        ("fine", Status.OK, "later"),
    ]
    assert "ZeroDivisionError: boom" in findings[0].title
    assert findings[0].evidence[0].source.startswith("test_runner.py:")


def test_findings_are_stamped_and_redacted() -> None:
    def leaky(ctx: Context) -> Iterator[Finding]:
        yield Finding("x", Status.WARN, "postgresql://u:sekrit99@h/db")

    ctx = context()
    finding = run_checks(ctx, [make_check("leaky", leaky)])[0]
    assert finding.check == "leaky" and finding.duration_ms is not None
    assert "sekrit99" not in finding.title


def test_checks_not_started_by_the_deadline_are_skipped() -> None:
    ticks = iter([0.0, 1.0, 2.5, 9.0])  # the run starts at 0; the third check would start at 9 s

    def fine(ctx: Context) -> Iterator[Finding]:
        yield Finding("fine", Status.OK, "ran")

    ctx = Context(Options(deadline=5.0), TargetOS.LINUX, "test", None, {}, Redactor())
    checks = [make_check(name, fine) for name in ("a", "b", "c")]
    findings = run_checks(ctx, checks, clock=lambda: next(ticks))
    assert [(f.id, f.status) for f in findings] == [("fine", Status.OK), ("fine", Status.OK), ("c", Status.SKIP)]
    assert "--deadline" in findings[-1].title
