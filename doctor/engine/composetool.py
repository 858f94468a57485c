"""Which Compose tool deployed a project, told from the labels it wrote on the containers, and
the commands the operator types for it. Pure: the labels come from the engine session.

What each tool writes (read from their sources, and seen in the lab for the first three):
- Compose v2 (``docker compose``): ``com.docker.compose.version`` = ``2.x``.
- docker-compose v1 (1.29, Python): ``com.docker.compose.version`` = ``1.x``.
- podman-compose: ``io.podman.compose.*`` labels (``io.podman.compose.version`` is ``0.0.1``
  from Debian's 1.0.3; ``io.podman.compose.config-hash`` is ``123``), and no
  ``com.docker.compose.volume`` on volumes.
- nerdctl compose (and ``finch compose``, which is nerdctl's): the project and service labels but no
  ``com.docker.compose.version``; nerdctl's own ``nerdctl/*`` labels beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ONEOFF_LABEL = "com.docker.compose.oneoff"


@dataclass(frozen=True)
class ComposeTool:
    name: str  # compose-v2 | docker-compose-v1 | podman-compose | nerdctl-compose | unknown
    version: str  # from the labels; "" when they do not say
    command: str  # what the operator types: "docker compose", "docker-compose", "podman-compose", ...
    honours_healthy_wait: bool  # whether `depends_on: condition: service_healthy` makes it wait
    evidence: str  # the label that told, for the report

    @property
    def description(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"{self.command}{version}" if self.name != "unknown" else f"{self.command} (assumed: {self.evidence})"


def default_tool(runtime_command: str) -> ComposeTool:
    """The tool assumed when no container tells: the runtime's own Compose."""
    if runtime_command == "finch":
        return ComposeTool("unknown", "", "finch compose", True, "no deployed container to tell")
    return ComposeTool("unknown", "", "docker compose", True, "no deployed container to tell")


def identify_tool(labels: Iterable[Mapping[str, str]], runtime_command: str) -> ComposeTool:
    """The tool that wrote these containers' labels; the first container that tells decides."""
    for container_labels in labels:
        tool = _from_labels(container_labels, runtime_command)
        if tool is not None:
            return tool
    return default_tool(runtime_command)


def _from_labels(labels: Mapping[str, str], runtime_command: str) -> ComposeTool | None:
    if "com.docker.compose.project" not in labels and not any(k.startswith("io.podman.compose.") for k in labels):
        return None
    if any(key.startswith("io.podman.compose.") for key in labels):
        version = labels.get("io.podman.compose.version", "")
        # podman-compose starts every service at once: it reads depends_on for order only.
        return ComposeTool("podman-compose", version, "podman-compose", False, "io.podman.compose.* labels")
    version = labels.get("com.docker.compose.version", "")
    if version.startswith("1."):
        return ComposeTool(
            "docker-compose-v1", version, "docker-compose", True, f"com.docker.compose.version={version}"
        )
    if version:
        return ComposeTool("compose-v2", version, "docker compose", True, f"com.docker.compose.version={version}")
    if runtime_command == "finch" or any(key.startswith("nerdctl/") for key in labels):
        command = "finch compose" if runtime_command == "finch" else "nerdctl compose"
        # nerdctl compose does not implement healthcheck, so service_healthy cannot be waited for.
        return ComposeTool("nerdctl-compose", "", command, False, "Compose labels without com.docker.compose.version")
    return None


def is_oneoff(labels: Mapping[str, str]) -> bool:
    """A container of `compose run`: not the service, whatever state it is in."""
    return labels.get(ONEOFF_LABEL, "False").lower() == "true"
