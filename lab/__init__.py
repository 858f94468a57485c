"""The lab: a private Docker engine, a PostgreSQL image built from Debian packages, a FUSE share
that behaves like a macOS folder shared into a VM, and scenario deployments that reproduce the
socket failures on Linux. Used by the test suite and by hand (``lab/lab --help``)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent


def lab_dir() -> Path:
    """Where the engine keeps its socket, data and state (override with CULTIVATE_LAB_DIR)."""
    return Path(os.environ.get("CULTIVATE_LAB_DIR", "/tmp/cultivate-lab"))


def cache_dir() -> Path:
    """Where image tarballs are cached between runs on the same machine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cultivate-lab"
