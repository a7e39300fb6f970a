"""Sessions: signed-cookie (default) and server-side stores (memory, Redis, database)."""

from __future__ import annotations

from satchel.sessions.store import SessionStore

__all__ = ["SessionStore"]
