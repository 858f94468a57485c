"""Small pure helpers for the Compose model: paths as Go cleans them, volume declarations, and
values as Compose v2 prints them."""

from __future__ import annotations

import math
import posixpath
from decimal import Decimal
from typing import Any

from doctor.compose.model import Origin, VolumeDecl


def clean_path(path: str) -> str:
    """Go's ``path.Clean``: POSIX normalisation, where ``//x`` is ``/x`` too."""
    normal = posixpath.normpath(path)
    return "/" + normal.lstrip("/") if normal.startswith("//") else normal


def is_remote(name: str) -> bool:
    """An OCI artifact or Git repository: Compose fetches it; the doctor does not."""
    return name.startswith(("oci://", "git@", "https://", "http://", "ssh://", "git://"))


def volume_decl(key: str, body: dict[str, Any], project: str, origin: Origin) -> VolumeDecl:
    external = body.get("external")
    name = body.get("name")
    if isinstance(external, dict):  # the legacy ``external: {name: x}`` form
        name = external.get("name", name)
        external = True
    if isinstance(name, str) and name:
        engine_name = name
    elif external:
        engine_name = key
    else:
        engine_name = f"{project}_{key}"
    opts = body.get("driver_opts") or {}
    options = {str(k): str(v) for k, v in opts.items()} if isinstance(opts, dict) else {}
    driver = body.get("driver")
    return VolumeDecl(key, engine_name, bool(external), str(driver) if driver else None, options, origin)


def describe_long(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    keys = ("type", "source", "target", "read_only")
    return ", ".join(f"{key}: {entry[key]}" for key in keys if key in entry)


def healthcheck_enabled(value: Any) -> bool:
    if not isinstance(value, dict) or value.get("disable"):
        return False
    test = value.get("test")
    if isinstance(test, list):
        return bool(test) and test[0] != "NONE"
    return bool(test)


def env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def go_float(value: float) -> str:
    """A number as Go's ``%v`` prints it, which is what Compose puts in the environment:
    shortest digits, exponent form from 1e+06 up and below 1e-04 (``1.0`` is ``1``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + int(exponent)  # digits before the decimal point
    prefix = "-" if sign else ""
    power = point - 1
    if power < -4 or power >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def kind_of(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), "empty" if value is None else type(value).__name__)
