"""Rate-limit counters in Redis (redis-py's asyncio client), shared by every worker and machine.

Needs the ``redis`` extra (``pip install 'satchel[redis]'``); importing this module
without it raises ``MissingDependencyError``. ``import satchel.ratelimit`` does not
import it: it loads on first use of ``satchel.ratelimit.RedisStore``.

Each window's count is one Redis integer, ``prefix + "{" + key + "}:" + window``,
which expires when the limiter no longer needs it; there is nothing to purge. A Lua
script reads and increments the counts in one step, so concurrent requests from any
number of processes never over-admit; the key's ``{...}`` hash tag keeps a window
and the previous one in the same Redis Cluster slot. When Redis cannot be reached,
``hit`` raises ``redis.exceptions.ConnectionError`` and the request fails with a
server error: a limit that cannot be checked is not silently lifted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

from satchel.errors import MissingDependencyError
from satchel.ratelimit.store import Counts

try:
    import redis.asyncio as aioredis
    from redis.commands.core import AsyncScript
except ImportError as exc:
    raise MissingDependencyError("redis", "redis") from exc

from satchel.redisclient import DEFAULT_URL, StoreClient

__all__ = ["DEFAULT_URL", "RedisStore"]

# KEYS[1]: this window's counter; KEYS[2] (sliding windows only): the previous one's.
# ARGV: limit, weight of the previous window, milliseconds to keep this window's count.
# The same rule as MemoryStore.hit, on the same IEEE doubles.
_HIT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = 0
if #KEYS > 1 then
    previous = tonumber(redis.call('GET', KEYS[2]) or '0')
end
if math.floor(previous * tonumber(ARGV[2])) + current + 1 > tonumber(ARGV[1]) then
    return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, current, previous}
"""


class RedisStore:
    """Rate-limit counters in Redis; implements ``RateLimitStore``.

    Args:
        url: A redis-py URL (``redis://``, ``rediss://`` for TLS, ``unix://``);
            defaults to ``DEFAULT_URL``. The connection pool is created on first use:
            at most 50 connections (``?max_connections=`` in the URL), for which a
            request waits up to 5 seconds (``?timeout=``).
        client: A ``redis.asyncio.Redis`` to use instead of ``url``. The caller owns
            it: ``aclose()`` leaves it open.
        prefix: Put before every key, keeping counters apart from other data in
            the same database.

    Raises:
        ValueError: Both ``url`` and ``client`` were given.

    >>> store = RedisStore("redis://cache.internal:6379/1", prefix="shop:ratelimit:")
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        prefix: str = "satchel:ratelimit:",
    ) -> None:
        self._client = StoreClient("RedisStore", url, client)
        self.url = DEFAULT_URL if url is None else url
        self.prefix = prefix
        self._script: AsyncScript | None = None

    def _hit_script(self) -> AsyncScript:
        if self._script is None:
            # EVALSHA, loading the script again when Redis answers NOSCRIPT (a restart).
            self._script = self._client.get().register_script(_HIT)
        return self._script

    def _name(self, key: str, window: int) -> str:
        """The Redis key of ``key``'s count in ``window`` (its hash tag: ``key``)."""
        return f"{self.prefix}{{{key}}}:{window}"

    async def hit(self, key: str, *, window: int, weight: float, limit: int, ttl: float) -> Counts:
        """Count one request for ``key`` if the limit allows it (see ``RateLimitStore``)."""
        this_window = self._name(key, window)
        keys = [this_window, self._name(key, window - 1)] if weight else [this_window]
        # repr: the shortest text that reads back as the same double in Lua.
        args: list[int | str] = [limit, repr(weight), max(1, math.ceil(ttl * 1000))]
        reply = cast("Sequence[int]", await self._hit_script()(keys=keys, args=args))
        allowed, current, previous = reply
        return Counts(bool(allowed), int(current), int(previous))

    async def reset(self, key: str, *, window: int) -> None:
        """Forget ``key``'s counts (see ``RateLimitStore``).

        One ``DEL`` of both windows' counters: atomic, and in one Cluster slot
        (the hash tag), so a concurrent ``hit`` sees both counts or neither.
        """
        await self._client.get().delete(self._name(key, window), self._name(key, window - 1))

    async def aclose(self) -> None:
        """Close the connections the store opened; it reconnects if used again.

        A client given to the constructor is left open for its owner to close.
        """
        self._script = None  # bound to the client, which may be reopened
        await self._client.aclose()
