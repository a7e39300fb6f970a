"""The interface of server-side session stores (memory, Redis, database)."""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["SessionStore", "check_session_key"]

# The session layer's ids are URL-safe base64 (``secrets.token_urlsafe``); anything else
# is a bug or an attack, and could reach other keys (``*`` in a pattern, another prefix).
_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")


def check_session_key(key: str) -> str:
    """Return ``key`` if it can be a session id (1 to 128 URL-safe characters).

    For stores that put keys into other systems' names (Redis keys, table rows).

    Raises:
        ValueError: it cannot; the message never repeats the key, a credential.
    """
    if not _KEY.fullmatch(key):
        raise ValueError("a session key is 1 to 128 characters of A-Z, a-z, 0-9, '-' or '_'")
    return key


class SessionStore(Protocol):
    """Where server-side sessions live, keyed by a random session id.

    The session layer encodes the data (bytes) and chooses the key (a random,
    URL-safe id of at least 32 bytes of entropy); a store only keeps bytes for
    a time. Every method is safe to call concurrently.
    """

    async def load(self, key: str) -> bytes | None:
        """The data saved under ``key``, or None when absent or expired."""

    async def save(self, key: str, data: bytes, ttl: int, *, existing: bool = False) -> bool:
        """Save ``data`` under ``key``, replacing it; it expires after ``ttl`` seconds.

        With ``existing=True`` only a live entry is replaced, atomically: when ``key``
        is absent or expired nothing is saved and the result is False. The session
        layer saves a session it loaded this way, so that a request finishing after a
        concurrent logout or login (which deleted the key) cannot bring it back.

        Returns:
            Whether ``data`` was saved.
        """

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
