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

__all__ = ["DEFAULT_URL", "TIMEOUT_S", "redis_client"]

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
