"""The registry: every check, in the order it runs. Files first, then the engine, then logs and
the live socket, so that the cheap checks report even when a slow one times out."""

from __future__ import annotations

from checks import (
    compose_file,
    data_volume,
    engine,
    log_signatures,
    socket_mounts,
    socket_path_length,
    socket_probe,
    socket_sharing,
    start_order,
)
from doctor.runner import Check

CHECKS: list[Check] = [
    compose_file,
    socket_mounts,
    socket_sharing,
    socket_path_length,
    data_volume,
    start_order,
    engine,
    log_signatures,
    socket_probe,
]


def select(names: list[str]) -> list[Check]:
    """The named checks in registry order; raises KeyError naming an unknown one."""
    known = {check.ID: check for check in CHECKS}
    for name in names:
        if name not in known:
            raise KeyError(name)
    return [check for check in CHECKS if check.ID in names] if names else list(CHECKS)
