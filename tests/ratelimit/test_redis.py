"""RedisStore against a real Redis on 127.0.0.1:6379: sharing, expiry, scripts, failures.

The store contract itself runs against Redis and memory alike in ``test_store.py``.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.exceptions

from satchel import App, Depends, Settings
from satchel.errors import MissingDependencyError
from satchel.ratelimit import RateLimit
from satchel.ratelimit.redis import DEFAULT_URL, RedisStore
from satchel.testing import AsyncTestClient
from tests.ratelimit.test_store import Clock
from tests.services import REDIS_URL


def keys_under(prefix: str) -> dict[str, int]:
    """Every key under ``prefix`` with its time to live in milliseconds."""
    with redis.Redis.from_url(REDIS_URL, decode_responses=True) as client:
        return {key: client.pttl(key) for key in client.scan_iter(match=f"{prefix}*")}


def test_two_clients_share_counters_without_over_admitting(redis_prefix: str) -> None:
    # Two stores on their own connections stand for two worker processes.
    async def main() -> int:
        given = redis.asyncio.Redis.from_url(REDIS_URL)
        stores = [
            RedisStore(REDIS_URL, prefix=redis_prefix),
            RedisStore(client=given, prefix=redis_prefix),
        ]
        limits = [RateLimit(30, 60, store=store, scope="api") for store in stores]
        try:
            results = await asyncio.gather(*(limits[n % 2].hit("client") for n in range(100)))
        finally:
            for store in stores:
                await store.aclose()
            await given.aclose()
        return sum(result.allowed for result in results)

    assert asyncio.run(main()) == 30


def test_worker_processes_share_a_limiter_by_its_default_scope(
    redis_prefix: str, tmp_path: Path
) -> None:
    # The same code in two processes names its limiter alike, with no scope given.
    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import asyncio
            from satchel.ratelimit import RateLimit
            from satchel.ratelimit.redis import RedisStore

            async def main():
                store = RedisStore({REDIS_URL!r}, prefix={redis_prefix!r})
                limit = RateLimit(3, 60, store=store, clock=lambda: 6000.0)
                results = [await limit.hit("client") for _ in range(2)]
                await store.aclose()
                print(" ".join(str(r.allowed) for r in results), limit.scope)

            asyncio.run(main())
            """
        )
    )
    outputs = [
        subprocess.check_output([sys.executable, str(script)], text=True).split() for _ in range(2)
    ]
    assert outputs[0][:2] == ["True", "True"]
    assert outputs[1][:2] == ["True", "False"]
    assert outputs[0][2] == outputs[1][2] == "__main__:8"


def test_counters_expire_when_no_longer_needed(redis_prefix: str) -> None:
    clock = Clock(6000.0)  # a window's start

    async def main() -> None:
        store = RedisStore(REDIS_URL, prefix=redis_prefix)
        try:
            sliding = RateLimit(2, 100, store=store, scope="s", clock=clock)
            fixed = RateLimit(2, 100, store=store, scope="f", clock=clock, algorithm="fixed")
            for limit in (sliding, fixed):
                for _ in range(3):
                    await limit.hit("client")
        finally:
            await store.aclose()

    asyncio.run(main())
    ttls = keys_under(redis_prefix)
    # One counter per limiter (refused requests write nothing); the client's key is
    # hashed; the {...} hash tag keeps a key's windows in one Redis Cluster slot.
    assert len(ttls) == 2
    named = {
        re.sub("[0-9a-f]{32}", "HASH", key.removeprefix(redis_prefix)): ttl
        for key, ttl in ttls.items()
    }
    assert set(named) == {"{s:HASH}:60", "{f:HASH}:60"}
    # A sliding window's count is the next window's "previous": it outlives its window.
    assert 100_000 < named["{s:HASH}:60"] <= 200_000
    assert 0 < named["{f:HASH}:60"] <= 100_000


def test_reset_deletes_both_windows_counters(redis_prefix: str) -> None:
    clock = Clock(6050.0)  # half-way through window 60

    async def main() -> None:
        store = RedisStore(REDIS_URL, prefix=redis_prefix)
        try:
            limit = RateLimit(5, 100, store=store, scope="r", clock=clock)
            await limit.hit("client")
            await limit.hit("kept")
            clock.now += 100  # window 61: the first count is now the previous one
            await limit.hit("client")
            assert len(keys_under(redis_prefix)) == 3
            await limit.reset("client")
        finally:
            await store.aclose()

    asyncio.run(main())
    # Only the other key's counter is left.
    (left,) = keys_under(redis_prefix)
    assert left.endswith(":60")


