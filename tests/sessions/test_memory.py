"""MemoryStore: expiry, bounded size, eviction order, concurrent use."""

from __future__ import annotations

import asyncio
import threading

import pytest

from satchel.sessions import MemoryStore, SessionStore
from tests.sessions.support import Clock


def test_is_a_session_store() -> None:
    store: SessionStore = MemoryStore()
    assert isinstance(store, MemoryStore)


def test_save_load_delete() -> None:
    async def main() -> None:
        store = MemoryStore()
        assert await store.load("k") is None
        await store.save("k", b"one", 60)
        await store.save("k", b"two", 60)
        assert await store.load("k") == b"two"
        await store.delete("k")
        await store.delete("k")  # absent: no error
        assert await store.load("k") is None
        assert len(store) == 0

    asyncio.run(main())


def test_entries_expire() -> None:
    async def main() -> None:
        clock = Clock(100.0)
        store = MemoryStore(clock=clock)
        await store.save("k", b"data", 10)
        clock.advance(9.5)
        assert await store.load("k") == b"data"
        clock.advance(0.5)
        assert await store.load("k") is None
        assert len(store) == 0  # an expired entry found is dropped
        await store.save("gone", b"data", 0)
        assert await store.load("gone") is None
        assert len(store) == 0

    asyncio.run(main())


def test_saving_an_existing_entry_only_replaces_a_live_one() -> None:
    async def main() -> None:
        clock = Clock(100.0)
        store = MemoryStore(clock=clock)
        assert await store.save("k", b"one", 10) is True
        assert await store.save("k", b"two", 10, existing=True) is True
        assert await store.load("k") == b"two"
        await store.delete("k")  # a concurrent logout
        assert await store.save("k", b"three", 10, existing=True) is False
        assert await store.load("k") is None
        await store.save("short", b"one", 5)
        clock.advance(5)
        assert await store.save("short", b"two", 10, existing=True) is False
        assert await store.load("short") is None
        assert len(store) == 0

    asyncio.run(main())


def test_a_full_store_evicts_expired_entries_first_then_the_oldest() -> None:
    async def main() -> None:
        clock = Clock(0.0)
        store = MemoryStore(max_entries=3, clock=clock)
        await store.save("old", b"", 1000)
        await store.save("short", b"", 5)
        await store.save("newer", b"", 1000)
        clock.advance(10)
        await store.save("new", b"", 1000)  # "short" has expired: it goes
        assert [await store.load(k) is not None for k in ("old", "newer", "new")] == [True] * 3
        await store.save("old", b"resaved", 1000)  # saving again makes it the newest
        await store.save("newest", b"", 1000)  # nothing expired: the oldest ("newer") goes
        assert await store.load("newer") is None
        assert await store.load("old") == b"resaved"
        assert len(store) == 3

    asyncio.run(main())


def test_memory_stays_bounded_whatever_clients_send() -> None:
    async def main() -> None:
        store = MemoryStore(max_entries=100)
        for index in range(10_000):
            await store.save(f"key{index}", b"x" * 10, 3600)
        assert len(store) == 100
        assert await store.load("key9999") == b"x" * 10
        assert await store.load("key0") is None

    asyncio.run(main())


def test_max_entries_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        MemoryStore(max_entries=0)


def test_concurrent_use_from_threads_and_tasks() -> None:
    store = MemoryStore(max_entries=500)
    errors: list[BaseException] = []

    async def worker(name: str) -> None:
        for index in range(200):
            key = f"{name}-{index % 50}"
            await store.save(key, key.encode(), 60)
            value = await store.load(key)
            assert value in (None, key.encode())  # evicted, or ours: never another's
            if index % 3 == 0:
                await store.delete(key)

    def thread(name: str) -> None:
        async def tasks() -> None:
            await asyncio.gather(*(worker(f"{name}.{t}") for t in range(5)))

        try:
            asyncio.run(tasks())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=thread, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store) <= 500
