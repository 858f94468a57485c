"""What finch-daemon answers, as pure functions: the API version bounds, its /version, its
volume objects and volume-list filters, and how it reads query values. From finch-daemon's
source (``version/version.go``, ``api/router/router.go``, ``internal/service/system/version.go``,
``api/handlers/volume/list.go``, ``api/types``) and nerdctl's ``native.Volume``."""

from __future__ import annotations

import json
import re
from typing import Any

DAEMON_VERSION = "v0.0.0-lab-emulation"  # never a real release: reports show it is the emulation
DEFAULT_API = "1.43"  # finch-daemon version/version.go DefaultApiVersion
MINIMUM_API = "1.35"  # MinimumApiVersion
INT64 = re.compile(r"^[+-]?[0-9]{1,19}$")
FALSE = {"", "0", "no", "false", "none"}  # moby httputils.BoolValue


def api_compare(a: str, b: str) -> int:
    """moby versions.compare: dot-separated integers, a missing or non-numeric part counts as 0."""
    left, right = ([int(p) if p.isdigit() else 0 for p in v.split(".")] for v in (a, b))
    width = max(len(left), len(right))
    left, right = left + [0] * (width - len(left)), right + [0] * (width - len(right))
    return (left > right) - (left < right)


def version_refusal(version: str) -> str | None:
    """finch-daemon's VersionMiddleware, for ``/v{version}/...``."""
    if api_compare(version, MINIMUM_API) < 0:
        return f"your api version, v{version}, is below the minimum supported version, v{MINIMUM_API}"
    if api_compare(version, DEFAULT_API) > 0:
        return f"your api version, v{version}, is newer than the server's version, v{DEFAULT_API}"
    return None


def finch_volume(volume: dict[str, Any]) -> dict[str, Any]:
    """nerdctl native.Volume: Labels and Size are omitempty; nothing else exists."""
    shaped: dict[str, Any] = {"Name": volume.get("Name", ""), "Mountpoint": volume.get("Mountpoint", "")}
    if volume.get("Labels"):
        shaped["Labels"] = volume["Labels"]
    size = (volume.get("UsageData") or {}).get("Size")
    if isinstance(size, int) and size > 0:
        shaped["Size"] = size
    return shaped


def finch_volume_filters(raw: str) -> str | None:
    """finch-daemon unmarshals filters into {name, driver, labels, dangling} of []string: other
    keys vanish (Docker's ``label`` among them), and a known key in Docker's map form is a JSON
    error, which finch-daemon answers with 500."""
    parsed = json.loads(raw)
    if not isinstance(parsed, dict):
        raise ValueError("json: cannot unmarshal into Go value of type volume.filterJSONRequest")
    kept: dict[str, Any] = {}
    for theirs, dockers in (("name", "name"), ("driver", "driver"), ("labels", "label"), ("dangling", "dangling")):
        values = parsed.get(theirs)
        if values is None:
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(
                f"json: cannot unmarshal {type(values).__name__} into Go struct field "
                f"filterJSONRequest.{theirs} of type []string"
            )
        if values:
            kept[dockers] = values
    return json.dumps(kept) if kept else None


def finch_version(upstream: dict[str, Any]) -> dict[str, Any]:
    """finch-daemon's VersionInfo, filled from what the engine underneath really runs."""
    components = [
        {"Name": c.get("Name"), "Version": c.get("Version"), **({"Details": c["Details"]} if c.get("Details") else {})}
        for c in upstream.get("Components") or []
        if isinstance(c, dict) and str(c.get("Name", "")).lower() in ("containerd", "runc")
    ]
    return {
        "Platform": {"Name": f"Finch Daemon - {DAEMON_VERSION}"},
        "Version": DAEMON_VERSION,
        "ApiVersion": DEFAULT_API,
        "MinAPIVersion": MINIMUM_API,
        "GitCommit": "",
        "Os": "Linux",  # `uname`
        "Arch": {"amd64": "x86_64", "arm64": "aarch64"}.get(str(upstream.get("Arch")), str(upstream.get("Arch", ""))),
        "KernelVersion": upstream.get("KernelVersion", ""),
        "Experimental": False,
        "BuildTime": "",
        "Components": components,
    }


def bool_value(value: str) -> bool:
    """moby httputils.BoolValue."""
    return value.strip().lower() not in FALSE


def int64_or_zero(value: str) -> int:
    """moby httputils.Int64ValueOrZero: anything that is not a decimal int64 is 0."""
    if not INT64.match(value):
        return 0
    number = int(value)
    return number if -(2**63) <= number < 2**63 else 0
