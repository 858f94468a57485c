"""Which files make up the project, and the project's name, as ``docker compose`` decides."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDE_NAMES = {
    "compose.yaml": ("compose.override.yaml", "compose.override.yml"),
    "compose.yml": ("compose.override.yml", "compose.override.yaml"),
    "docker-compose.yaml": ("docker-compose.override.yaml", "docker-compose.override.yml"),
    "docker-compose.yml": ("docker-compose.override.yml", "docker-compose.override.yaml"),
}


class FileNotFound(Exception):
    """A file the user named does not exist."""


def discover_files(project_dir: Path, explicit: Sequence[str], env: Mapping[str, str]) -> tuple[list[Path], str]:
    """Return the Compose files to read and how they were chosen."""
    if explicit:
        paths = [_resolve(project_dir, name) for name in explicit]
        return _existing(paths, "-f/--file"), "-f/--file"
    if env.get("COMPOSE_FILE"):
        separator = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        names = [name for name in env["COMPOSE_FILE"].split(separator) if name]
        paths = [_resolve(project_dir, name) for name in names]
        return _existing(paths, "COMPOSE_FILE"), "COMPOSE_FILE"
    for name in DEFAULT_NAMES:
        base = project_dir / name
        if base.is_file():
            overrides = [project_dir / o for o in OVERRIDE_NAMES[name] if (project_dir / o).is_file()]
            return [base, *overrides[:1]], "default file names"
    return [], "default file names"


def _resolve(project_dir: Path, name: str) -> Path:
    path = Path(os.path.expanduser(name))
    return path if path.is_absolute() else project_dir / path


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
    return normalize_project_name(project_dir.resolve().name), "directory name"
