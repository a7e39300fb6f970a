"""A bounded in-process session store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["MemoryStore"]


class MemoryStore:
    """Sessions in this process's memory, at most ``max_entries`` of them.

    For one process (development, a single worker): each worker of a
    multi-worker server has its own, and a restart forgets every session. When
    full, saving a new session first drops the expired ones, then the least
    recently saved, so memory stays bounded whatever clients send. Safe to
    share between threads and tasks.

    Args:
        max_entries: The most sessions kept.
        clock: Returns the current time in seconds (tests pass a fake clock).
    """

    def __init__(
        self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        # key -> (expires at, data), in saving order: the first is the least recently saved.
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        # No entry expires before this, so purging sooner would find nothing.
        self._next_expiry = float("inf")

    async def load(self, key: str) -> bytes | None:
        """The data saved under ``key``, or None when absent or expired."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._entries[key]
                return None
            return entry[1]

    async def save(self, key: str, data: bytes, ttl: int, *, existing: bool = False) -> bool:
        """Save ``data`` under ``key`` for ``ttl`` seconds, evicting others if full.

        With ``existing=True``, only if ``key`` holds a live entry (see ``SessionStore``).
        """
        now = self._clock()
        expires = now + ttl
        with self._lock:
            # Popped and re-inserted last: the most recently saved.
            previous = self._entries.pop(key, None)
            if ttl <= 0 or (existing and (previous is None or previous[0] <= now)):
                return False
            if len(self._entries) >= self.max_entries:
                self._make_room(now)
            self._entries[key] = (expires, data)
            self._next_expiry = min(self._next_expiry, expires)
            return True

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        """How many sessions are kept (expired ones included until purged)."""
        return len(self._entries)

    def _make_room(self, now: float) -> None:
        if self._next_expiry <= now:
            expired = [key for key, (expires, _) in self._entries.items() if expires <= now]
            for key in expired:
                del self._entries[key]
            self._next_expiry = min(
                (expires for expires, _ in self._entries.values()), default=float("inf")
            )
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
