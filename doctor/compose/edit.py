"""Line-level edits of Compose files, for remedies shown as unified diffs.

Edits keep every other byte of the file (comments, quoting, key order, line endings). They work
on block-style YAML, which is what Compose files are written in; an entry written in flow style
(``[a, b]``) is left alone and the remedy says what to change instead (the edit returns False).
Top-level ``volumes:`` is the exception: it is merged into whatever form it has, because a second
``volumes:`` key is a file Compose v2 refuses.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import yaml

from doctor.compose.deploy import Deploy
from doctor.compose.model import ComposeProject, Mount, Service


@dataclass(frozen=True)
class TopLevel:
    """Where a file's top-level ``volumes:`` can take new entries (0-based lines)."""

    key_indent: int  # column of the top-level keys
    step: int  # the file's indentation step
    child_indent: int = 0  # column of the entries under an existing block ``volumes:``
    block_at: int | None = None  # insert block entries before this line
    null_value: tuple[int, int, int] | None = None  # (line, start, end) of a ``~``/``null`` to drop
    flow_end: tuple[int, int] | None = None  # (line, column) of the closing ``}`` of a flow mapping
    no_comma: bool = False  # the flow mapping needs no comma before a new entry (no entries, or a trailing comma)


def top_level(text: str) -> TopLevel | None:
    """How to declare a volume in ``text``; None when the shape leaves no safe edit (a
    multi-document stream, a flow-style or non-mapping document, ``volumes:`` that is not a
    mapping, or already duplicated)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    if root is None:
        return TopLevel(0, 2)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        return None
    key_indent = root.value[0][0].start_mark.column if root.value else 0
    step = _step(root, key_indent)
    found = [(k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "volumes"]
    if not found:
        # Appended at the end of the file: after an explicit document end (``...``) that would
        # start a second document, so such a file is left to the user.
        ends = any(isinstance(token, yaml.DocumentEndToken) for token in yaml.scan(text, Loader=yaml.SafeLoader))
        return None if ends else TopLevel(key_indent, step)
    if len(found) > 1:
        return None
    key, value = found[0]
    lines = text.splitlines()
    if isinstance(value, yaml.MappingNode) and value.flow_style:
        end = value.end_mark
        return TopLevel(
            key_indent, step, flow_end=(end.line, end.column - 1), no_comma=_no_comma_needed(text, end.index)
        )
    if isinstance(value, yaml.MappingNode) and value.value:
        last = min(max(_last_line(k, v) for k, v in value.value), len(lines) - 1)
        while last > key.start_mark.line and not lines[last].strip():
            last -= 1
        return TopLevel(key_indent, step, value.value[0][0].start_mark.column, block_at=last + 1)
    if isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null":
        start, end = value.start_mark, value.end_mark
        if start.line != key.start_mark.line or end.line != start.line:
            return None
        return TopLevel(
            key_indent, step, key_indent + step, block_at=key.start_mark.line + 1,
            null_value=(start.line, start.column, end.column),
        )  # fmt: skip
    return None


def _no_comma_needed(text: str, end: int) -> bool:
    """Whether the token before a flow mapping's closing brace (ending at ``end``) is its
    opening brace or a comma (``{a: 1,}``), so a new entry needs no separating comma."""
    previous: yaml.Token | None = None
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, yaml.FlowMappingEndToken) and token.end_mark.index == end:
            return isinstance(previous, (yaml.FlowMappingStartToken, yaml.FlowEntryToken))
        previous = token
    return False


def _step(root: yaml.MappingNode, key_indent: int) -> int:
    for _, value in root.value:
        if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value:
            step = int(value.value[0][0].start_mark.column) - key_indent
            if step > 0:
                return step
    return 2


def _last_line(key: yaml.Node, value: yaml.Node) -> int:
    """The last line a mapping entry occupies (0-based)."""
    if isinstance(value, yaml.ScalarNode) and value.value == "" and value.style is None:
        return key.end_mark.line  # an empty value's mark sits after the colon
    if isinstance(value, yaml.MappingNode) and value.value and not value.flow_style:
        return max(_last_line(k, v) for k, v in value.value)
    if isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
        return max(_last_line(item, item) for item in value.value)
    end = value.end_mark
    return end.line if end.column > 0 else end.line - 1


@dataclass
class ComposeEditor:
    project: ComposeProject
    lines: dict[str, list[str]] = field(default_factory=dict)
    inserts: dict[str, list[tuple[int, list[str]]]] = field(default_factory=dict)
    removals: dict[str, set[int]] = field(default_factory=dict)
    declared: dict[str, list[str]] = field(default_factory=dict)  # file -> volumes to declare
    layouts: dict[str, TopLevel | None] = field(default_factory=dict)

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
        return self._set_long_source(mount.origin.file, lines, index, source)

    def _set_long_source(self, file: str, lines: list[str], index: int, source: str) -> bool:
        dash = _indent(lines[index])
        keys = dash + 2  # the entry's keys sit after "- "
        changed = False
        skip_below: int | None = None
        for i in range(index, len(lines)):
            if i > index and lines[i].strip() and _indent(lines[i]) <= dash:
                break
            if skip_below is not None:
                if not lines[i].strip() or _indent(lines[i]) > skip_below:
                    self.removals.setdefault(file, set()).add(i)
                    continue
                skip_below = None
            lines[i] = re.sub(r"(\btype:\s*['\"]?)bind(['\"]?\s*(#.*)?\r?\n?)$", r"\1volume\2", lines[i])
            if i > index and _indent(lines[i]) == keys and re.match(r"\s*bind:", lines[i]):
                # The engine refuses bind options on a volume mount ("field BindOptions must not
                # be specified"), so they go with the type.
                self.removals.setdefault(file, set()).add(i)
                skip_below = keys
                continue
            match = re.match(r"(\s*-?\s*source:\s*)(.+?)(\s+#.*)?(\r?\n)?$", lines[i])
            if match:
                lines[i] = f"{match.group(1)}{source}{match.group(3) or ''}{match.group(4) or ''}"
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
            self._insert(last.origin.file, end, [" " * dash + f"- {entry}{self.newline(last.origin.file)}"])
            return True
        lines = self.lines.get(service.origin.file)
        if lines is None or service.origin.line is None:
            return False
        first_key = service.origin.line - 1
        indent = " " * _indent(lines[first_key])
        newline = self.newline(service.origin.file)
        self._insert(service.origin.file, first_key, [f"{indent}volumes:{newline}", f"{indent}  - {entry}{newline}"])
        return True

    def declare_volume(self, file: str, name: str) -> bool:
        """Declare ``name`` under the file's top-level ``volumes:``, merged into the key that is
        there (block, flow, empty or null) or appended as one new key: never a second
        ``volumes:``, which Compose v2 refuses. False when the file's shape leaves no safe edit."""
        if any(name in names for names in self.declared.values()):
            return True
        if file not in self.lines or self._top_level(file) is None:
            return False
        self.declared.setdefault(file, []).append(name)
        return True

    def _top_level(self, file: str) -> TopLevel | None:
        if file not in self.layouts:
            self.layouts[file] = top_level(self.project.texts[file])
        return self.layouts[file]

    def _declarations(self, file: str, lines: list[str]) -> list[tuple[int, list[str]]]:
        """Apply this file's pending declarations to ``lines`` (in place, one element may then
        hold several lines, so indexes stay valid) and return the inserts they need."""
        names = self.declared.get(file)
        layout = self._top_level(file)
        if not names or layout is None:
            return []
        newline = self.newline(file)
        step = " " * layout.step
        if layout.flow_end is not None:
            line, column = layout.flow_end
            entries = ", ".join(f"{name}: {{driver: local}}" for name in names)
            text = lines[line]
            lines[line] = text[:column] + ("" if layout.no_comma else ", ") + entries + text[column:]
            return []
        if layout.block_at is not None:
            pad = " " * layout.child_indent
            block = [
                line for name in names for line in (f"{pad}{name}:{newline}", f"{pad}{step}driver: local{newline}")
            ]
            if layout.null_value is not None:
                line, start, end = layout.null_value
                text = lines[line]
                lines[line] = text[:start].rstrip() + text[end:]
            if layout.block_at >= len(lines) and lines and not lines[-1].endswith("\n"):
                block.insert(0, newline)  # the file ends without a newline
            return [(layout.block_at, block)]
        key = " " * layout.key_indent
        block = [f"{key}volumes:{newline}"]
        block += [
            line
            for name in names
            for line in (f"{key}{step}{name}:{newline}", f"{key}{step}{step}driver: local{newline}")
        ]
        prefix = [] if not lines or lines[-1].endswith("\n") else [newline]
        return [(len(lines), [*prefix, newline, *block])]

    def newline(self, file: str) -> str:
        """The file's line ending, so added lines match it (a CRLF file stays CRLF)."""
        lines = self.lines.get(file) or []
        return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"

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

    def add_constraint(self, deploy: Deploy, constraint: str) -> bool:
        """Add ``constraint`` under the service's ``deploy.placement.constraints``, making the
        keys that are missing; True when it is there already. False for flow-style constraints
        or a service the reader could not locate."""
        if deploy.has_constraint(constraint):
            return True
        if not deploy.constraints_editable or deploy.service_file not in self.lines or deploy.service_line is None:
            return False
        file = deploy.service_file
        rows = [line.rstrip("\r\n") for line in self.lines[file]]
        step = max(2, deploy.key_indent - _indent(rows[deploy.service_line - 1]))
        pad = " " * deploy.key_indent
        if deploy.constraints_line is not None:
            at, depth, block = deploy.constraints_line, _indent(rows[deploy.constraints_line - 1]) + step, []
            at = _last_item(rows, at)
        elif deploy.placement_line is not None:
            at, depth = deploy.placement_line, _indent(rows[deploy.placement_line - 1]) + step
            block = [" " * depth + "constraints:"]
            depth += step
        elif deploy.deploy_line is not None:
            at, depth = deploy.deploy_line, _indent(rows[deploy.deploy_line - 1]) + step
            block = [" " * depth + "placement:", " " * (depth + step) + "constraints:"]
            depth += 2 * step
        else:
            at, depth = deploy.service_line, deploy.key_indent
            block = [pad + "deploy:", pad + " " * step + "placement:", pad + " " * 2 * step + "constraints:"]
            depth += 3 * step
        block.append(" " * depth + f"- {constraint}")
        newline = self.newline(file)
        self._insert(file, at, [line + newline for line in block])
        return True

    def _insert(self, file: str, index: int, new: list[str]) -> None:
        self.inserts.setdefault(file, []).append((index, new))

    def result(self) -> dict[str, str]:
        out = {}
        for file, original in self.lines.items():
            lines = list(original)
            inserts = [*self.inserts.get(file, []), *self._declarations(file, lines)]
            edited = [line for i, line in enumerate(lines) if i not in self.removals.get(file, set())]
            # From the end backwards; inserts at one index keep the order they were made in, so a
            # declaration appended at the end of the file comes after a mount added there.
            offsets = sorted(enumerate(inserts), key=lambda item: (item[1][0], item[0]), reverse=True)
            for _, (index, new) in offsets:
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


def _last_item(rows: list[str], constraints_line: int) -> int:
    """The 1-based line after which a new item goes: the last ``- `` item under ``constraints:``."""
    base = _indent(rows[constraints_line - 1])
    last = constraints_line
    for i in range(constraints_line, len(rows)):
        row = rows[i]
        if not row.strip() or row.lstrip().startswith("#"):
            continue
        if _indent(row) <= base and not row.lstrip().startswith("- "):
            break
        if _indent(row) < base:
            break
        last = i + 1
    return last
