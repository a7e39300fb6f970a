"""The store contract, run against MemoryStore and RedisStore alike (see conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from satchel.ratelimit import Counts, MemoryStore, RateLimit, RateLimitResult, RateLimitStore
from tests.ratelimit.conftest import StoreFactory


class Clock:
    """A clock the test moves by hand: no sleeping, no timing."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def run(make_store: StoreFactory, body: Callable[[RateLimitStore], Awaitable[None]]) -> None:
    async def main() -> None:
        async with make_store() as store:
            await body(store)

    asyncio.run(main())


def test_fixed_window_admits_exactly_limit(make_store: StoreFactory) -> None:
    async def body(store: RateLimitStore) -> None:
        hit = [await store.hit("k", window=7, weight=0, limit=3, ttl=60) for _ in range(5)]
        assert hit == [
            Counts(True, 1, 0),
            Counts(True, 2, 0),
            Counts(True, 3, 0),
            Counts(False, 3, 0),  # refused requests are not counted
            Counts(False, 3, 0),
        ]
        # The next window starts afresh; a fixed window never reads the previous one.
        assert await store.hit("k", window=8, weight=0, limit=3, ttl=60) == Counts(True, 1, 0)

    run(make_store, body)


def test_sliding_window_weighs_the_previous_one(make_store: StoreFactory) -> None:
    async def body(store: RateLimitStore) -> None:
        for _ in range(4):
            await store.hit("k", window=1, weight=0.9, limit=4, ttl=60)
        # Half of the previous window's 4 still counts: room for 2 more.
        hits = [await store.hit("k", window=2, weight=0.5, limit=4, ttl=60) for _ in range(3)]
        assert hits == [Counts(True, 1, 4), Counts(True, 2, 4), Counts(False, 2, 4)]
        # A window later the count of window 1 is no longer anyone's previous.
        assert await store.hit("k", window=3, weight=0.5, limit=4, ttl=60) == Counts(True, 1, 2)
        assert await store.hit("k", window=5, weight=1.0, limit=4, ttl=60) == Counts(True, 1, 0)

    run(make_store, body)


def test_keys_are_counted_apart(make_store: StoreFactory) -> None:
    async def body(store: RateLimitStore) -> None:
        assert (await store.hit("a", window=1, weight=0, limit=1, ttl=60)).allowed
        assert not (await store.hit("a", window=1, weight=0, limit=1, ttl=60)).allowed
        assert (await store.hit("b", window=1, weight=0, limit=1, ttl=60)).allowed

    run(make_store, body)


def test_reset_forgets_the_current_and_previous_windows(make_store: StoreFactory) -> None:
    async def body(store: RateLimitStore) -> None:
        for _ in range(3):
            await store.hit("k", window=1, weight=0, limit=3, ttl=60)
        await store.hit("k", window=2, weight=0.5, limit=3, ttl=60)  # 1 + floor(1.5) = 2
        await store.hit("other", window=2, weight=0, limit=1, ttl=60)
        await store.reset("k", window=2)
        # Neither window counts any more: a full limit again, previous count 0.
        hits = [await store.hit("k", window=2, weight=0.5, limit=3, ttl=60) for _ in range(4)]
        assert [(c.allowed, c.current, c.previous) for c in hits] == [
            (True, 1, 0),
            (True, 2, 0),
            (True, 3, 0),
            (False, 3, 0),
        ]
        # Other keys keep their counts; forgetting an unknown key is no error.
        assert not (await store.hit("other", window=2, weight=0, limit=1, ttl=60)).allowed
        await store.reset("never-counted", window=2)

    run(make_store, body)


def test_a_limiter_reset_gives_one_key_its_full_limit(make_store: StoreFactory) -> None:
    async def body(store: RateLimitStore) -> None:
        clock = Clock(1005.0)  # half-way through a 10 s window
        limit = RateLimit(2, 10, store=store, scope="reset", clock=clock)
        for key in ("alice", "bob"):
            await limit.hit(key)
            await limit.hit(key)
        clock.now += 6  # 1 s into the next window: alice's two count 0.9 each
        assert [(await limit.hit("alice")).allowed for _ in range(2)] == [True, False]
        await limit.reset("alice")
        assert [(await limit.hit("alice")).allowed for _ in range(3)] == [True, True, False]
        # bob's count is untouched: as alice's before the reset.
        assert [(await limit.hit("bob")).allowed for _ in range(2)] == [True, False]

    run(make_store, body)


