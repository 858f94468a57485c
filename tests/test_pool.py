"""The bounded pool for independent engine calls: order kept, at most N at once, errors raised."""

from __future__ import annotations

import threading
import time

import pytest

from doctor.engine.pool import bounded_map


def test_order_is_kept_and_at_most_n_run_at_once() -> None:
    running, peak, lock = [0], [0], threading.Lock()

    def call(item: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return item * 2

    assert bounded_map(call, range(12), workers=3) == [i * 2 for i in range(12)]
    assert peak[0] == 3


def test_an_error_in_one_call_is_raised() -> None:
    def call(item: int) -> int:
        if item == 2:
            raise ValueError("engine said no")
        return item

    with pytest.raises(ValueError, match="engine said no"):
        bounded_map(call, range(4))
