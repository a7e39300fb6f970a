"""What every server-side session store must do, checked the same way for each store.

The Redis and database store tests run these checks on a fresh store and add only
what is particular to their store (keys in Redis, rows in the table).
"""

from __future__ import annotations

import asyncio
import os

import pytest

from satchel.sessions.store import SessionStore

__all__ = [
    "EXPIRY_BOUND_S",
    "KEY",
    "REFUSED_KEYS",
    "a_refused_key_is_not_repeated_in_the_error",
    "a_ttl_under_one_second_forgets_the_session",
    "binary_data_round_trips",
    "eventually_gone",
    "keys_that_are_not_session_ids_are_refused",
    "parallel_saves_and_loads",
    "saving_an_existing_session_only_replaces_a_live_one",
    "the_longest_key_is_accepted",
]

KEY = "uYx3m8QmJv0c5_0ZlJ6s-4N8r9kq1dWZs2a7Xb3cVtE"  # like secrets.token_urlsafe(32)
# Generous: only a machine that stalls this long makes an expiry test fail.
EXPIRY_BOUND_S = 30.0
REFUSED_KEYS = [
    "",
    "a b",
    "a*",
    "a:b",
    "../a",
    "a'--",
    "a\nb",
    "a\x00",
    "é",
    "a=",
    "a/b",
    "k" * 129,
]


async def eventually_gone(store: SessionStore, key: str) -> bool:
    """Whether ``key`` disappears within ``EXPIRY_BOUND_S``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXPIRY_BOUND_S
    while loop.time() < deadline:
        if await store.load(key) is None:
            return True
        await asyncio.sleep(0.1)
    return False


async def saving_an_existing_session_only_replaces_a_live_one(store: SessionStore) -> None:
    assert await store.save(KEY, b"first", 3600) is True
    assert await store.save(KEY, b"second", 3600, existing=True) is True
    assert await store.load(KEY) == b"second"
    await store.delete(KEY)  # a concurrent logout
    assert await store.save(KEY, b"third", 3600, existing=True) is False
    assert await store.load(KEY) is None


async def binary_data_round_trips(store: SessionStore) -> None:
    every_byte = bytes(range(256)) * 4
    large = os.urandom(1024 * 1024)
    for index, data in enumerate([b"", b"\x00", every_byte, b"\xff\xfe' OR 1=1 --", large]):
        await store.save(f"k{index}", data, 60)
        assert await store.load(f"k{index}") == data


async def keys_that_are_not_session_ids_are_refused(store: SessionStore, key: str) -> None:
    with pytest.raises(ValueError, match="session key"):
        await store.load(key)
    with pytest.raises(ValueError, match="session key"):
        await store.save(key, b"x", 60)
    with pytest.raises(ValueError, match="session key"):
        await store.delete(key)


async def a_refused_key_is_not_repeated_in_the_error(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="session key") as caught:
        await store.load("stolen cookie value")
    assert "stolen" not in str(caught.value)


async def the_longest_key_is_accepted(store: SessionStore) -> None:
    await store.save("k" * 128, b"x", 60)
    assert await store.load("k" * 128) == b"x"


async def a_ttl_under_one_second_forgets_the_session(store: SessionStore, ttl: int) -> None:
    await store.save(KEY, b"old", 60)
    await store.save(KEY, b"new", ttl)
    assert await store.load(KEY) is None
    await store.save("other", b"x", ttl)
    assert await store.load("other") is None


async def parallel_saves_and_loads(store: SessionStore, count: int) -> None:
    keys = [f"key{number}" for number in range(count)]
    await asyncio.gather(*(store.save(key, key.encode(), 60) for key in keys))
    loaded = await asyncio.gather(*(store.load(key) for key in keys))
    assert loaded == [key.encode() for key in keys]
    # Racing writers on one key: no conflict error, one of them wins, whole.
    values = [bytes([number]) * 1000 for number in range(50)]
    await asyncio.gather(*(store.save(KEY, value, 60) for value in values))
    assert await store.load(KEY) in values
    await asyncio.gather(*(store.delete(key) for key in keys))
    assert await asyncio.gather(*(store.load(key) for key in keys)) == [None] * len(keys)
