"""The interface of server-side session stores (memory, Redis, database)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["SessionStore"]


class SessionStore(Protocol):
    """Where server-side sessions live, keyed by a random session id.

    The session layer encodes the data (bytes) and chooses the key (a random,
    URL-safe id of at least 32 bytes of entropy); a store only keeps bytes for
    a time. Every method is safe to call concurrently.
    """

    async def load(self, key: str) -> bytes | None:
        """The data saved under ``key``, or None when absent or expired."""

    async def save(self, key: str, data: bytes, ttl: int) -> None:
        """Save ``data`` under ``key``, replacing it; it expires after ``ttl`` seconds."""

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
