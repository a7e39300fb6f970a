"""The stores the rate-limit tests run against: in memory and a real Redis on 127.0.0.1:6379.

Every Redis test writes under its own random prefix and deletes what it wrote. Without
a Redis those tests skip, unless ``CI`` is set: there they fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from satchel.ratelimit import MemoryStore, RateLimitStore
from satchel.ratelimit.redis import RedisStore
from tests.services import REDIS_URL, redis_keys_under_fresh_prefix

#: Opens a store on the running event loop and closes it on leaving.
StoreFactory = Callable[[], AbstractAsyncContextManager[RateLimitStore]]


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A prefix no other test run uses; every key under it is deleted afterwards."""
    yield from redis_keys_under_fresh_prefix("ratelimit")


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
