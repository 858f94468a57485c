"""The garbage collector's pause during start-up, ended from below the entry point.

doctor/process.py pauses the cyclic collector before the imports (their collections walk every
new object and free almost nothing); the context ends the pause once docker-py and the checks
are in. It lives here, not in doctor/process.py, so the context (a core module) never imports
the entry point above it."""

from __future__ import annotations

import gc


def start_up_done() -> None:
    """The heavy imports are in: what exists now lives until the end, so the collector is told to
    leave it alone (``gc.freeze``) and runs again for what the checks allocate from here on.
    Does nothing when the collector was not paused: a test calling the CLI in-process, a second call."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
