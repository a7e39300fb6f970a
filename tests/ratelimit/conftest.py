"""The stores the rate-limit tests run against: in memory and a real Redis on 127.0.0.1:6379.

Every Redis test writes under its own random prefix and deletes what it wrote. Without
a Redis those tests skip, unless ``CI`` is set: there they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import redis
import redis.exceptions

from satchel.ratelimit import MemoryStore, RateLimitStore
from satchel.ratelimit.redis import RedisStore

REDIS_URL = os.environ.get("SATCHEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

#: Opens a store on the running event loop and closes it on leaving.
StoreFactory = Callable[[], AbstractAsyncContextManager[RateLimitStore]]


def require_redis() -> None:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as client:
            client.ping()
    except redis.exceptions.ConnectionError:
        message = f"Redis is not running at {REDIS_URL} (scripts/services starts it)"
        if os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}:
            pytest.fail(f"{message}; Redis tests must run in CI", pytrace=False)
        pytest.skip(f"{message}; set CI=1 to make this a failure")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A prefix no other test run uses; every key under it is deleted afterwards."""
    require_redis()
    prefix = f"satchel:test:ratelimit:{uuid.uuid4().hex}:"
    yield prefix
    with redis.Redis.from_url(REDIS_URL) as client:
        leftovers = list(client.scan_iter(match=f"{prefix}*"))
        if leftovers:
            client.delete(*leftovers)


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> StoreFactory:
    """Each test taking it runs once per store; Redis stores of one test share counters."""
    if request.param == "memory":
        store = MemoryStore()

        @asynccontextmanager
        async def memory() -> AsyncIterator[RateLimitStore]:
            yield store

        return memory
    prefix: str = request.getfixturevalue("redis_prefix")

    @asynccontextmanager
    async def shared() -> AsyncIterator[RateLimitStore]:
        store = RedisStore(REDIS_URL, prefix=prefix)
        try:
            yield store
        finally:
            await store.aclose()

    return shared
