"""cultivate doctor: why PostgreSQL and its backend cannot talk over the Unix socket."""

from __future__ import annotations

__version__ = "0.1.0"
