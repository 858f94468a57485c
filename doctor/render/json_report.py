"""The machine-readable report (schema 1, documented in the README)."""

from __future__ import annotations

import json
from typing import Any

from doctor import __version__
from doctor.models import Finding, Remedy, facts_dict, summary_counts
from doctor.report import FixSummary, Report
from doctor.rootcause import RootCause

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
        "reason": fix.reason.value,
        "message": fix.message,
        "diff": fix.diff,
        "files": list(fix.files),
        "backups": list(fix.backups),
        "notes": list(fix.notes),
        "by_hand": list(fix.by_hand),
        "data_commands": list(fix.data_commands),
    }


def report_dict(report: Report) -> dict[str, Any]:
    target, findings = report.target, list(report.findings)
    return {
        "schema": SCHEMA,
        "tool": {"name": "cultivate doctor", "version": __version__},
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "command_line": report.command_line,
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
        "status": report.status.value,
        "fingerprint": target.fingerprint,
        "root_cause": _root_cause(report.root_cause),
        "summary": summary_counts(findings),
        "findings": [finding_dict(f) for f in findings],
        "fix": fix_dict(report.fix),
    }


def _root_cause(cause: RootCause | None) -> dict[str, Any] | None:
    if cause is None:
        return None
    return {
        "statement": cause.statement,
        "findings": list(cause.findings),
        "next_step": cause.next_step,
        "conflict": cause.conflict,
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
