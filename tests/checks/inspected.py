"""Engine answers shaped as docker-py gives them: a container's ``name``, ``labels`` and
``attrs`` (the inspect document), and volume dicts from the volume list. Pure inputs for the
checks' functions: what the engine would say, without an engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Container:
    """The three attributes of ``docker.models.containers.Container`` that the checks read."""

    name: str
    labels: dict[str, str]
    attrs: dict[str, Any] = field(default_factory=dict)


def compose_container(
    project: str,
    service: str,
    state: dict[str, Any] | None = None,
    mounts: list[dict[str, Any]] | None = None,
    *,
    oneoff: bool = False,
    restarts: int = 0,
) -> Container:
    labels = {
        "com.docker.compose.project": project,
        "com.docker.compose.service": service,
        "com.docker.compose.oneoff": "True" if oneoff else "False",
    }
    name = f"{project}-{service}-{'run-09a5aff39006' if oneoff else '1'}"
    attrs = {"State": state or {"Status": "running"}, "Mounts": mounts or [], "RestartCount": restarts}
    return Container(name, labels, attrs)


def volume_mount(name: str, destination: str = "/var/run/postgresql") -> dict[str, Any]:
    return {
        "Type": "volume",
        "Name": name,
        "Source": f"/var/lib/docker/volumes/{name}/_data",
        "Destination": destination,
    }


def bind_mount(source: str, destination: str = "/var/run/postgresql") -> dict[str, Any]:
    return {"Type": "bind", "Source": source, "Destination": destination}


def engine_volume(name: str, project: str | None, key: str = "db_socket", **extra: Any) -> dict[str, Any]:
    """A volume as the engine lists it; ``project`` None: made outside Compose (no labels)."""
    labels = {"com.docker.compose.project": project, "com.docker.compose.volume": key} if project else None
    return {"Name": name, "Driver": "local", "Labels": labels, "Options": None, **extra}