def test_the_script_is_loaded_again_after_redis_forgets_it(redis_prefix: str) -> None:
    async def main() -> list[int]:
        store = RedisStore(REDIS_URL, prefix=redis_prefix)
        admin = redis.asyncio.Redis.from_url(REDIS_URL)
        limit = RateLimit(5, 60, store=store, scope="flush")
        try:
            remaining = [(await limit.hit("client")).remaining]
            await admin.script_flush()  # as after a Redis restart: EVALSHA answers NOSCRIPT
            remaining.append((await limit.hit("client")).remaining)
        finally:
            await store.aclose()
            await admin.aclose()
        return remaining

    assert asyncio.run(main()) == [4, 3]


def test_a_limit_shared_by_two_apps_through_the_test_client(redis_prefix: str) -> None:
    def build(store: RedisStore) -> App[Any]:
        app = App(settings=Settings())
        limit = RateLimit(3, 60, store=store, scope="search")

        @app.get("/search", dependencies=[Depends(limit)])
        async def search() -> str:
            return "results"

        return app

    async def main() -> list[int]:
        store = RedisStore(REDIS_URL, prefix=redis_prefix)
        statuses = []
        try:
            for app in (build(store), build(store), build(store), build(store)):
                async with AsyncTestClient(app) as client:
                    response = await client.get("/search")
                    statuses.append(response.status_code)
            assert response.headers["retry-after"].isdigit()
            assert response.headers["content-type"] == "application/problem+json"
        finally:
            await store.aclose()
        return statuses

    assert asyncio.run(main()) == [200, 200, 200, 429]


def test_a_burst_of_requests_opens_a_bounded_number_of_connections(redis_prefix: str) -> None:
    # Every request counts against Redis: a flood must not open a connection per request
    # (and exhaust Redis' maxclients for every other worker); it waits for a free one.
    name = f"satchel-burst-{uuid.uuid4().hex[:12]}"

    def connections() -> int:
        with redis.Redis.from_url(REDIS_URL) as admin:
            return sum(1 for client in admin.client_list() if client["name"] == name)

    async def main() -> tuple[int, int]:
        store = RedisStore(f"{REDIS_URL}?client_name={name}&max_connections=8", prefix=redis_prefix)
        limit = RateLimit(1000, 60, store=store, scope="burst")
        try:
            results = await asyncio.gather(*(limit.hit(f"client{n}") for n in range(300)))
            return sum(result.allowed for result in results), connections()
        finally:
            await store.aclose()

    admitted, opened = asyncio.run(main())
    assert admitted == 300
    assert 1 <= opened <= 8


def test_an_unreachable_redis_fails_the_request(caplog: pytest.LogCaptureFixture) -> None:
    # A limit that cannot be checked is not lifted: the request fails instead.
    store = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    limit = RateLimit(3, 60, store=store)
    app = App(settings=Settings())

    @app.get("/", dependencies=[Depends(limit)])
    async def index() -> str:
        return "not without its limit"

    async def main() -> int:
        try:
            with pytest.raises(redis.exceptions.ConnectionError):
                await limit.hit("client")
            async with AsyncTestClient(app) as client:
                return (await client.get("/")).status_code
        finally:
            await store.aclose()

    assert asyncio.run(main()) == 500
    assert "ConnectionError" in caplog.text


def test_url_or_client() -> None:
    assert RedisStore().url == DEFAULT_URL == "redis://127.0.0.1:6379/0"
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    with pytest.raises(ValueError, match="not both"):
        RedisStore(REDIS_URL, client=client)


def test_a_given_client_stays_open(redis_prefix: str) -> None:
    async def main() -> bool:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        store = RedisStore(client=client, prefix=redis_prefix)
        await RateLimit(1, 60, store=store).hit("client")
        await store.aclose()
        try:
            return bool(await client.ping())
        finally:
            await client.aclose()

    assert asyncio.run(main())


def test_without_redis_installed_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.delitem(sys.modules, "satchel.ratelimit.redis")
    with pytest.raises(MissingDependencyError, match=r"pip install 'satchel\[redis\]'"):
        importlib.import_module("satchel.ratelimit.redis")


@pytest.mark.parametrize(
    ("code", "output"),
    [
        ("import satchel; print('satchel.ratelimit' in sys.modules)", "False"),
        ("import satchel.ratelimit; print('redis' in sys.modules)", "False"),
        (
            "import satchel.ratelimit as r; r.RateLimit(1, 1); r.MemoryStore();"
            " print('redis' in sys.modules)",
            "False",
        ),
        (
            "import satchel.ratelimit as r; store = r.RedisStore;"
            " print('redis' in sys.modules, store.__module__)",
            "True satchel.ratelimit.redis",
        ),
    ],
)
def test_redis_loads_only_with_the_redis_store(code: str, output: str) -> None:
    result = subprocess.check_output([sys.executable, "-c", f"import sys; {code}"], text=True)
    assert result.strip() == output


def test_unknown_names_are_attribute_errors() -> None:
    import satchel.ratelimit

    with pytest.raises(AttributeError, match="RedisCache"):
        satchel.ratelimit.RedisCache  # type: ignore[attr-defined]  # noqa: B018
