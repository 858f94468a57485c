"""Writing a ``--fix`` plan: all files or none, each with a backup that is never overwritten,
keeping the owner, group, mode, byte-order mark and line endings of the file it replaces, and
re-read with the strict loader before the run may call it a success.

Order: refuse early (a file changed on disk, a file or folder that is not writable, an owner
that could not be kept, a result that would not load), then for each file write a new backup
and replace the file. If anything fails after the first file is written, every file already
written is restored from its backup, and the message says so."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from doctor.atomic import Keep, WriteRefused, can_keep_owner, reserve, write_file
from doctor.compose.yamlload import MAX_BYTES, YamlProblem, load_yaml

if TYPE_CHECKING:
    from doctor.fix import FixPlan

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Applied:
    file: str  # as the project names it
    path: Path  # the file written (a symbolic link's target: the link itself stays)
    backup: Path


class FixConflict(Exception):
    """A file changed on disk after the doctor read it; nothing was written."""


class FixRefused(Exception):
    """A file cannot be rewritten safely; nothing was written."""


class FixFailed(Exception):
    """A write failed part-way; the message says what was restored."""


@dataclass(frozen=True)
class _Target:
    file: str
    path: Path
    original: bytes
    status: os.stat_result
    new: bytes


def apply(plan: FixPlan, now: datetime | None = None) -> list[Applied]:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    targets = [_target(plan, file, text) for file, text in plan.changed().items()]
    for target in targets:
        _preflight(target)
        problem = strict_problem(target.new.decode("utf-8-sig"))
        if problem is not None:
            raise FixRefused(f"the fixed {target.file} would not load ({problem}); nothing was written")
    applied: list[Applied] = []
    for target in targets:
        try:
            backup = _backup(target, stamp)
        except (OSError, WriteRefused) as exc:
            raise FixFailed(_failure(f"cannot back up {target.file} ({_reason(exc)})", applied)) from None
        try:
            write_file(target.path, target.new, keep=Keep.of(target.status), what=target.file)
        except WriteRefused as exc:
            backup.unlink(missing_ok=True)  # the file was not touched; its backup is a copy of it
            raise FixFailed(_failure(str(exc), applied)) from None
        applied.append(Applied(target.file, target.path, backup))
    for target in targets:
        problem = _reread(target.path)
        if problem is not None:
            raise FixFailed(_failure(f"{target.file} did not load after writing ({problem})", applied))
    return applied


def strict_problem(text: str) -> str | None:
    """Why ``text`` would not load as a Compose file's YAML, or None."""
    try:
        load_yaml(text)
    except YamlProblem as exc:
        return exc.message if exc.line is None else f"line {exc.line}: {exc.message}"
    return _duplicate_top_level_key(text)


def _duplicate_top_level_key(text: str) -> str | None:
    # Compose v2 refuses a repeated key; PyYAML keeps the last one silently. Only until the
    # loader itself refuses duplicate keys (then load_yaml above reports it and this never
    # finds one): it covers the duplicate --fix once wrote, a second top-level volumes:.
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return str(exc)
    if not isinstance(root, yaml.MappingNode):
        return None
    seen: dict[object, int] = {}
    for key, _ in root.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        line = key.start_mark.line + 1
        if key.value in seen:
            return f'line {line}: mapping key "{key.value}" already defined at line {seen[key.value]}'
        seen[key.value] = line
    return None


def _target(plan: FixPlan, file: str, text: str) -> _Target:
    given = Path(file)
    path = given if given.is_absolute() else Path(plan.project.directory) / given
    # A Compose file that is a symbolic link is edited where it points, so the link stays a link.
    path = Path(os.path.realpath(path))
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise FixRefused(f"{file} is no longer a regular file; nothing was written")
        if status.st_size > MAX_BYTES:
            raise FixConflict(f"{file} changed on disk while the doctor ran; nothing was written")
        original = path.read_bytes()
    except OSError as exc:
        raise FixRefused(f"cannot read {file} again ({exc.strerror or exc}); nothing was written") from None
    try:
        current = original.decode("utf-8-sig")
    except UnicodeDecodeError:
        current = None
    if current != plan.project.texts[file]:
        raise FixConflict(f"{file} changed on disk while the doctor ran; nothing was written")
    return _Target(file, path, original, status, _encode(text, original))


def _encode(text: str, original: bytes) -> bytes:
    """The new text in the original's clothes: its byte-order mark, and CRLF for a CRLF file."""
    crlf = b"\r\n" in original and original.count(b"\n") == original.count(b"\r\n")
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return (BOM if original.startswith(BOM) else b"") + text.encode("utf-8")


def _preflight(target: _Target) -> None:
    if not os.access(target.path, os.W_OK):
        raise FixRefused(f"cannot write {target.file}: the file is not writable for this user; nothing was written")
    folder = target.path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FixRefused(
            f"cannot write {target.file}: its folder {folder} is not writable for this user "
            "(the backup and the new file go there); nothing was written"
        )
    if not can_keep_owner(target.status):
        owner = f"{target.status.st_uid}:{target.status.st_gid}"
        raise FixRefused(
            f"cannot keep the owner {owner} of {target.file}: run the fix as its owner or as root; nothing was written"
        )


def _backup(target: _Target, stamp: str) -> Path:
    """A new file beside the original, never an existing one: two fixes in the same second
    get ``.bak`` and ``.1.bak``, so the true original is never lost."""
    base = f"{target.path.name}.{stamp}"
    for attempt in range(1000):
        candidate = target.path.with_name(f"{base}.bak" if attempt == 0 else f"{base}.{attempt}.bak")
        try:
            reserve(candidate, target.original, Keep.of(target.status))
        except FileExistsError:
            continue
        return candidate
    raise WriteRefused(f"a thousand backups of {target.file} from the same second already exist")


def _reread(path: Path) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return str(exc)
    return strict_problem(text)


def _failure(why: str, applied: list[Applied]) -> str:
    """Restore every file already written from its backup, and say what happened."""
    restored, lost = [], []
    for done in reversed(applied):
        try:
            original = done.backup.read_bytes()
            status = os.stat(done.backup)
            write_file(done.path, original, keep=Keep.of(status), what=done.file)
        except (OSError, WriteRefused):
            lost.append(f"{done.file} could not be restored: its original is in {done.backup}")
        else:
            restored.append(f"{done.file} was restored from its backup {done.backup}")
    outcome = "; ".join([*restored, *lost]) if applied else "no file was changed"
    return f"Not applied: {why}; {outcome}."


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
