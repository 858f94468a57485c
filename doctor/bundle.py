"""``--bundle FILE.tar.gz``: everything support needs in one archive, redacted throughout with
consistent tokens, with a manifest of sha256 hashes and a list of what kind of value was
redacted where (never the value)."""

from __future__ import annotations

import hashlib
import io
import json
import platform
import tarfile
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO

from doctor import __version__, catalog, redact_compose
from doctor.atomic import Keep, WriteRefused, check_target, write_file
from doctor.compose.model import ComposeProject
from doctor.context import Context
from doctor.engine.swarm import stack_document
from doctor.logs import LogUnreadable, iter_lines, open_log
from doctor.models import Finding
from doctor.render.json_report import report_dict
from doctor.render.markdown import render_markdown
from doctor.report import Report

TAIL_LINES = 300
LOG_IDS = catalog.log_failures()


class BundleError(WriteRefused):
    """The bundle could not be made; one sentence. The CLI reports every WriteRefused alike."""


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


def _log_excerpts(ctx: Context, findings: tuple[Finding, ...]) -> dict[str, str]:
    """The lines the log findings rest on, plus the last lines of each log they came from."""
    excerpts: dict[str, str] = {}
    sources = {f.facts.log for f in findings if f.id in LOG_IDS and f.facts.log}
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


def _run(ctx: Context, command_line: str | None) -> dict[str, Any]:
    """How the run was made, so a reader can tell what the bundle covers (and --from-bundle how)."""
    options = {key: value for key, value in vars(ctx.options).items() if key != "tokens"}
    if options["project_directory"] is not None:  # None: the folder of the first -f file, as Compose does
        options["project_directory"] = str(options["project_directory"])
    return {"command_line": command_line, "options": json.loads(json.dumps(options, default=str))}


def write_bundle(ctx: Context, report: Report, path: Path, *, replace: bool = False) -> None:
    """The report as rendered for the run, with the files and evidence it rests on. ``ctx`` is
    the context the report's findings came from (after ``--fix``, the re-read project)."""
    redactor = ctx.redactor
    target, findings, command_line = report.target, report.findings, report.command_line
    # JSON is redacted as data, value by value, so what is written stays valid JSON.
    documents: dict[str, Any] = {
        "report.json": report_dict(report),
        "run.json": _run(ctx, command_line),
        "version.json": _version(),
        "engine.json": json.loads(json.dumps(_engine_info(ctx), default=str)),
    }
    if ctx.stack is not None:  # a Swarm stack: its nodes and where each task runs
        documents["swarm.json"] = stack_document(ctx.stack)
    texts: dict[str, str] = {"report.md": render_markdown(report)}
    texts.update(_log_excerpts(ctx, findings))
    files: dict[str, str] = {}
    if ctx.project is not None:
        # The user's configuration is masked by structure first: every value at a secret position.
        services = frozenset(ctx.project.services)
        for name, text in ctx.project.texts.items():
            where = f"compose/{name.lstrip('/')}"
            files[where] = redact_compose.compose_text(redactor, text, where, services)
        for name, text in ctx.project.unloaded.items():
            # Not YAML, so there is no structure to mask by: the free-text patterns and every
            # known secret value still apply. Support needs the broken file most of all.
            where = f"compose/{name.lstrip('/')}"
            files[where] = redactor.text(text, where)
        model = redact_compose.model(redactor, effective_model(ctx.project), "effective-model.json")
        files["effective-model.json"] = json.dumps(model, indent=2, ensure_ascii=False) + "\n"
    files.update({name: redactor.text(text, name) for name, text in texts.items()})
    for name, document in documents.items():
        # The doctor's own documents: keys are its schema ("key" names a volume), values are text.
        files[name] = json.dumps(redactor.tree(document, name, by_key=False), indent=2, ensure_ascii=False) + "\n"
    files["redactions.json"] = json.dumps(redactor.records(), indent=2) + "\n"
    manifest = [
        {"path": name, "sha256": hashlib.sha256(text.encode()).hexdigest(), "bytes": len(text.encode())}
        for name, text in sorted(files.items())
    ]
    files["manifest.json"] = json.dumps({"fingerprint": target.fingerprint, "files": manifest}, indent=2) + "\n"
    _write_tar(path, files, replace=replace)


def _write_tar(path: Path, files: dict[str, str], *, replace: bool = False) -> None:
    """Through the one atomic writer: a new or (with --force) existing regular file, never a
    device, link or directory; readable by its owner only, since a bundle is for the ticket."""
    status = check_target(path, replace=replace, what="the bundle")
    root = path.name.removesuffix(".tar.gz").removesuffix(".tgz")
    now = int(time.time())

    def write(stream: BinaryIO) -> None:
        with tarfile.open(fileobj=stream, mode="w:gz") as archive:
            for name, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(f"{root}/{name}")
                info.size, info.mtime, info.mode = len(data), now, 0o644
                archive.addfile(info, io.BytesIO(data))

    keep = None if status is None else Keep(status.st_uid, status.st_gid, 0o600)
    write_file(path, write, keep=keep, new_mode=0o600, what="the bundle")
