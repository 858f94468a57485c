"""The small bounded pool for engine calls that do not depend on each other (inspects, log
reads, execs, probes). Each call keeps its own --timeout (the docker client's); the pool only
overlaps the waits. Eight workers: the calls wait on the engine, not on this process; more
would crowd a 2-core VM and an engine that serialises exec starts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

WORKERS = 8
T = TypeVar("T")
R = TypeVar("R")


def bounded_map(function: Callable[[T], R], items: Iterable[T], workers: int = WORKERS) -> list[R]:
    """``[function(item) for item in items]``, in order, at most ``workers`` at a time. An
    exception in one call is raised here, after the others ran, as a sequential loop would."""
    listed = list(items)
    if len(listed) <= 1:
        return [function(item) for item in listed]
    with ThreadPoolExecutor(max_workers=min(workers, len(listed))) as pool:
        return list(pool.map(function, listed))
