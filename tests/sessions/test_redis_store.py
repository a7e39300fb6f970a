"""RedisStore against a real Redis on 127.0.0.1:6379 (``scripts/services`` starts one).

Every test writes under its own random prefix and deletes what it wrote. Without a
Redis the tests skip, unless ``CI`` is set: there they fail.
"""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator

import pytest
import redis
import redis.asyncio
import redis.exceptions

import satchel.sessions
from satchel.errors import MissingDependencyError
from satchel.sessions.redis import RedisStore
from tests.servers import free_port
from tests.services import REDIS_URL, redis_keys_under_fresh_prefix
from tests.sessions import store_contract as contract
from tests.sessions.store_contract import KEY, eventually_gone


@pytest.fixture
def prefix() -> Iterator[str]:
    """A prefix no other test run uses; every key under it is deleted afterwards."""
    yield from redis_keys_under_fresh_prefix("sessions")


def run(prefix: str, body: Callable[[RedisStore], Awaitable[object]]) -> None:
    """Run ``body`` with a store under ``prefix``, closed afterwards."""

    async def main() -> None:
        store = RedisStore(REDIS_URL, prefix=prefix)
        try:
            await body(store)
        finally:
            await store.aclose()

    asyncio.run(main())


def test_save_load_replace_delete(prefix: str) -> None:
    async def body(store: RedisStore) -> None:
        assert await store.load(KEY) is None
        await store.save(KEY, b"first", 3600)
        assert await store.load(KEY) == b"first"
        await store.save(KEY, b"second", 3600)
        assert await store.load(KEY) == b"second"
        await store.delete(KEY)
        assert await store.load(KEY) is None
        await store.delete(KEY)  # absent: no error

    run(prefix, body)


def test_saving_an_existing_session_only_replaces_a_live_one(prefix: str) -> None:
    run(prefix, contract.saving_an_existing_session_only_replaces_a_live_one)


def test_binary_data_round_trips(prefix: str) -> None:
    run(prefix, contract.binary_data_round_trips)


def test_keys_live_under_the_prefix_with_a_ttl(prefix: str) -> None:
    run(prefix, lambda store: store.save(KEY, b"data", 100))
    with redis.Redis.from_url(REDIS_URL) as client:
        assert client.get(f"{prefix}{KEY}") == b"data"
        assert 0 < client.ttl(f"{prefix}{KEY}") <= 100


def test_prefixes_keep_stores_apart(prefix: str) -> None:
    async def body(store: RedisStore) -> None:
        other = RedisStore(REDIS_URL, prefix=f"{prefix}other:")
        try:
            await store.save(KEY, b"mine", 60)
            assert await other.load(KEY) is None
            await other.delete(KEY)
            assert await store.load(KEY) == b"mine"
        finally:
            await other.aclose()

    run(prefix, body)


def test_expired_sessions_are_gone(prefix: str) -> None:
    async def body(store: RedisStore) -> None:
        await store.save(KEY, b"short", 1)
        await store.save("long", b"kept", 3600)
        assert await eventually_gone(store, KEY)
        assert await store.load("long") == b"kept"

    run(prefix, body)


@pytest.mark.parametrize("key", contract.REFUSED_KEYS)
def test_keys_that_are_not_session_ids_are_refused(prefix: str, key: str) -> None:
    run(prefix, lambda store: contract.keys_that_are_not_session_ids_are_refused(store, key))
    with redis.Redis.from_url(REDIS_URL) as client:
        assert list(client.scan_iter(match=f"{prefix}*")) == []


def test_a_refused_key_is_not_repeated_in_the_error(prefix: str) -> None:
    run(prefix, contract.a_refused_key_is_not_repeated_in_the_error)


def test_the_longest_key_is_accepted(prefix: str) -> None:
    run(prefix, contract.the_longest_key_is_accepted)


@pytest.mark.parametrize("ttl", [0, -1])
def test_a_ttl_under_one_second_forgets_the_session(prefix: str, ttl: int) -> None:
    run(prefix, lambda store: contract.a_ttl_under_one_second_forgets_the_session(store, ttl))


def test_parallel_saves_and_loads(prefix: str) -> None:
    run(prefix, lambda store: contract.parallel_saves_and_loads(store, 200))


def test_a_given_client_is_used_and_left_open(prefix: str) -> None:
    async def main() -> None:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        try:
            store = RedisStore(client=client, prefix=prefix)
            await store.save(KEY, b"data", 60)
            await store.aclose()
            assert await client.get(f"{prefix}{KEY}") == b"data"
        finally:
            await client.aclose()

    asyncio.run(main())


def test_an_owned_client_reconnects_after_aclose(prefix: str) -> None:
    async def body(store: RedisStore) -> None:
        await store.save(KEY, b"data", 60)
        await store.aclose()
        await store.aclose()  # twice: no error
        assert await store.load(KEY) == b"data"

    run(prefix, body)


def test_url_and_client_together_are_refused() -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    with pytest.raises(ValueError, match="not both"):
        RedisStore(REDIS_URL, client=client)


def test_a_decoding_client_is_refused() -> None:
    client = redis.asyncio.Redis.from_url(REDIS_URL, decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses=False"):
        RedisStore(client=client)


def test_the_default_url_is_local() -> None:
    assert RedisStore().url == "redis://127.0.0.1:6379/0"
    assert RedisStore().prefix == "satchel:session:"


def test_redis_down_raises_a_connection_error() -> None:
    async def main() -> None:
        store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
        try:
            with pytest.raises(redis.exceptions.ConnectionError):
                await store.load(KEY)
            with pytest.raises(redis.exceptions.ConnectionError):
                await store.save(KEY, b"x", 60)
            with pytest.raises(redis.exceptions.ConnectionError):
                await store.delete(KEY)
        finally:
            await store.aclose()

    asyncio.run(main())


def test_without_redis_installed_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.delitem(sys.modules, "satchel.sessions.redis")
    with pytest.raises(MissingDependencyError, match=r"pip install 'satchel\[redis\]'"):
        importlib.import_module("satchel.sessions.redis")


def test_the_sessions_package_names_it() -> None:
    assert satchel.sessions.RedisStore is RedisStore


def test_importing_the_sessions_package_does_not_import_redis() -> None:
    code = "import sys, satchel, satchel.sessions; print('redis' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"
