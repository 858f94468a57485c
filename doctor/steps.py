"""A remedy's commands, split into what changes the deployment (steps, in order, each marked
when it stops a service or moves data) and what only reads (verify). A script that runs "the
verify commands" can then never take the deployment down.

The split reads the command's verb, not prose: every command a remedy prints is built from a
small set of forms (`<runtime> volume inspect`, `<runtime> compose … logs`, `… up -d
--force-recreate`, `tar czf`, …), and an unknown form counts as a step, the safe side."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Read-only forms: inspecting, listing, reading logs, validating, probing.
_READ_ONLY = re.compile(
    r"^\S+(?: compose(?: -p \S+| -f \S+)*)? (?:volume inspect|volume ls|inspect|logs|ps|config|top|images|version|info)\b"
    r"|^\S+ compose(?: -p \S+| -f \S+)* exec \S+ (?:pg_isready|ls|stat|psql -c 'select 1')\b"
    r"|^(?:pg_isready|ls|stat|cat|grep|psql)\b"
)
# `run --rm` removes only the helper container it starts: not a stop.
_STOPS = re.compile(r"(?<![-\w])(?:down|stop|restart|kill|rm)\b|--force-recreate")
_MOVES_DATA = re.compile(r"\b(?:tar|rsync|cp|mv|pg_dump|pg_restore)\b")


@dataclass(frozen=True)
class Step:
    command: str
    stops_service: bool = False
    moves_data: bool = False

    @property
    def marks(self) -> str:
        """'stops the service, moves data' or ''."""
        return ", ".join(
            m for m, on in (("stops the service", self.stops_service), ("moves data", self.moves_data)) if on
        )


def is_read_only(command: str) -> bool:
    return bool(_READ_ONLY.search(command.strip())) and not _STOPS.search(command)


def split(commands: tuple[str, ...]) -> tuple[tuple[Step, ...], tuple[str, ...]]:
    """(steps in their order, read-only verify commands in theirs)."""
    steps = tuple(
        Step(c, stops_service=bool(_STOPS.search(c)), moves_data=bool(_MOVES_DATA.search(c)))
        for c in commands
        if not is_read_only(c)
    )
    return steps, tuple(c for c in commands if is_read_only(c))
