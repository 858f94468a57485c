"""The process around the CLI: what only a real ``cultivate`` process may do, never a caller of
``doctor.cli.main`` (the tests run that in-process, many times, in one interpreter).

Two costs of a short run belong to the interpreter, not to the doctor: the cyclic garbage
collector, which walks the objects the imports create again and again while they load (tens of
ms; imports make few cycles, so it frees almost nothing), and the teardown, which finalises every
module of docker-py, requests, rich and psycopg after the report is written. So the collector
waits until start-up is over, and the process ends with ``os._exit`` once its output is flushed.

This module stays light: it is imported first, and it imports the CLI only when called.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from doctor.collector import start_up_done

# Python's own exit status when it cannot flush stdout at exit.
EXIT_FLUSH_FAILED = 120


def cultivate() -> NoReturn:
    """The ``cultivate`` console script."""

    def run() -> int:
        from doctor.cli import main

        return main()

    from_start(run)


def doctor() -> NoReturn:
    """``python -m doctor``: the doctor subcommand on its own."""

    def run() -> int:
        from doctor.cli import doctor_main

        return doctor_main()

    from_start(run)


def from_start(run: Callable[[], int]) -> NoReturn:
    gc.disable()  # doctor.collector.start_up_done() turns it back on once the heavy imports are in
    try:
        code = run()
    finally:
        start_up_done()  # a run that never reached it (--help, a usage error, a crash) gets it here
    finish(code)


def finish(code: int) -> NoReturn:
    """Flush what was written and end without the interpreter's teardown. A reader that went away
    before the last flush (``| head -1``) ends the run quietly, as cli's own broken-pipe path does."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        from doctor.cli import _quiet_broken_pipe

        code = _quiet_broken_pipe()
    except (OSError, ValueError) as exc:  # a full disk behind a redirect: Python's exit status, one sentence
        _say(f"cultivate: could not write the output: {exc}")
        code = EXIT_FLUSH_FAILED
    with contextlib.suppress(OSError, ValueError):  # nowhere left to say anything
        sys.stderr.flush()
    os._exit(code)


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(message, file=sys.stderr)
