"""``--from-bundle FILE.tar.gz``: re-read a support bundle. The checks that can run from the
bundle's files (the Compose copies) run again; the others (engine, containers, logs, probes)
take the findings the bundle recorded. A re-run whose problems differ from the recorded ones
(a variable that was set in the shell or .env, which the bundle does not hold) keeps the
recorded findings and says so, so the findings and the fingerprint are those of the original run.

A bundle is untrusted input: the archive and each member are size-bounded, members are read
in memory (never extracted), and only regular files with plain relative names are taken."""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from doctor import catalog, safeio
from doctor.models import NO_FACTS, Evidence, Facts, Finding, Remedy, Status, Target, TargetOS, facts_from_dict

MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_MEMBER_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 128 * 1024 * 1024
MAX_MEMBERS = 2000
# The checks that read only the Compose files: these run again from the bundle's copies.
FILE_CHECKS = (catalog.COMPOSE_FILE, catalog.SOCKET_MOUNTS, catalog.SOCKET_SHARING, catalog.SOCKET_PATH_LENGTH,
               catalog.DATA_VOLUME_STRATEGY, catalog.BACKEND_START_ORDER, catalog.SECRET_VALUES)  # fmt: skip


class BundleUnreadable(Exception):
    """One sentence: why the file is not a bundle the doctor can read (exit 2)."""


def read_members(path: str | os.PathLike[str]) -> dict[str, str]:
    """The bundle's text files by name inside the bundle (without its top folder)."""
    problem = safeio.problem(path) or safeio.too_large(path, MAX_ARCHIVE_BYTES)
    if problem:
        raise BundleUnreadable(f"cannot read the bundle {path}: {problem.removeprefix('cannot be read: ')}")
    members: dict[str, str] = {}
    total = 0
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for count, member in enumerate(archive, 1):
                if count > MAX_MEMBERS:
                    raise BundleUnreadable(f"the bundle {path} has more than {MAX_MEMBERS} members")
                if not member.isfile():
                    continue  # links, devices and folders are never followed or made
                name = _inner_name(member.name)
                if name is None:
                    raise BundleUnreadable(f"the bundle {path} has a member with an unsafe name: {member.name!r}")
                total += member.size
                if member.size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                    raise BundleUnreadable(f"the bundle {path} is larger than a bundle the doctor writes")
                stream = archive.extractfile(member)
                if stream is None:
                    continue
                members[name] = stream.read(MAX_MEMBER_BYTES + 1).decode("utf-8")
    except BundleUnreadable:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BundleUnreadable(f"{path} is not a readable .tar.gz bundle: {exc}") from None
    except UnicodeDecodeError:
        raise BundleUnreadable(f"the bundle {path} holds a file that is not UTF-8 text") from None
    if "report.json" not in members:
        raise BundleUnreadable(f"{path} is not a cultivate doctor bundle: it has no report.json")
    return members


def _inner_name(name: str) -> str | None:
    parts = PurePosixPath(name).parts
    if name.startswith("/") or len(parts) < 2 or any(p in ("..", "") for p in parts):
        return None
    return "/".join(parts[1:])


def finding_from_dict(data: dict[str, Any]) -> Finding:
    remedy = data.get("remedy")
    commands: tuple[str, ...] = ()
    if remedy is not None:
        steps = [s["command"] for s in remedy.get("steps", [])]
        commands = (
            tuple(steps + list(remedy.get("verify", []))) if "verify" in remedy else tuple(remedy.get("commands", []))
        )
    return Finding(
        id=data["id"],
        status=Status(data["status"]),
        title=data["title"],
        detail=data.get("detail", ""),
        evidence=tuple(Evidence(e["source"], e["text"]) for e in data.get("evidence", [])),
        remedy=None if remedy is None else Remedy(remedy["summary"], remedy.get("diff", ""), commands),
        check=data.get("check", ""),
        duration_ms=data.get("duration_ms"),
        facts=facts_from_dict(facts) if isinstance(facts := data.get("facts"), dict) else _legacy_facts(data),
    )


