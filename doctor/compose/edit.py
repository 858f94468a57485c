"""Line-level edits of Compose files, for remedies shown as unified diffs.

Edits keep every other byte of the file (comments, quoting, key order). They work on block-style
YAML, which is what Compose files are written in; an entry written in flow style (``[a, b]``) is
left alone and the remedy says what to change instead (``apply`` returns False).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from doctor.compose.model import ComposeProject, Mount, Service


@dataclass
class ComposeEditor:
    project: ComposeProject
    lines: dict[str, list[str]] = field(default_factory=dict)
    inserts: dict[str, list[tuple[int, list[str]]]] = field(default_factory=dict)
    removals: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for file, text in self.project.texts.items():
            self.lines[file] = text.splitlines(keepends=True)

    def set_mount_source(self, mount: Mount, source: str) -> bool:
        """Point a mount at a named volume, in short or long syntax."""
        lines = self.lines.get(mount.origin.file)
        if lines is None or mount.origin.line is None:
            return False
        index = mount.origin.line - 1
        if not mount.written.startswith("type:") and ", " not in mount.written:
            cut = mount.written.rfind(":" + mount.target)
            old = mount.written[:cut] if cut > 0 else ""
            if not old or old not in lines[index]:
                return False
            lines[index] = lines[index].replace(old, source, 1)
            return True
        return self._set_long_source(lines, index, source)

    def _set_long_source(self, lines: list[str], index: int, source: str) -> bool:
        dash = _indent(lines[index])
        changed = False
        for i in range(index, len(lines)):
            if i > index and lines[i].strip() and _indent(lines[i]) <= dash:
                break
            if re.search(r"\btype:\s*['\"]?bind['\"]?\s*$", lines[i]):
                lines[i] = re.sub(r"bind(['\"]?\s*)$", r"volume\1", lines[i])
            match = re.match(r"(\s*-?\s*source:\s*)(.+?)(\s*)$", lines[i])
            if match:
                lines[i] = f"{match.group(1)}{source}{match.group(3) or ''}\n"
                changed = True
        return changed

    def add_mount(self, service: Service, entry: str) -> bool:
        mounts = [m for m in service.mounts if m.origin.line is not None]
        if mounts:
            last = max(mounts, key=lambda m: (m.origin.file == service.volumes_file, m.origin.line or 0))
            lines = self.lines.get(last.origin.file)
            if lines is None or last.origin.line is None:
                return False
            start = last.origin.line - 1
            if not lines[start].lstrip().startswith("-"):
                return False
            dash = _indent(lines[start])
            end = start + 1
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > dash):
                end += 1
            self._insert(last.origin.file, end, [" " * dash + f"- {entry}\n"])
            return True
        lines = self.lines.get(service.origin.file)
        if lines is None or service.origin.line is None:
            return False
        first_key = service.origin.line - 1
        indent = " " * _indent(lines[first_key])
        self._insert(service.origin.file, first_key, [f"{indent}volumes:\n", f"{indent}  - {entry}\n"])
        return True

    def declare_volume(self, file: str, name: str) -> None:
        lines = self.lines[file]
        line = self.project.top_volumes_line.get(file)
        if line is not None:
            key_index = next((i for i in range(line - 1, -1, -1) if re.match(r"volumes:\s*(#.*)?$", lines[i])), None)
            if key_index is not None:
                child = next((_indent(lines[i]) for i in range(key_index + 1, len(lines)) if lines[i].strip()), 2)
                pad = " " * (child or 2)
                self._insert(file, key_index + 1, [f"{pad}{name}:\n", f"{pad}{pad}driver: local\n"])
                return
        prefix = [] if not lines or lines[-1].endswith("\n") else ["\n"]
        self._insert(file, len(lines), [*prefix, "\nvolumes:\n", f"  {name}:\n", "    driver: local\n"])

    def remove_block(self, file: str, first_line: int, key: str) -> bool:
        """Remove ``key:`` and its children in the block that starts at ``first_line``."""
        lines = self.lines.get(file)
        if lines is None:
            return False
        start = first_line - 1
        block = _indent(lines[start])
        for i in range(start, len(lines)):
            if i > start and lines[i].strip() and _indent(lines[i]) < block:
                break
            if re.match(rf"\s*{re.escape(key)}:", lines[i]) and _indent(lines[i]) == block:
                end = i + 1
                while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > block):
                    end += 1
                self.removals.setdefault(file, set()).update(range(i, end))
                return True
        return False

    def replace_in_line(self, file: str, line: int, old: str, new: str) -> bool:
        lines = self.lines.get(file)
        if lines is None or old not in lines[line - 1]:
            return False
        lines[line - 1] = lines[line - 1].replace(old, new, 1)
        return True

    def _insert(self, file: str, index: int, new: list[str]) -> None:
        self.inserts.setdefault(file, []).append((index, new))

    def result(self) -> dict[str, str]:
        out = {}
        for file, lines in self.lines.items():
            edited = [line for i, line in enumerate(lines) if i not in self.removals.get(file, set())]
            offsets = sorted(self.inserts.get(file, []), key=lambda item: item[0], reverse=True)
            for index, new in offsets:
                shift = sum(1 for i in self.removals.get(file, set()) if i < index)
                edited[index - shift : index - shift] = new
            out[file] = "".join(edited)
        return out

    def diff(self) -> str:
        chunks: list[str] = []
        for file, new in self.result().items():
            old = self.project.texts[file]
            if old != new:
                chunks.extend(
                    difflib.unified_diff(
                        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{file}", f"b/{file}"
                    )
                )
        return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
