"""``LoginThrottle``: failed logins counted per account and per client address.

Attempts are checked *before* the password is: once an account or an address has
failed too often, further attempts are refused (429) without verifying anything, so
a correct password guessed while refused reveals nothing either. An account's
attempt is counted when it starts, in one atomic step with the check, so that
concurrent guesses cannot all pass the check before the first failure is counted;
a successful login then forgets the account's count. Counters live in a
:mod:`satchel.ratelimit` store: the in-memory one for a single process, a
``RedisStore`` shared by every worker and machine.

>>> throttle = LoginThrottle(per_account=(5, 900), per_address=(20, 900))
>>> account_key("  \\uff21lice ") == account_key("alice")  # a full-width A
True
"""

from __future__ import annotations

import math
import time
import unicodedata
from collections.abc import Callable

from satchel.ratelimit import MemoryStore, RateLimit, RateLimitStore, client_address
from satchel.ratelimit.store import Counts
from satchel.requests import Request

__all__ = ["LoginThrottle", "account_key"]


def account_key(username: str) -> str:
    """The name failures of ``username`` are counted under.

    NFKC-normalised, case-folded, with whitespace runs collapsed and stripped: the
    variants a login form may take for one account (``Alice``, ``alice ``,
    ``\\uff21lice`` with a full-width A) share one counter, so none of them buys more guesses.

    >>> account_key("ALICE"), account_key(" al  ice"), account_key("Straße")
    ('alice', 'al ice', 'strasse')
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())
    return " ".join(folded.split())


class _Peek:
    """A store seen read-only: answers whether a hit would be admitted, counting nothing.

    The store contract never counts a refused hit, and with a limit of 0 every hit is
    refused: asking with that limit reads the counts, which are then compared with
    the real one here.
    """

    def __init__(self, store: RateLimitStore) -> None:
        self._store = store

    async def hit(self, key: str, *, window: int, weight: float, limit: int, ttl: float) -> Counts:
        seen = await self._store.hit(key, window=window, weight=weight, limit=0, ttl=ttl)
        admitted = math.floor(seen.previous * weight) + seen.current + 1 <= limit
        return Counts(admitted, seen.current, seen.previous)

    async def reset(self, key: str, *, window: int) -> None:
        raise TypeError("a read-only view of a store forgets nothing")


class LoginThrottle:
    """Refuses login attempts for an account or an address that failed too often.

    A login asks :meth:`attempt` first and goes ahead only when it answers None,
    then reports the outcome: :meth:`failed` or :meth:`succeeded`.

    Args:
        store: Where the counters live; a ``MemoryStore`` of its own by default. With
            several worker processes use a shared one
            (``satchel.ratelimit.RedisStore``), or each worker counts apart.
        per_account: ``(failures, seconds)``: the most failed attempts for one
            account (its username, normalised by :func:`account_key`) in a sliding
            window. A successful login clears the account's count.
        per_address: The same per client address (``client_address``: IPv6 per
            /64); a success does not clear it.
        scope: Names the counters in the store; throttles sharing a store and a
            scope share counts.
        clock: Wall-clock seconds; replaced in tests.

    Unknown usernames are counted exactly like real ones, so the answers never tell
    which accounts exist. An address's failures are counted once known: concurrent
    attempts from one address may pass its limit by as many as are in flight, while
    an account's limit is never passed (its attempts are counted as they start).
    """

    def __init__(
        self,
        store: RateLimitStore | None = None,
        per_account: tuple[int, float] = (5, 900),
        per_address: tuple[int, float] = (20, 900),
        *,
        scope: str = "satchel.auth.login",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store: RateLimitStore = MemoryStore() if store is None else store
        self.per_account = per_account
        self.per_address = per_address
        self.scope = scope
        self.clock = clock
        count, window = per_account
        self._accounts = RateLimit(
            count, window, store=self.store, scope=f"{scope}:account", clock=clock
        )
        count, window = per_address
        address_scope = f"{scope}:address"
        self._addresses = RateLimit(
            count, window, store=self.store, scope=address_scope, clock=clock
        )
        self._addresses_seen = RateLimit(
            count, window, store=_Peek(self.store), scope=address_scope, clock=clock
        )

    def __repr__(self) -> str:
        return (
            f"LoginThrottle(per_account={self.per_account!r}, "
            f"per_address={self.per_address!r}, scope={self.scope!r})"
        )

    async def attempt(self, request: Request, username: str) -> int | None:
        """Start an attempt to log in as ``username`` from ``request``'s client.

        None when it may go ahead: it then counts as a failure of the account until
        :meth:`succeeded` says otherwise (so a crash mid-way costs the attacker, not
        the throttle). Otherwise the seconds to wait, and nothing was counted.
        """
        address = await self._addresses_seen.hit(client_address(request))
        if not address.allowed:
            return address.retry_after
        account = await self._accounts.hit(account_key(username))
        return None if account.allowed else account.retry_after

    async def failed(self, request: Request, username: str) -> None:
        """Count a failed attempt against the client's address (the account's already is)."""
        await self._addresses.hit(client_address(request))

    async def succeeded(self, request: Request, username: str) -> None:
        """Clear the account's failures after a successful login (not the address's)."""
        await self._accounts.reset(account_key(username))
