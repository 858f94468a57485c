"""A page per finding id (``ID.md``, package data), printed by ``cultivate explain ID``. The ids
are the catalog's (doctor/catalog.py); the same text is in the repository's docs/findings/ (a
test keeps the two identical, and one page per catalog id)."""

from __future__ import annotations

from importlib.resources import files

from doctor import catalog


def page_ids() -> list[str]:
    return list(catalog.ids())


def page(finding_id: str) -> str | None:
    entry = catalog.FINDINGS.get(finding_id)  # also keeps a name such as "../x" from reaching the file system
    if entry is None:
        return None
    return files(__name__).joinpath(entry.page).read_text(encoding="utf-8")
