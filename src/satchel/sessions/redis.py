"""A session store in Redis (redis-py's asyncio client), shared by every worker and machine.

Needs the ``redis`` extra (``pip install 'satchel[redis]'``); importing this module
without it raises ``MissingDependencyError``. ``import satchel.sessions`` does not
import it: it loads on first use of ``satchel.sessions.RedisStore``.

Each session is one Redis string, ``prefix + key``, written with ``SET ... EX ttl``,
so Redis itself forgets it when the time is up; there is nothing to purge. When
Redis cannot be reached, every method raises ``redis.exceptions.ConnectionError``
(a ``redis.exceptions.RedisError``, not the built-in ``ConnectionError``); the
request then fails with a server error rather than running without its session.
"""

from __future__ import annotations

from typing import cast

from satchel.errors import MissingDependencyError

try:
    import redis.asyncio as aioredis
except ImportError as exc:
    raise MissingDependencyError("redis", "redis") from exc

from satchel.redisclient import DEFAULT_URL, StoreClient
from satchel.sessions.store import check_session_key

__all__ = ["DEFAULT_URL", "RedisStore"]


class RedisStore:
    """Server-side sessions in Redis; implements ``SessionStore``.

    Args:
        url: A redis-py URL (``redis://``, ``rediss://`` for TLS, ``unix://``);
            defaults to ``DEFAULT_URL``. The connection pool is created on first use:
            at most 50 connections (``?max_connections=`` in the URL), for which a
            request waits up to 5 seconds (``?timeout=``).
        client: A ``redis.asyncio.Redis`` to use instead of ``url``. The caller owns
            it: ``aclose()`` leaves it open. It must not decode responses; give it a
            ``BlockingConnectionPool``, or a burst past its ``max_connections`` fails.
        prefix: Put before every key, keeping sessions apart from other data in
            the same database.

    Raises:
        ValueError: Both ``url`` and ``client`` were given, or the client decodes
            responses (sessions are bytes).

    >>> store = RedisStore("redis://cache.internal:6379/2", prefix="shop:session:")
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        prefix: str = "satchel:session:",
    ) -> None:
        self._client = StoreClient("RedisStore", url, client)
        if client is not None and client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisStore needs a client with decode_responses=False")
        self.url = DEFAULT_URL if url is None and client is None else url
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return self.prefix + check_session_key(key)

    async def load(self, key: str) -> bytes | None:
        """The data saved under ``key``, or None when absent or expired."""
        data = await self._client.get().get(self._name(key))
        return cast("bytes | None", data)  # not str: responses are never decoded (see __init__)

    async def save(self, key: str, data: bytes, ttl: int, *, existing: bool = False) -> bool:
        """Save ``data`` under ``key``, replacing it; Redis drops it after ``ttl`` seconds.

        With ``existing=True``, only if ``key`` is still there (``SET ... XX``, atomic).
        A ``ttl`` under one second keeps nothing: ``key`` is forgotten, as in ``MemoryStore``.

        Returns:
            Whether ``data`` was saved.

        Raises:
            ValueError: ``key`` is not a session id.
        """
        if ttl < 1:
            await self.delete(key)
            return False
        return bool(await self._client.get().set(self._name(key), data, ex=ttl, xx=existing))

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        await self._client.get().delete(self._name(key))

    async def aclose(self) -> None:
        """Close the connections the store opened; it reconnects if used again.

        A client given to the constructor is left open for its owner to close.
        """
        await self._client.aclose()
