"""``--bundle FILE.tar.gz``: everything support needs in one archive, redacted throughout with
consistent tokens, with a manifest of sha256 hashes and a list of what kind of value was
redacted where (never the value)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tarfile
import tempfile
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from doctor import __version__
from doctor.compose.model import ComposeProject
from doctor.context import Context
from doctor.engine.swarm import stack_document
from doctor.logs import LogUnreadable, iter_lines, open_log
from doctor.models import Finding
from doctor.render.json_report import report_dict
from doctor.render.markdown import render_markdown

if TYPE_CHECKING:
    from doctor.fixflow import FixSummary

TAIL_LINES = 300
LOG_IDS = ("log-socket-create-failed", "log-data-dir-permissions", "log-backend-cannot-connect")


class BundleError(Exception):
    pass


def effective_model(project: ComposeProject) -> dict[str, Any]:
    """The model after merging and interpolation, as the doctor understood it."""
    return {
        "project": project.name,
        "project_name_source": project.name_source,
        "files": list(project.texts),
        "services": {
            name: {
                "image": s.image,
                "command": list(s.command),
                "environment": {k: v.value for k, v in s.environment.items()},
                "volumes": [
                    {
                        "type": m.type,
                        "source": m.source,
                        "target": m.target,
                        "read_only": m.read_only,
                        "defined_at": str(m.origin),
                    }
                    for m in s.mounts
                ],
                "depends_on": s.depends_on,
                "healthcheck": s.healthcheck,
            }
            for name, s in project.services.items()
        },
        "volumes": {
            key: {
                "engine_name": d.engine_name,
                "external": d.external,
                "driver": d.driver,
                "driver_opts": d.driver_opts,
            }
            for key, d in project.volumes.items()
        },
    }


def _log_excerpts(ctx: Context, findings: list[Finding]) -> dict[str, str]:
    """The lines the log findings rest on, plus the last lines of each log they came from."""
    excerpts: dict[str, str] = {}
    sources = {e.source.rsplit(":", 1)[0] for f in findings if f.id in LOG_IDS for e in f.evidence}
    for path in ctx.options.log_files:
        name = "stdin" if path == "-" else Path(path).name
        if name not in sources or path == "-":
            continue
        try:
            stream = open_log(path)
        except LogUnreadable:
            continue
        with stream:
            total, tail = 0, deque(maxlen=TAIL_LINES)  # type: ignore[var-annotated]
            for line in iter_lines(stream):
                total += 1
                tail.append(line)
        excerpts[f"logs/{name}.txt"] = _excerpt(name, total, list(tail))
    engine = ctx.engine
    if engine is not None and ctx.project is not None:
        for container in engine.project_containers(ctx.project.name):
            if container.name not in sources:
                continue
            stream = engine.log_stream(container, tail=TAIL_LINES, since=ctx.options.since)
            with stream:
                lines = list(iter_lines(stream))
            excerpts[f"logs/{container.name}.txt"] = _excerpt(container.name, None, lines)
    evidence = [f"{e.source}: {e.text}" for f in findings if f.id in LOG_IDS for e in f.evidence]
    if evidence:
        excerpts["logs/evidence.txt"] = (
            "# The lines the log findings rest on (already redacted).\n" + "\n".join(evidence) + "\n"
        )
    return excerpts


def _excerpt(name: str, total: int | None, lines: list[str]) -> str:
    if total is None:
        head = f"# {name}: the last {len(lines)} lines (at most {TAIL_LINES}); earlier lines were not collected.\n"
    elif total > len(lines):
        head = f"# {name}: the last {len(lines)} of {total} lines; the {total - len(lines)} before were cut.\n"
    else:
        head = f"# {name}: all {total} lines.\n"
    return head + "\n".join(lines) + "\n"


def _engine_info(ctx: Context) -> dict[str, Any]:
    if ctx.engine is None:
        error = ctx.engine_error
        return {"reached": False, "endpoint": ctx.endpoint.url if ctx.endpoint else None,
                "cause": error.cause if error else ("offline" if ctx.options.offline else None)}  # fmt: skip
    runtime = ctx.engine.runtime
    keys = ("Version", "ApiVersion", "MinAPIVersion", "Os", "Arch", "KernelVersion", "Platform", "Components")
    info_keys = ("OperatingSystem", "OSType", "Architecture", "NCPU", "MemTotal", "Driver", "ServerVersion", "Name")
    return {
        "reached": True,
        "endpoint": ctx.endpoint.url if ctx.endpoint else None,
        "endpoint_reason": ctx.endpoint.reason if ctx.endpoint else None,
        "runtime": asdict(runtime),
        "version": {k: ctx.engine.version.get(k) for k in keys},
        "info": {k: ctx.engine.info.get(k) for k in info_keys},
    }


def _version() -> dict[str, str]:
    return {
        "tool": "cultivate doctor",
        "version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_bundle(ctx: Context, findings: list[Finding], path: Path, fix: FixSummary | None = None) -> None:
    redactor = ctx.redactor
    target = ctx.target(findings)
    # JSON is redacted as data, value by value, so what is written stays valid JSON.
    documents: dict[str, Any] = {
        "report.json": report_dict(target, findings, fix=fix),
        "version.json": _version(),
        "engine.json": json.loads(json.dumps(_engine_info(ctx), default=str)),
    }
    if ctx.stack is not None:  # a Swarm stack: its nodes and where each task runs
        documents["swarm.json"] = stack_document(ctx.stack)
    texts: dict[str, str] = {"report.md": render_markdown(target, findings, fix)}
    if ctx.project is not None:
        for name, text in ctx.project.texts.items():
            texts[f"compose/{name.lstrip('/')}"] = text
        documents["effective-model.json"] = effective_model(ctx.project)
    texts.update(_log_excerpts(ctx, findings))
    files = {name: redactor.text(text, name) for name, text in texts.items()}
    for name, document in documents.items():
        files[name] = json.dumps(redactor.tree(document, name), indent=2, ensure_ascii=False) + "\n"
    records = [
        {"file": r.where, "kind": r.kind, "token": r.token, "count": r.count} for r in redactor.redactions.values()
    ]
    files["redactions.json"] = json.dumps(records, indent=2) + "\n"
    manifest = [
        {"path": name, "sha256": hashlib.sha256(text.encode()).hexdigest(), "bytes": len(text.encode())}
        for name, text in sorted(files.items())
    ]
    files["manifest.json"] = json.dumps({"fingerprint": target.fingerprint, "files": manifest}, indent=2) + "\n"
    _write_tar(path, files)


def _write_tar(path: Path, files: dict[str, str]) -> None:
    directory = path.resolve().parent
    if not directory.is_dir():
        raise BundleError(f"cannot write the bundle: {directory} does not exist")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    os.close(fd)
    root = path.name.removesuffix(".tar.gz").removesuffix(".tgz")
    try:
        with tarfile.open(temp, "w:gz") as archive:
            for name, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(f"{root}/{name}")
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                archive.addfile(info, io.BytesIO(data))
        os.chmod(temp, 0o600)  # a support bundle is for the ticket, not for every user of the machine
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise BundleError(f"cannot write the bundle {path}: {exc.strerror or exc}") from None
