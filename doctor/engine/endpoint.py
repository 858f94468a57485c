"""Where the engine is: --docker-host, DOCKER_HOST, the Docker CLI's current context, then the
sockets that runtimes use by default. Pure apart from reading the CLI's config files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Endpoint:
    url: str
    reason: str  # why this one, for the report


def default_sockets(home: str, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """(path, what uses it) in the order the doctor tries them."""
    runtime_dir = environ.get("XDG_RUNTIME_DIR", "")
    sockets = [
        ("/Applications/Finch/lima/data/finch/sock/finch.sock", "Finch on macOS"),
        ("/run/finch.sock", "Finch on Linux"),
        (f"{home}/.docker/run/docker.sock", "Docker Desktop"),
        (f"{home}/.colima/default/docker.sock", "Colima"),
    ]
    if runtime_dir:
        sockets.append((f"{runtime_dir}/podman/podman.sock", "rootless Podman"))
    sockets.append(("/var/run/docker.sock", "Docker"))
    # After Docker's: where both exist, the docker CLI (and so the operator) talks to Docker's.
    sockets.append(("/run/podman/podman.sock", "rootful Podman"))
    return sockets


def context_endpoint(environ: Mapping[str, str], home: str) -> tuple[str, str] | None:
    """The Docker CLI's current context, if it names an endpoint: (url, context name)."""
    config_dir = Path(environ.get("DOCKER_CONFIG") or f"{home}/.docker")
    name = environ.get("DOCKER_CONTEXT")
    if not name:
        try:
            name = json.loads((config_dir / "config.json").read_text()).get("currentContext")
        except (OSError, ValueError, AttributeError):
            return None
    if not name or name == "default":
        return None
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    try:
        host = json.loads(meta.read_text())["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (str(host), name) if host else None


def resolve(
    flag: str | None,
    environ: Mapping[str, str],
    home: str,
    exists: Callable[[str], bool] = lambda path: Path(path).exists(),
) -> Endpoint:
    if flag:
        return Endpoint(flag, "--docker-host")
    if environ.get("DOCKER_HOST"):
        return Endpoint(environ["DOCKER_HOST"], "DOCKER_HOST")
    context = context_endpoint(environ, home)
    if context is not None:
        return Endpoint(context[0], f"the Docker CLI's current context {context[1]!r}")
    for path, who in default_sockets(home, environ):
        if exists(path):
            return Endpoint(f"unix://{path}", f"{who}'s default socket")
    return Endpoint("unix:///var/run/docker.sock", "no engine socket found; Docker's default")