def test_a_limiter_peek_answers_as_a_hit_would_and_counts_nothing(
    make_store: StoreFactory,
) -> None:
    async def body(store: RateLimitStore) -> None:
        clock = Clock(1005.0)
        limit = RateLimit(2, 10, store=store, scope="peek", clock=clock)
        for _ in range(5):
            assert (await limit.peek("alice")).allowed  # however often: nothing counted
        await limit.hit("alice")
        await limit.hit("alice")
        refused = await limit.peek("alice")
        assert not refused.allowed
        assert refused.retry_after == (await limit.hit("alice")).retry_after
        clock.now += 6  # 1 s into the next window: alice's two count 0.9 each, so 1
        assert (await limit.peek("alice")).allowed
        assert [(await limit.hit("alice")).allowed for _ in range(2)] == [True, False]

    run(make_store, body)


def test_concurrent_hits_and_a_reset_never_over_admit(make_store: StoreFactory) -> None:
    async def body(store: RateLimitStore) -> None:
        def hit() -> Awaitable[Counts]:
            return store.hit("k", window=1, weight=0, limit=5, ttl=60)

        racing = await asyncio.gather(
            *(hit() for _ in range(10)), store.reset("k", window=1), *(hit() for _ in range(10))
        )
        later = [await hit() for _ in range(10)]
        admitted = sum(c.allowed for c in [*racing, *later] if isinstance(c, Counts))
        # At most one limit's worth before the reset and one after it, in any order.
        assert 5 <= admitted <= 10
        assert not later[-1].allowed

    run(make_store, body)


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_concurrent_hits_never_over_admit(make_store: StoreFactory, weight: float) -> None:
    async def body(store: RateLimitStore) -> None:
        for _ in range(4):  # in the previous window
            await store.hit("k", window=0, weight=0, limit=10, ttl=60)
        hits = await asyncio.gather(
            *(store.hit("k", window=1, weight=weight, limit=10, ttl=60) for _ in range(50))
        )
        admitted = sum(counts.allowed for counts in hits)
        assert admitted == (10 if weight == 0 else 8)  # floor(0.5 * 4) + 8 = 10
        assert sorted(c.current for c in hits if c.allowed) == list(range(1, admitted + 1))

    run(make_store, body)


def test_concurrent_requests_through_a_limiter(make_store: StoreFactory) -> None:
    async def body(store: RateLimitStore) -> None:
        limit = RateLimit(25, 60, store=store, scope="gather")
        results = await asyncio.gather(*(limit.hit("client") for _ in range(100)))
        assert sum(result.allowed for result in results) == 25

    run(make_store, body)


def _result(allowed: bool, remaining: int, reset: int) -> RateLimitResult:
    return RateLimitResult(allowed, 3, remaining, reset, None if allowed else reset)


def test_the_stores_decide_alike_fixed(make_store: StoreFactory) -> None:
    clock = Clock(1000.5)  # 0.5 s into a 10 s window

    async def body(store: RateLimitStore) -> None:
        limit = RateLimit(3, 10, algorithm="fixed", store=store, scope="fixed", clock=clock)
        results = [await limit.hit("client") for _ in range(4)]
        clock.now = 1009.9
        results.append(await limit.hit("client"))
        clock.now = 1010.0  # the next window
        results.append(await limit.hit("client"))
        assert results == [
            _result(True, 2, 10),
            _result(True, 1, 10),
            _result(True, 0, 10),
            _result(False, 0, 10),
            _result(False, 0, 1),
            _result(True, 2, 10),
        ]

    run(make_store, body)


