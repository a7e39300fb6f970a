"""Rate limiting per route or router, by client address or any key; memory or Redis counters.

>>> from satchel import App, Depends
>>> limit = RateLimit(100, 60)  # 100 requests a minute per client address
>>> app = App()
>>> @app.get("/search", dependencies=[Depends(limit)])
... async def search() -> str:
...     return "results"

``RedisStore`` (needs the ``redis`` extra) loads on first use, so that importing
this package does not import redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from satchel.lazyexports import lazy_exports as _lazy_exports
from satchel.ratelimit.limiter import (
    Algorithm,
    KeyFunction,
    RateLimit,
    RateLimitResult,
    client_address,
)
from satchel.ratelimit.store import Counts, MemoryStore, RateLimitStore

if TYPE_CHECKING:
    from satchel.ratelimit.redis import RedisStore

__all__ = [
    "Algorithm",
    "Counts",
    "KeyFunction",
    "MemoryStore",
    "RateLimit",
    "RateLimitResult",
    "RateLimitStore",
    "RedisStore",
    "client_address",
]

if not TYPE_CHECKING:  # hidden from type checkers: a typo stays a typing error
    # PEP 562: the Redis store, and redis with it, load only when asked for.
    __getattr__ = _lazy_exports(__name__, globals(), {"RedisStore": "satchel.ratelimit.redis"})
