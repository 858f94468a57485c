"""Which files make up the project, where its directory is, and its name, as ``docker compose``
(Compose v2) decides them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

# Compose v2's own lists and order (compose-go ``DefaultFileNames``/``DefaultOverrideFileNames``):
# the override is looked up by these names whichever base name was found.
DEFAULT_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)


class FileNotFound(Exception):
    """A file the user named does not exist."""


def discover_files(
    search_from: Path, explicit: Sequence[str], env: Mapping[str, str], cwd: Path
) -> tuple[list[Path], str]:
    """Return the Compose files to read and how they were chosen.

    ``-f`` and ``COMPOSE_FILE`` names are relative to the current directory, as in Compose v2
    (not to ``--project-directory``). Without either, the default names are looked up in
    ``search_from`` and then in each parent folder, up to the root."""
    if explicit:
        paths = [_resolve(cwd, name) for name in explicit]
        return _existing(paths, "-f/--file"), "-f/--file"
    if env.get("COMPOSE_FILE"):
        separator = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        names = [name for name in env["COMPOSE_FILE"].split(separator) if name]
        paths = [_resolve(cwd, name) for name in names]
        return _existing(paths, "COMPOSE_FILE"), "COMPOSE_FILE"
    folder = search_from.absolute()
    while True:
        base = next((folder / name for name in DEFAULT_NAMES if (folder / name).is_file()), None)
        if base is not None:
            override = next((folder / o for o in OVERRIDE_NAMES if (folder / o).is_file()), None)
            return [base, *([override] if override else [])], "default file names"
        if folder.parent == folder:
            return [], "default file names"
        folder = folder.parent


def _resolve(cwd: Path, name: str) -> Path:
    path = Path(os.path.expanduser(name))
    return path if path.is_absolute() else cwd / path


def _existing(paths: list[Path], how: str) -> list[Path]:
    for path in paths:
        if not path.exists():
            raise FileNotFound(f"the Compose file {path} (from {how}) does not exist")
    return paths


def normalize_project_name(name: str) -> str:
    lowered = re.sub(r"[^a-z0-9_-]", "", name.lower())
    return lowered.lstrip("_-")


def project_name(
    explicit: str | None, env: Mapping[str, str], top_level: str | None, project_dir: Path
) -> tuple[str, str]:
    """Precedence: -p, COMPOSE_PROJECT_NAME, top-level ``name:``, the directory's basename."""
    if explicit:
        return normalize_project_name(explicit), "-p/--project-name"
    if env.get("COMPOSE_PROJECT_NAME"):
        return normalize_project_name(env["COMPOSE_PROJECT_NAME"]), "COMPOSE_PROJECT_NAME"
    if top_level:
        return normalize_project_name(top_level), "top-level name:"
    return normalize_project_name(project_dir.absolute().name), "directory name"
