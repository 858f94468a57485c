"""Where ``-o`` and ``--bundle`` may write: a new file or an existing regular file, never a file
this run reads. A report written over ``compose.yaml``, ``.env`` or the log being analysed
destroys exactly what the user asked about, so every input is compared by inode (a hard link or
another spelling of the same path is the same file)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from doctor.atomic import Keep, WriteRefused, check_target, existing, write_file
from doctor.compose.model import MountType
from doctor.compose.yamlload import YamlProblem, load_yaml
from doctor.context import Context


def check_outputs(output: Path | None, bundle: Path | None, *, replace_bundle: bool) -> None:
    """Refuse, before the run, an -o or --bundle that is no place for a new regular file."""
    if output is not None:
        check_target(output, replace=True, what="the report")
    if bundle is not None:
        check_target(bundle, replace=replace_bundle, what="the bundle")
    if output is not None and bundle is not None:
        first, second = existing(output), existing(bundle)
        same_inode = (
            first is not None and second is not None and (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)
        )
        if same_inode or os.path.abspath(output) == os.path.abspath(bundle):
            raise WriteRefused("-o and --bundle name the same file")


def write_report(path: Path, text: str) -> None:
    """A replaced report keeps the owner, group and mode of the file it replaces."""
    status = check_target(path, replace=True, what="the report")
    write_file(path, text.encode("utf-8"), keep=Keep.of(status) if status is not None else None, what="the report")


def refuse_inputs(path: Path, ctx: Context, what: str) -> None:
    """Raise WriteRefused when ``path`` is one of the files this run reads."""
    status = existing(path)
    if status is None:
        return
    for candidate, role in run_inputs(ctx):
        try:
            other = os.stat(candidate)
        except (OSError, ValueError):
            continue
        if (other.st_dev, other.st_ino) == (status.st_dev, status.st_ino):
            raise WriteRefused(f"will not write {what} to {path}: it is {role} of this run")


def run_inputs(ctx: Context) -> Iterator[tuple[Path, str]]:
    """Every file this run reads, with what it is to the run."""
    options = ctx.options
    project = ctx.project
    # The project's own folder when there is a project (Compose takes it from the first file);
    # the flag, else the current folder, when there is none.
    directory = Path(project.directory) if project is not None else Path(options.project_directory or Path.cwd())
    for log in options.log_files:
        if log != "-":
            yield Path(log), "a --log-file"
    for file in options.files:
        yield _under(directory, file), "a Compose file"
    yield directory / ".env", "the .env file"
    if options.env_file:
        yield _under(Path.cwd(), options.env_file), "the --env-file"
        yield _under(directory, options.env_file), "the --env-file"
    if project is None:
        return
    for file in project.files:
        yield _under(Path(project.directory), file), "a Compose file"
    for file, text in project.texts.items():
        folder = _under(Path(project.directory), file).parent
        for entry in _env_file_entries(text):
            yield _under(Path(project.directory), entry), "an env_file"
            yield _under(folder, entry), "an env_file"
    for service in project.services.values():
        for mount in service.mounts:
            if mount.type == MountType.BIND and mount.source:
                yield Path(mount.source), f"a file {service.name} mounts"


def _under(directory: Path, name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else directory / path


def _env_file_entries(text: str) -> Iterable[str]:
    """``services.*.env_file`` as written (a path, a list of paths, or of ``{path: …}``)."""
    try:
        data: Any = load_yaml(text).data
    except (YamlProblem, RecursionError):
        return []
    services = data.get("services") if isinstance(data, dict) else None
    entries: list[str] = []
    for body in services.values() if isinstance(services, dict) else ():
        value = body.get("env_file") if isinstance(body, dict) else None
        for item in value if isinstance(value, list) else [value]:
            entry = item.get("path") if isinstance(item, dict) else item
            if isinstance(entry, str) and "\0" not in entry:
                entries.append(entry)
    return entries
