"""Which runtime answers, from the engine's own /version and /info, and where its containers run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from doctor.models import TargetOS


@dataclass(frozen=True)
class Runtime:
    name: str  # finch | docker-desktop | colima | podman | docker
    command: str  # what the operator types: finch, docker, podman
    description: str
    target_os: TargetOS | None  # None when the engine cannot tell
    vm_os: str
    kernel: str
    api_version: str
    ignores_driver_opts: bool  # nerdctl compose drops driver/driver_opts (Finch)


def identify(version: dict[str, Any], info: dict[str, Any], endpoint_url: str, host_os: str) -> Runtime:
    platform = str((version.get("Platform") or {}).get("Name", ""))
    components = " ".join(str(c.get("Name", "")) for c in version.get("Components") or [] if isinstance(c, dict))
    operating_system = str(info.get("OperatingSystem", ""))
    kernel = str(info.get("KernelVersion") or version.get("KernelVersion") or "")
    api = str(version.get("ApiVersion", ""))
    common = {"vm_os": operating_system, "kernel": kernel, "api_version": api}
    in_vm_on_host = TargetOS(host_os) if host_os in (TargetOS.MACOS, TargetOS.WINDOWS) else None
    if platform.startswith("Finch Daemon"):
        on_mac = "/lima/" in endpoint_url or "/Applications/Finch" in endpoint_url
        target = (
            TargetOS.MACOS
            if on_mac
            else (TargetOS.LINUX if endpoint_url.endswith("/run/finch.sock") else in_vm_on_host)
        )
        where = "a Lima VM on macOS" if target is TargetOS.MACOS else "Linux"
        return Runtime("finch", "finch", f"Finch ({platform}) in {where}", target, ignores_driver_opts=True, **common)
    if "Podman" in components or "podman" in endpoint_url:
        return Runtime("podman", "podman", f"Podman on {operating_system or 'Linux'}", in_vm_on_host or TargetOS.LINUX,
                       ignores_driver_opts=False, **common)  # fmt: skip
    if operating_system == "Docker Desktop":
        return Runtime("docker-desktop", "docker", "Docker Desktop (containers in its Linux VM)",
                       in_vm_on_host or TargetOS.LINUX, ignores_driver_opts=False, **common)  # fmt: skip
    if str(info.get("Name", "")).startswith("colima") or "/.colima/" in endpoint_url:
        return Runtime("colima", "docker", "Colima (containers in a Lima VM)", in_vm_on_host or TargetOS.LINUX,
                       ignores_driver_opts=False, **common)  # fmt: skip
    return Runtime("docker", "docker", f"Docker Engine on {operating_system or 'Linux'}", TargetOS.LINUX,
                   ignores_driver_opts=False, **common)  # fmt: skip
