"""LoginThrottle: failures per account and address, per account, per address; memory and Redis.

The throttle is driven through a small app, so every count comes from a real request
(its client address included). Time is a clock the test moves by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from satchel import App, Request, Settings
from satchel.auth.throttle import LoginThrottle, account_key, caseless
from satchel.ratelimit import RateLimitStore
from satchel.ratelimit.redis import RedisStore
from satchel.testing import AsyncTestClient
from tests.ratelimit.conftest import StoreFactory
from tests.ratelimit.test_store import Clock
from tests.services import REDIS_URL

ALICE = ("203.0.113.5", 40000)
BOB = ("198.51.100.7", 40000)
START = 1_700_000_000.0


def throttle_app(throttle: LoginThrottle, verifying: asyncio.Event | None = None) -> App[Any]:
    """``GET /attempt?user=..&ok=..``: started first, then reported as a failure or a success.

    With ``verifying``, every admitted attempt waits for it before reporting, as a
    login waits for its password hash: attempts can then overlap.
    """
    app: App[Any] = App(settings=Settings(secret_key="throttle-test-key-" + "t" * 40))

    @app.get("/attempt")
    async def attempt(request: Request, user: str, ok: bool = False) -> int:
        wait = await throttle.attempt(request, user)
        if wait is not None:
            return wait
        if verifying is not None:
            await verifying.wait()
        if ok:
            await throttle.succeeded(request, user)
        else:
            await throttle.failed(request)
        return 0

    return app


Attempt = Callable[..., Awaitable[int]]


def scenario(
    make_store: StoreFactory,
    body: Callable[[Attempt, Clock], Awaitable[None]],
    **options: Any,
) -> None:
    """Run ``body`` with ``attempt(user, ok=False, client=ALICE)`` against a fresh throttle."""

    async def main() -> None:
        async with make_store() as store:
            clock = Clock(START)
            app = throttle_app(LoginThrottle(store, clock=clock, **options))
            clients: dict[tuple[str, int], AsyncTestClient] = {}

            async def attempt(
                user: str, *, ok: bool = False, client: tuple[str, int] = ALICE
            ) -> int:
                if client not in clients:
                    clients[client] = AsyncTestClient(app, client=client)
                params = {"user": user, "ok": "true" if ok else "false"}
                response = await clients[client].get("/attempt", params=params)
                assert response.status_code == 200, response.text
                wait: int = response.json()
                return wait

            try:
                await body(attempt, clock)
            finally:
                for client in clients.values():
                    await client.aclose()

    asyncio.run(main())


def test_account_key_folds_case_width_and_whitespace() -> None:
    variants = ["alice", "Alice", " ALICE ", "\uff21lice", "\uff41\uff4c\uff49\uff43\uff45"]
    assert {account_key(name) for name in variants} == {"alice"}
    assert account_key("Stra\u00dfe") == account_key("STRASSE")
    assert account_key("al ice") == account_key("al \t ice")
    assert account_key("alice") != account_key("alice2")


def test_an_account_is_refused_after_its_failures_until_the_window_passes(
    make_store: StoreFactory,
) -> None:
    async def body(attempt: Attempt, clock: Clock) -> None:
        assert [await attempt("alice") for _ in range(5)] == [0] * 5
        wait = await attempt("alice")
        assert 0 < wait <= 900
        assert await attempt("bob") == 0  # another account is not affected
        clock.now += wait
        assert await attempt("alice") == 0

    scenario(make_store, body)


def test_refused_attempts_are_not_counted(make_store: StoreFactory) -> None:
    async def body(attempt: Attempt, clock: Clock) -> None:
        for _ in range(3):
            await attempt("alice")
        waits = [await attempt("alice") for _ in range(20)]
        assert all(wait > 0 for wait in waits)
        # Hammering while refused did not push the retry further away.
        assert waits[-1] <= waits[0]

    scenario(make_store, body, per_account=(3, 600))


def test_variants_of_a_username_share_one_counter(make_store: StoreFactory) -> None:
    async def body(attempt: Attempt, clock: Clock) -> None:
        for name in ("Alice", "alice ", " ALICE", "\uff21lice"):
            assert await attempt(name) == 0
        assert await attempt("a l i c e") == 0  # a different name: counted apart
        assert await attempt("aLiCe") > 0

    scenario(make_store, body, per_account=(4, 900))


def test_a_success_clears_the_account_but_not_the_address(make_store: StoreFactory) -> None:
    async def body(attempt: Attempt, clock: Clock) -> None:
        for _ in range(4):
            await attempt("alice")
        assert await attempt("Alice", ok=True) == 0
        # Five more failures are allowed again for the account...
        assert [await attempt("alice") for _ in range(5)] == [0] * 5
        assert await attempt("alice") > 0
        # ...but the address kept all nine.
        assert await attempt("carol") == 0
        assert await attempt("dave") > 0

    scenario(make_store, body, per_account=(5, 900), per_address=(10, 900))


def test_an_address_is_refused_for_every_account(make_store: StoreFactory) -> None:
    async def body(attempt: Attempt, clock: Clock) -> None:
        for number in range(20):
            assert await attempt(f"user{number}") == 0
        assert await attempt("someone-else") > 0
        assert await attempt("someone-else", client=BOB) == 0
        # IPv6 clients are one address per /64.
        first, second = ("2001:db8:1:2::1", 1), ("2001:db8:1:2:ffff::9", 1)
        for number in range(20):
            await attempt(f"v6-{number}", client=first)
        assert await attempt("v6-new", client=second) > 0

    scenario(make_store, body)


def test_a_refused_account_is_refused_before_the_password_matters(
    make_store: StoreFactory,
) -> None:
    # The throttle never sees the password: a correct one is refused like any other.
    async def body(attempt: Attempt, clock: Clock) -> None:
        for _ in range(5):
            await attempt("alice")
        assert await attempt("alice", ok=True) > 0

    scenario(make_store, body)


def test_concurrent_guesses_cannot_pass_the_account_limit(make_store: StoreFactory) -> None:
    # 50 guesses at once, all started before any is known to have failed: only the
    # limit's worth may go on to have their password checked.
    async def main() -> None:
        async with make_store() as store:
            verifying = asyncio.Event()
            throttle = LoginThrottle(store, per_account=(5, 900), clock=Clock(START))
            app = throttle_app(throttle, verifying)
            async with AsyncTestClient(app, client=ALICE) as client:
                answered: list[int] = []
                refused_all = asyncio.Event()  # the 45 over the limit answer at once

                async def guess(number: int) -> int:
                    params = {"user": "alice" if number % 2 else "ALICE "}
                    result: int = (await client.get("/attempt", params=params)).json()
                    answered.append(result)
                    if len(answered) == 45:
                        refused_all.set()
                    return result

                guesses = [asyncio.ensure_future(guess(n)) for n in range(50)]
                await refused_all.wait()
                verifying.set()
                waits = await asyncio.gather(*guesses)
        assert waits.count(0) == 5

    asyncio.run(main())


def test_failures_are_kept_across_the_utc_day_boundary(make_store: StoreFactory) -> None:
    # Counts are forgotten by a success or by their window passing, not by the calendar.
    async def body(attempt: Attempt, clock: Clock) -> None:
        clock.now = 86_400 * 19_701 - 30  # 30 seconds before midnight UTC...
        for _ in range(5):
            await attempt("alice")
        clock.now += 60  # ...and 30 after, in the same 1000-second window
        assert await attempt("alice") > 0

    scenario(make_store, body, per_account=(5, 1000))


def test_a_success_clears_only_its_own_account(make_store: StoreFactory) -> None:
    async def body(attempt: Attempt, clock: Clock) -> None:
        for name in ("alice", "bob"):
            for _ in range(3):
                await attempt(name)
        assert await attempt("alice", ok=True) == 0
        assert [await attempt("alice") for _ in range(4)] == [0] * 4
        assert [await attempt("bob") > 0 for _ in range(2)] == [False, True]

    scenario(make_store, body, per_account=(4, 900))


def test_workers_with_their_own_redis_connections_share_counts(redis_prefix: str) -> None:
    async def main() -> None:
        stores: list[RateLimitStore] = [RedisStore(REDIS_URL, prefix=redis_prefix) for _ in "ab"]
        clock = Clock(START)
        apps = [throttle_app(LoginThrottle(store, clock=clock)) for store in stores]
        clients = [AsyncTestClient(app, client=ALICE) for app in apps]
        try:
            for number in range(5):
                await clients[number % 2].get("/attempt", params={"user": "alice"})
            refused = await clients[1].get("/attempt", params={"user": "ALICE"})
            assert refused.json() > 0
        finally:
            for client in clients:
                await client.aclose()
            for store in stores:
                assert isinstance(store, RedisStore)
                await store.aclose()

    asyncio.run(main())


def test_limits_and_scope_are_shown() -> None:
    throttle = LoginThrottle(
        per_account=(3, 60), per_address=(9, 60), per_account_total=(50, 60), scope="shop"
    )
    assert repr(throttle) == (
        "LoginThrottle(per_account=(3, 60), per_address=(9, 60), "
        "per_account_total=(50, 60), scope='shop')"
    )


@pytest.mark.parametrize("limit", [(0, 60), (5, 0)])
@pytest.mark.parametrize("name", ["per_account", "per_address", "per_account_total"])
def test_bad_limits_are_refused(limit: tuple[int, float], name: str) -> None:
    options: dict[str, Any] = {name: limit}
    with pytest.raises(ValueError, match="must be a positive"):
        LoginThrottle(**options)


def test_caseless_is_stable_under_folding() -> None:
    # U+01F0 folds to "j" and a combining caron: normalised again, it is one character.
    assert caseless("\u01f0") == caseless(caseless("\u01f0")) == "\u01f0"
    assert caseless("\uff21\u00df") == "ass"


# -- one account guessed at from many addresses --------------------------------------


def address(number: int) -> tuple[str, int]:
    return (f"192.0.2.{number}", 40000)


def test_a_guesser_at_one_address_does_not_lock_the_owner_out(make_store: StoreFactory) -> None:
    async def body(attempt: Attempt, clock: Clock) -> None:
        for _ in range(5):
            assert await attempt("alice", client=ALICE) == 0
        assert await attempt("alice", client=ALICE) > 0  # the guesser is locked...
        assert await attempt("alice", client=BOB, ok=True) == 0  # ...the owner is not
        assert await attempt("alice", client=ALICE) > 0  # and the owner's success frees no one
        # The owner's own mistakes count on their own pair.
        assert [await attempt("alice", client=BOB) for _ in range(5)] == [0] * 5
        assert await attempt("alice", client=BOB) > 0

    scenario(make_store, body)


def test_guessing_from_many_addresses_stops_at_the_account_ceiling(
    make_store: StoreFactory,
) -> None:
    async def body(attempt: Attempt, clock: Clock) -> None:
        # Four addresses, three guesses each: the ceiling of ten refuses the last two.
        waits = [await attempt("alice", client=address(n)) for n in range(4) for _ in range(3)]
        assert waits[:10] == [0] * 10
        assert all(wait > 0 for wait in waits[10:])
        # Now everyone is refused, a fresh address and the owner's included...
        assert await attempt("alice", client=address(99), ok=True) > 0
        assert await attempt("bob", client=address(99)) == 0  # (other accounts are not)
        # ...until the window has passed; refusals did not count towards the address.
        clock.now += 2 * 600
        assert await attempt("alice", client=address(99), ok=True) == 0
        assert await attempt("alice", client=address(0)) == 0  # the success cleared the ceiling

    scenario(make_store, body, per_account=(3, 600), per_account_total=(10, 600))


def test_concurrent_guesses_from_many_addresses_cannot_pass_the_ceiling(
    make_store: StoreFactory,
) -> None:
    # 40 guesses at once from 40 addresses, all started before any has failed.
    async def main() -> None:
        async with make_store() as store:
            verifying = asyncio.Event()
            throttle = LoginThrottle(store, per_account_total=(10, 900), clock=Clock(START))
            app = throttle_app(throttle, verifying)
            clients = [AsyncTestClient(app, client=address(n)) for n in range(40)]
            answered: list[int] = []
            refused_all = asyncio.Event()  # the 30 over the ceiling answer at once

            async def guess(client: AsyncTestClient) -> int:
                result: int = (await client.get("/attempt", params={"user": "alice"})).json()
                answered.append(result)
                if len(answered) == 30:
                    refused_all.set()
                return result

            try:
                guesses = [asyncio.ensure_future(guess(client)) for client in clients]
                await refused_all.wait()
                verifying.set()
                waits = await asyncio.gather(*guesses)
            finally:
                for client in clients:
                    await client.aclose()
        assert waits.count(0) == 10

    asyncio.run(main())