def test_the_stores_decide_alike_sliding(make_store: StoreFactory) -> None:
    clock = Clock(1009.0)  # the last second of a 10 s window

    async def body(store: RateLimitStore) -> None:
        limit = RateLimit(3, 10, store=store, scope="sliding", clock=clock)
        results = [await limit.hit("client") for _ in range(4)]
        clock.now = 1012.0  # 2 s on: 80% of the 3 still count, floor(2.4) = 2
        results += [await limit.hit("client") for _ in range(2)]
        clock.now = 1014.0  # 60%: floor(1.8) = 1
        results += [await limit.hit("client") for _ in range(2)]
        assert results == [
            _result(True, 2, 1),
            _result(True, 1, 1),
            _result(True, 0, 1),
            # Full: once the next window starts, 3 * (1 - t/10) < 3 for any t > 0.
            _result(False, 0, 2),
            _result(True, 0, 8),  # 2 + 1 = 3 used
            # 3 * (1 - (2 + t)/10) < 2 once t > 1.33 s.
            _result(False, 0, 2),
            _result(True, 0, 6),  # 1 + 2 = 3 used
            # 3 * (1 - (4 + t)/10) < 1 once t > 2.67 s.
            _result(False, 0, 3),
        ]

    run(make_store, body)


def test_a_custom_store_sees_only_hashed_keys() -> None:
    seen: list[str] = []

    class Recording:
        async def hit(
            self, key: str, *, window: int, weight: float, limit: int, ttl: float
        ) -> Counts:
            seen.append(key)
            return Counts(True, 1, 0)

        async def reset(self, key: str, *, window: int) -> None:
            seen.append(key)

    limit = RateLimit(5, 60, store=Recording(), scope="api")
    result = asyncio.run(limit.hit("sk_live_secret"))
    asyncio.run(limit.reset("sk_live_secret"))
    assert result.allowed
    assert seen[0].startswith("api:")
    assert "sk_live_secret" not in seen[0]
    assert len(seen[0]) == len("api:") + 32
    assert seen[1] == seen[0]  # reset names the counter the way hit does


def test_a_store_refusing_without_cause_means_retry_at_once() -> None:
    class Refusing:
        async def hit(
            self, key: str, *, window: int, weight: float, limit: int, ttl: float
        ) -> Counts:
            return Counts(False, 0, 0)

        async def reset(self, key: str, *, window: int) -> None:
            raise AssertionError("not reset")

    result = asyncio.run(RateLimit(5, 60, store=Refusing()).hit("client"))
    assert (result.allowed, result.retry_after) == (False, 1)


class TestMemoryBound:
    def test_max_keys_is_validated(self) -> None:
        with pytest.raises(ValueError, match="max_keys"):
            MemoryStore(max_keys=0)

    def test_rotating_keys_cannot_grow_memory(self) -> None:
        store = MemoryStore(max_keys=100)
        limit = RateLimit(5, 60, store=store)

        async def flood() -> None:
            for n in range(1000):
                assert (await limit.hit(f"198.51.100.{n}")).allowed

        asyncio.run(flood())
        assert len(store) == 100

    def test_expired_entries_go_first(self) -> None:
        store = MemoryStore(max_keys=3)

        async def body() -> None:
            await store.hit("old-1", window=1, weight=0, limit=5, ttl=0)  # expired at once
            await store.hit("old-2", window=1, weight=0, limit=5, ttl=0)
            await store.hit("live", window=1, weight=0, limit=5, ttl=60)
            await store.hit("new", window=1, weight=0, limit=5, ttl=60)
            assert len(store) == 2  # both expired ones swept, the live one kept
            assert await store.hit("live", window=1, weight=0, limit=5, ttl=60) == Counts(
                True, 2, 0
            )

        asyncio.run(body())

    def test_then_the_least_recently_used(self) -> None:
        store = MemoryStore(max_keys=2)

        async def body() -> None:
            await store.hit("a", window=1, weight=0, limit=5, ttl=60)
            await store.hit("b", window=1, weight=0, limit=5, ttl=60)
            await store.hit("a", window=1, weight=0, limit=5, ttl=60)  # a is now the newer
            await store.hit("c", window=1, weight=0, limit=5, ttl=60)  # evicts b
            assert len(store) == 2
            assert await store.hit("a", window=1, weight=0, limit=5, ttl=60) == Counts(True, 3, 0)
            assert await store.hit("b", window=1, weight=0, limit=5, ttl=60) == Counts(True, 1, 0)

        asyncio.run(body())

    def test_a_clock_stepping_back_keeps_counting(self) -> None:
        store = MemoryStore()

        async def body() -> None:
            await store.hit("k", window=5, weight=0, limit=2, ttl=60)
            await store.hit("k", window=5, weight=0, limit=2, ttl=60)
            assert await store.hit("k", window=4, weight=0, limit=2, ttl=60) == Counts(False, 2, 0)

        asyncio.run(body())
