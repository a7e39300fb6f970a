"""Where rate-limit counters live: the store interface and the in-memory store.

A store keeps one counter per key and window and does two things, each atomically:
count a request if the limit allows it, and forget a key's counts. The window
arithmetic (which window, how much of the previous one still counts, how long to
keep counts) is the limiter's; every store applies the same rule, so the memory and
Redis stores decide alike.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import NamedTuple, Protocol

__all__ = ["Counts", "MemoryStore", "RateLimitStore"]


class Counts(NamedTuple):
    """What a store saw when asked to count one request.

    Attributes:
        allowed: Whether the request was admitted (and counted).
        current: This window's count, including this request when admitted.
        previous: The previous window's count (0 when its weight was 0).
    """

    allowed: bool
    current: int
    previous: int


class RateLimitStore(Protocol):
    """The counters behind :class:`~satchel.ratelimit.RateLimit`; safe to call concurrently."""

    async def hit(self, key: str, *, window: int, weight: float, limit: int, ttl: float) -> Counts:
        """Count one request for ``key`` in window number ``window`` if the limit allows it.

        Atomically: with ``current`` the count of window ``window`` and ``previous``
        that of window ``window - 1``, admit when ``floor(previous * weight) + current
        + 1 <= limit`` and then add one to ``current``; a refused request is not
        counted. ``weight`` is 0 for fixed windows: the previous count may then go
        unread and be reported as 0.

        Args:
            key: The counter's name (the limiter's scope and a hash of the client's key).
            window: The window number; windows only grow.
            weight: The share of the previous window's count that still counts (0 to 1).
            limit: The most requests the weighted sum may reach.
            ttl: Seconds this window's count must be kept, at least.
        """
        ...

    async def reset(self, key: str, *, window: int) -> None:
        """Forget ``key``'s counts: those of window ``window`` and of ``window - 1``.

        Atomically: a concurrent ``hit`` sees either both counts or neither. The next
        ``hit`` of ``key`` starts from zero, as if the key had never been counted.

        Args:
            key: The counter's name, as given to ``hit``.
            window: The current window number.
        """
        ...


class _Entry:
    """One key's counts: the latest window it was seen in and the one before."""

    __slots__ = ("current", "expires", "previous", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.current = 0
        self.previous = 0
        self.expires = 0.0

    def move_to(self, window: int) -> None:
        if window == self.window + 1:
            self.previous, self.current = self.current, 0
        elif window > self.window:
            self.previous = self.current = 0
        else:
            # An older window means the clock stepped back: keep counting in the
            # newest one rather than forget requests already admitted.
            return
        self.window = window


class MemoryStore:
    """Counters in this process's memory, for one worker process.

    Each key takes one entry, however many requests it makes, and the number of
    entries is capped: to make room for a new key the store drops entries that
    have expired and then, if it must, the least recently used live one. A client
    rotating keys (addresses, API keys) therefore cannot grow memory without bound,
    but past ``max_keys`` live keys the dropped ones start afresh: size it above the
    number of distinct keys you expect within two windows. Every operation is
    synchronous under a lock, so concurrent requests never both take the last slot.

    With several worker processes each has its own counters (a client then gets
    ``limit`` per worker): use :class:`~satchel.ratelimit.RedisStore` to share them.

    Args:
        max_keys: The most keys kept at once.

    Raises:
        ValueError: ``max_keys`` is less than 1.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, not {max_keys}")
        self.max_keys = max_keys
        # Least recently used first: both eviction orders read from the front.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    async def hit(self, key: str, *, window: int, weight: float, limit: int, ttl: float) -> Counts:
        """Count one request for ``key`` if the limit allows it (see ``RateLimitStore``)."""
        now = time.monotonic()
        with self._lock:  # and no await inside: atomic for tasks and threads alike
            entry = self._entries.get(key)
            if entry is None:
                self._make_room(now)
                entry = self._entries[key] = _Entry(window)
            else:
                self._entries.move_to_end(key)
                entry.move_to(window)
            entry.expires = max(entry.expires, now + ttl)
            previous = entry.previous if weight else 0
            if math.floor(previous * weight) + entry.current + 1 > limit:
                return Counts(False, entry.current, previous)
            entry.current += 1
            return Counts(True, entry.current, previous)

    async def reset(self, key: str, *, window: int) -> None:
        """Forget ``key``'s counts (see ``RateLimitStore``).

        An entry holds only its latest window and the one before, so dropping it
        forgets every count of ``key``, whatever ``window`` is.
        """
        with self._lock:
            self._entries.pop(key, None)

    def _make_room(self, now: float) -> None:
        entries = self._entries
        if len(entries) < self.max_keys:
            return
        # Only the front is swept, so that one new key costs O(1) amortised even when
        # every entry is live. With one limiter per store (the default) expiry times
        # grow from front to back, so every expired entry is found.
        while entries and next(iter(entries.values())).expires <= now:
            entries.popitem(last=False)
        if len(entries) >= self.max_keys:
            entries.popitem(last=False)