def _legacy_facts(data: dict[str, Any]) -> Facts:
    """A finding from a doctor older than facts (schema 2 without ``facts``): its recorded
    title is the only account of it there is, so the root cause shows that as written."""
    title = data.get("title")
    return Facts(account=title) if isinstance(title, str) and title else NO_FACTS


@dataclass
class Reread:
    target: Target
    findings: list[Finding]
    rerun: list[str]
    recorded: list[str]
    differed: list[str]
    recorded_fingerprint: str | None


@contextmanager
def _project_copy(members: dict[str, str], files: list[str]) -> Iterator[tuple[Path, list[str]]]:
    with tempfile.TemporaryDirectory(prefix="cultivate-bundle-") as folder:
        root = Path(folder)
        names: list[str] = []
        for name in files:
            relative = PurePosixPath(*[p for p in PurePosixPath(name).parts if p not in ("/", "..", ".")])
            text = members.get(f"compose/{name.lstrip('/')}")
            if text is None or not relative.parts:
                continue
            destination = root / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text, encoding="utf-8")
            names.append(str(relative))
        yield root, names


def reread(path: str | os.PathLike[str]) -> Reread:
    from checks import CHECKS
    from doctor.context import Options, UsageError, build_context
    from doctor.runner import run_checks

    members = read_members(path)
    try:
        report = json.loads(members["report.json"])
        model = json.loads(members["effective-model.json"]) if "effective-model.json" in members else None
        recorded = [finding_from_dict(f) for f in report["findings"]]
        target_data = report["target"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleUnreadable(f"the bundle {path} has a report the doctor cannot read: {exc}") from None
    by_check: dict[str, list[Finding]] = {}
    for finding in recorded:
        by_check.setdefault(finding.check, []).append(finding)
    target_os = target_data.get("os") if target_data.get("os") in (TargetOS.LINUX, TargetOS.MACOS) else "auto"
    findings: list[Finding] = []
    rerun: list[str] = []
    used_record: list[str] = []
    differed: list[str] = []
    project = None
    with _project_copy(members, list(model["files"]) if model else []) as (root, names):
        ctx = None
        if names:
            options = Options(
                project_directory=root, files=tuple(str(root / name) for name in names), project_name=model.get("project") if model else None,
                target_os=target_os, offline=True,
            )  # fmt: skip
            try:
                ctx = build_context(options, environ={})
            except UsageError:
                ctx = None
        for check in CHECKS:
            kept = by_check.get(check.ID, [])
            if ctx is None or check.ID not in FILE_CHECKS or check.ID not in by_check:
                findings.extend(kept)
                if kept:
                    used_record.append(check.ID)
                continue
            fresh = run_checks(ctx, [check])
            if _problems(fresh) == _problems(kept):
                findings.extend(fresh)
                rerun.append(check.ID)
            else:
                findings.extend(kept)
                differed.append(check.ID)
        if ctx is not None:
            project = ctx.project
            fingerprint_target = ctx.target(findings)
    fingerprint = fingerprint_target.fingerprint if project is not None else report.get("fingerprint")
    target = Target(
        os=_recorded_os(target_data.get("os")),
        os_reason=f"recorded in the bundle ({target_data.get('os_source', '')})",
        runtime=target_data.get("runtime"),
        project=target_data.get("project"),
        compose_files=tuple(target_data.get("compose_files", [])),
        project_directory=target_data.get("project_directory"),
        volumes=tuple((v["key"], v["engine_name"]) for v in target_data.get("volumes", [])),
        fingerprint=fingerprint,
    )
    return Reread(target, findings, rerun, used_record, differed, report.get("fingerprint"))


def _problems(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.id, f.status.value) for f in findings)


def _recorded_os(value: object) -> TargetOS:
    """The bundle's target OS; a value no doctor writes is read as Linux, the default judgement."""
    return next((known for known in TargetOS if known.value == value), TargetOS.LINUX)
