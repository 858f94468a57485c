"""What Compose v2 checks while it decodes a file that passed the schema: durations, short-syntax
port and volume strings, long-syntax mounts (step 5 of validate.py)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from doctor.compose.schema import describe
from doctor.compose.yamlload import PathKey

_DURATION = re.compile(r"[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+|[-+]?0")
_SERVICE_DURATIONS = (
    ("healthcheck", "interval"),
    ("healthcheck", "timeout"),
    ("healthcheck", "start_period"),
    ("healthcheck", "start_interval"),
    ("stop_grace_period",),
)
_PROTOCOLS = {"tcp", "udp", "sctp"}
_PORT_RANGE = re.compile(r"[0-9]+(?:-[0-9]+)?")


def decoding_problems(data: dict[str, Any]) -> Iterator[tuple[PathKey, str]]:
    services = data.get("services")
    if not isinstance(services, dict):
        return
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        base: PathKey = ("services", name)
        for keys in _SERVICE_DURATIONS:
            value: Any = service
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and _DURATION.fullmatch(value) is None:
                where = (*base, *keys)
                yield where, f"{describe(where)} {value!r} is not a duration (write it as 30s, 1m30s or 500ms)"
        for i, port in enumerate(service.get("ports") or []):
            if isinstance(port, (str, int)) and not isinstance(port, bool):
                reason = port_problem(str(port))
                if reason:
                    yield (*base, "ports", i), f"{describe((*base, 'ports', i))} {str(port)!r}: {reason}"
        for i, volume in enumerate(service.get("volumes") or []):
            where = (*base, "volumes", i)
            reason = volume_problem(volume)
            if reason:
                yield where, f"{describe(where)}: {reason}"


def port_problem(spec: str) -> str | None:
    """Why Compose cannot read a short-syntax port (``[IP:][HOST:]CONTAINER[/PROTO]``), or None."""
    rest, _, proto = spec.partition("/")
    if "/" in spec and proto.lower() not in _PROTOCOLS:
        return f"invalid protocol {proto!r} (tcp, udp or sctp)"
    if not rest:
        return "no port given"
    ip = ""
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            return "invalid IP address"
        ip, rest = rest[1:end], rest[end + 1 :].lstrip(":")
        parts = rest.split(":")
    else:
        parts = rest.split(":")
        if len(parts) > 2:
            ip, parts = ":".join(parts[:-2]), parts[-2:]
    container = parts[-1]
    host = parts[0] if len(parts) == 2 else ""
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return f"invalid IP address {ip!r}"
    if _PORT_RANGE.fullmatch(container) is None:
        return f"invalid container port {container!r}"
    if host and _PORT_RANGE.fullmatch(host) is None:
        return f"invalid host port {host!r}"
    return None


def volume_problem(volume: Any) -> str | None:
    """Why Compose cannot read a service's volume entry, or None."""
    if isinstance(volume, str):
        if volume == "":
            return "the volume entry is empty"
        if "::" in volume or volume.startswith(":") or volume.endswith(":"):
            return f"empty section between colons in {volume!r}"
        return None
    if isinstance(volume, dict):
        if "target" not in volume:
            return "a volume entry in long syntax needs a 'target'"
        # Only a missing source: an empty one (often an unset variable) is a relative path,
        # which Compose v2 resolves to the project directory.
        if volume.get("type") == "bind" and volume.get("source") is None:
            return "a bind mount needs a 'source'"
    return None
