"""A page per finding id (``ID.md``, package data), printed by ``cultivate explain ID``. The same
text is in the repository's docs/findings/ (a test keeps the two identical)."""

from __future__ import annotations

from importlib.resources import files


def page_ids() -> list[str]:
    return sorted(entry.name.removesuffix(".md") for entry in files(__name__).iterdir() if entry.name.endswith(".md"))


def page(finding_id: str) -> str | None:
    if finding_id not in page_ids():  # also keeps a name such as "../x" from reaching the file system
        return None
    return files(__name__).joinpath(f"{finding_id}.md").read_text(encoding="utf-8")
