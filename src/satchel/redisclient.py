"""The Redis client Satchel's Redis stores (sessions, rate limits) open for a URL.

Needs the ``redis`` extra (``pip install 'satchel[redis]'``); importing this module
without it raises ``MissingDependencyError``. Only those stores import it.
"""

from __future__ import annotations

from satchel.errors import MissingDependencyError

try:
    import redis.asyncio as aioredis
except ImportError as exc:
    raise MissingDependencyError("redis", "redis") from exc

__all__ = ["DEFAULT_URL", "TIMEOUT_S", "StoreClient", "redis_client"]

#: Where a store connects when given neither a URL nor a client.
DEFAULT_URL = "redis://127.0.0.1:6379/0"
#: How long a command waits for a free connection, a connection to open, or an answer.
TIMEOUT_S = 5.0


def redis_client(url: str) -> aioredis.Redis:
    """A client for ``url`` on a bounded pool; it connects on first use.

    At most 50 connections per process (``?max_connections=`` in the URL), for which
    a command waits up to :data:`TIMEOUT_S` seconds (``?timeout=``): a burst of
    requests waits its turn instead of opening a connection each, which could use up
    Redis' ``maxclients`` for every worker. A Redis that stops answering fails the
    command after :data:`TIMEOUT_S` seconds (``?socket_timeout=``) rather than hold
    the request forever. Options in the URL win over these defaults.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url, timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
    )
    return aioredis.Redis.from_pool(pool)


class StoreClient:
    """A Redis store's client: the one its caller gave, or one opened for a URL on first use.

    Only the client opened here is closed by :meth:`aclose`; a given one belongs to
    its caller.

    Args:
        store: The store's class name, for the error message.
        url: The URL to open a client for (``DEFAULT_URL`` when None).
        client: A client to use instead.

    Raises:
        ValueError: Both ``url`` and ``client`` were given.
    """

    def __init__(self, store: str, url: str | None, client: aioredis.Redis | None) -> None:
        if url is not None and client is not None:
            raise ValueError(f"give {store} a url or a client, not both")
        self._url = DEFAULT_URL if url is None else url
        self._given = client
        self._opened: aioredis.Redis | None = None

    def get(self) -> aioredis.Redis:
        """The client, opening one for the URL the first time (again after ``aclose``)."""
        if self._given is not None:
            return self._given
        if self._opened is None:
            self._opened = redis_client(self._url)
        return self._opened

    async def aclose(self) -> None:
        """Close the client opened here, if any; a given client is left open."""
        opened, self._opened = self._opened, None
        if opened is not None:
            await opened.aclose()
