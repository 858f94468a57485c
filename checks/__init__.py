"""The registry: every check, in the order it runs. Files first, then the engine (volumes,
containers, their logs, the socket from every vantage point), then the given logs and socket,
so that the cheap checks report even when a slow one times out. The engine itself is contacted
once, while the context is built, because what it says about the runtime sets the target OS
that every check's severities depend on."""

from __future__ import annotations

from checks import (
    compose_file,
    container_logs,
    containers,
    data_volume,
    engine,
    engine_volumes,
    log_signatures,
    secret_values,
    socket_mounts,
    socket_path_length,
    socket_probe,
    socket_sharing,
    socket_vantage,
    stack_placement,
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
    secret_values,
    stack_placement,
    engine,
    engine_volumes,
    containers,
    container_logs,
    socket_vantage,
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
