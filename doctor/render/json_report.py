"""The machine-readable report (schema 1, documented in the README)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from doctor import __version__
from doctor.models import Finding, Remedy, Target, facts_dict, overall_status, summary_counts
from doctor.rootcause import find_root_cause

if TYPE_CHECKING:
    from doctor.fixflow import FixSummary

SCHEMA = 2  # 2: a remedy's `commands` split into `steps` (change, in order) and `verify` (read-only)


def finding_dict(finding: Finding) -> dict[str, Any]:
    remedy = finding.remedy
    return {
        "id": finding.id,
        "check": finding.check,
        "status": finding.status.value,
        "title": finding.title,
        "detail": finding.detail,
        "evidence": [{"source": e.source, "text": e.text} for e in finding.evidence],
        "remedy": None if remedy is None else remedy_dict(remedy),
        "duration_ms": finding.duration_ms,
        "facts": facts_dict(finding.facts),
    }


def remedy_dict(remedy: Remedy) -> dict[str, Any]:
    return {
        "summary": remedy.summary,
        "diff": remedy.diff,
        "steps": [
            {"command": s.command, "stops_service": s.stops_service, "moves_data": s.moves_data} for s in remedy.steps
        ],
        "verify": list(remedy.verify),
    }


def fix_dict(fix: FixSummary | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "applied": fix.applied,
        "reason": fix.reason,
        "message": fix.message,
        "diff": fix.diff,
        "files": list(fix.files),
        "backups": list(fix.backups),
        "notes": list(fix.notes),
        "by_hand": list(fix.by_hand),
        "data_commands": list(fix.data_commands),
    }


def report_dict(
    target: Target,
    findings: list[Finding],
    generated_at: datetime | None = None,
    fix: FixSummary | None = None,
    command_line: str | None = None,
) -> dict[str, Any]:
    generated = (generated_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    return {
        "schema": SCHEMA,
        "tool": {"name": "cultivate doctor", "version": __version__},
        "generated_at": generated,
        "command_line": command_line,
        "target": {
            "os": target.os,
            "os_source": target.os_reason,
            "runtime": target.runtime,
            "compose_tool": target.compose_tool,
            "project": target.project,
            "compose_files": list(target.compose_files),
            "project_directory": target.project_directory,
            "volumes": [{"key": key, "engine_name": name} for key, name in target.volumes],
            "stack": {"name": target.stack, "nodes": target.nodes} if target.stack else None,
        },
        "status": overall_status(findings).value,
        "fingerprint": target.fingerprint,
        "root_cause": _root_cause(findings),
        "summary": summary_counts(findings),
        "findings": [finding_dict(f) for f in findings],
        "fix": fix_dict(fix),
    }


def _root_cause(findings: list[Finding]) -> dict[str, Any] | None:
    cause = find_root_cause(findings)
    if cause is None:
        return None
    return {
        "statement": cause.statement,
        "findings": list(cause.findings),
        "next_step": cause.next_step,
        "conflict": cause.conflict,
    }


def render_json(
    target: Target, findings: list[Finding], fix: FixSummary | None = None, *, command_line: str | None = None
) -> str:
    report = report_dict(target, findings, fix=fix, command_line=command_line)
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
