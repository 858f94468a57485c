"""``cultivate diff A B``: what changed between two runs, each a bundle (.tar.gz) or a JSON
report: findings that appeared, disappeared or changed status, and (from bundles) changed
mounts. Exit 0 when nothing changed, 1 when something did, 2 when an input cannot be read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from doctor import safeio
from doctor.models import SEVERITY_ORDER
from doctor.readback import MAX_MEMBER_BYTES, BundleUnreadable, read_members


@dataclass(frozen=True)
class Run:
    name: str
    report: dict[str, Any]
    mounts: dict[str, list[str]] | None  # service -> "type source:target", from a bundle's model


def load(path: str) -> Run:
    if path.endswith((".tar.gz", ".tgz")):
        members = read_members(path)
        model = json.loads(members["effective-model.json"]) if "effective-model.json" in members else None
        return Run(path, _report(path, members["report.json"]), _mounts(model) if model else None)
    problem = safeio.problem(path) or safeio.too_large(path, MAX_MEMBER_BYTES)
    if problem:
        raise BundleUnreadable(f"cannot read {path}: {problem.removeprefix('cannot be read: ')}")
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read(MAX_MEMBER_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleUnreadable(f"cannot read {path}: {exc}") from None
    return Run(path, _report(path, text), None)


def _report(path: str, text: str) -> dict[str, Any]:
    try:
        report = json.loads(text)
    except ValueError:
        raise BundleUnreadable(f"{path} is neither a bundle nor a JSON report of cultivate doctor") from None
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list):
        raise BundleUnreadable(f"{path} is not a JSON report of cultivate doctor (no findings)")
    return report


def _mounts(model: dict[str, Any]) -> dict[str, list[str]]:
    services = model.get("services") or {}
    return {
        name: sorted(f"{v.get('type')} {v.get('source') or ''}:{v.get('target')}" for v in (s.get("volumes") or []))
        for name, s in services.items()
        if isinstance(s, dict)
    }


def _statuses(report: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    """(check, id) -> (worst status, a title), for findings of that id."""
    rank = {s.value: i for i, s in enumerate(SEVERITY_ORDER)}
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for finding in report["findings"]:
        key = (str(finding.get("check", "")), str(finding.get("id", "")))
        status = str(finding.get("status", ""))
        if key not in out or rank.get(status, 99) < rank.get(out[key][0], 99):
            out[key] = (status, str(finding.get("title", "")))
    return out


def compare(before: Run, after: Run) -> list[str]:
    """The lines of the comparison; empty when nothing changed."""
    lines: list[str] = []
    old, new = _statuses(before.report), _statuses(after.report)
    for key in sorted(new.keys() - old.keys()):
        lines.append(f"+ appeared     {key[1]} ({new[key][0]}): {new[key][1]}")
    for key in sorted(old.keys() - new.keys()):
        lines.append(f"- disappeared  {key[1]} ({old[key][0]}): {old[key][1]}")
    for key in sorted(old.keys() & new.keys()):
        if old[key][0] != new[key][0]:
            lines.append(f"~ changed      {key[1]}: {old[key][0]} → {new[key][0]}: {new[key][1]}")
    if before.mounts is not None and after.mounts is not None:
        for service in sorted(before.mounts.keys() | after.mounts.keys()):
            gone = sorted(set(before.mounts.get(service, [])) - set(after.mounts.get(service, [])))
            came = sorted(set(after.mounts.get(service, [])) - set(before.mounts.get(service, [])))
            lines.extend(f"- mount        {service}: {m}" for m in gone)
            lines.extend(f"+ mount        {service}: {m}" for m in came)
    return lines


def render(before: Run, after: Run) -> tuple[str, bool]:
    changes = compare(before, after)
    head = [f"cultivate diff {before.name} {after.name}"]
    for field in ("status", "fingerprint"):
        a, b = before.report.get(field), after.report.get(field)
        head.append(f"{field}: {a}" if a == b else f"{field}: {a} → {b}")
    if before.mounts is None or after.mounts is None:
        head.append("mounts: not compared (a JSON report holds no mounts; compare two bundles)")
    body = changes or ["no finding appeared, disappeared or changed status"]
    return "\n".join([*head, "", *body]) + "\n", bool(changes) or before.report.get("fingerprint") != after.report.get(
        "fingerprint"
    )
