"""``LoginThrottle``: failed logins counted per account, address, and account and address.

Attempts are checked *before* the password is: once over a limit, further attempts
are refused (429) without verifying anything, so a correct password guessed while
refused reveals nothing either. Three counts decide:

- per account *and* address (``per_account``, 5 in 15 minutes by default): the guesses
  one client makes at one account. This is the lock a guesser runs into, and it
  locks only the guesser: the account's owner, from another address, still logs in.
- per account, from everywhere (``per_account_total``, 100 in 15 minutes): a ceiling
  on guesses spread over many addresses. Past it the account is refused to everyone
  until the window passes, so locking a user out takes that many failures from at
  least ``100 / 5 = 20`` addresses.
- per address (``per_address``, 20 in 15 minutes): one client guessing at many
  accounts.

An attempt is counted against its account (both account counts) as it starts, in
one atomic step with the check, so that concurrent guesses cannot all pass before
the first failure is counted; a successful login then forgets the account's counts.
Counters live in a :mod:`satchel.ratelimit` store: the in-memory one for a single
process, a ``RedisStore`` shared by every worker and machine.

>>> throttle = LoginThrottle(per_account=(5, 900), per_address=(20, 900))
>>> account_key("  \\uff21lice ") == account_key("alice")  # a full-width A
True
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable

from satchel.ratelimit import MemoryStore, RateLimit, RateLimitStore, client_address
from satchel.requests import Request

__all__ = ["LoginThrottle", "account_key", "caseless"]


def caseless(text: str) -> str:
    """``text`` in the form that compares equal for every case and width variant.

    NFKC, case-folded, then NFKC again: case folding can leave text unnormalised
    (``"\\u01f0"`` folds to ``j`` and a combining caron), and the second pass puts
    it back, so the result is stable (Unicode's compatibility caseless matching).

    >>> caseless("Stra\\u00dfe") == caseless("STRASSE"), caseless("\\uff21")
    (True, 'a')
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def account_key(username: str) -> str:
    """The name attempts at ``username`` are counted under.

    :func:`caseless`, with whitespace runs collapsed and stripped: the variants a
    login form may take for one account (``Alice``, ``alice ``, ``\\uff21lice`` with a
    full-width A) share one counter, so none of them buys more guesses.

    >>> account_key("ALICE"), account_key(" al  ice"), account_key("Straße")
    ('alice', 'al ice', 'strasse')
    """
    return " ".join(caseless(username).split())


class LoginThrottle:
    """Refuses login attempts that are over a limit (see the module's documentation).

    A login asks :meth:`attempt` first and goes ahead only when it answers None,
    then reports the outcome: :meth:`failed` or :meth:`succeeded`.

    Args:
        store: Where the counters live; a ``MemoryStore`` of its own by default. With
            several worker processes use a shared one
            (``satchel.ratelimit.RedisStore``), or each worker counts apart.
        per_account: ``(attempts, seconds)``: the most failed attempts at one
            account (its username, normalised by :func:`account_key`) from one client
            address in a sliding window. A successful login clears it.
        per_address: The most failed attempts from one client address
            (``client_address``: IPv6 per /64), at any accounts; a success does not
            clear it.
        per_account_total: The most failed attempts at one account from all
            addresses together; past it the account is refused to everyone. A
            successful login clears it.
        scope: Names the counters in the store; throttles sharing a store and a
            scope share counts.
        clock: Wall-clock seconds; replaced in tests.

    Raises:
        ValueError: A limit is not a positive count and a positive window.

    Unknown usernames are counted exactly like real ones, so the answers never tell
    which accounts exist. An address's failures are counted once known: concurrent
    attempts from one address may pass its limit by as many as are in flight, while
    the account limits are never passed (their attempts are counted as they start).
    """

    def __init__(
        self,
        store: RateLimitStore | None = None,
        per_account: tuple[int, float] = (5, 900),
        per_address: tuple[int, float] = (20, 900),
        *,
        per_account_total: tuple[int, float] = (100, 900),
        scope: str = "satchel.auth.login",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store: RateLimitStore = MemoryStore() if store is None else store
        self.per_account = per_account
        self.per_address = per_address
        self.per_account_total = per_account_total
        self.scope = scope
        self.clock = clock

        def limit(limits: tuple[int, float], name: str, store: RateLimitStore) -> RateLimit:
            count, window = limits
            return RateLimit(count, window, store=store, scope=f"{scope}:{name}", clock=clock)

        self._pairs = limit(per_account, "account-address", self.store)
        self._accounts = limit(per_account_total, "account", self.store)
        self._addresses = limit(per_address, "address", self.store)

    def __repr__(self) -> str:
        return (
            f"LoginThrottle(per_account={self.per_account!r}, "
            f"per_address={self.per_address!r}, "
            f"per_account_total={self.per_account_total!r}, scope={self.scope!r})"
        )

    async def attempt(self, request: Request, username: str) -> int | None:
        """Start an attempt to log in as ``username`` from ``request``'s client.

        None when it may go ahead: it then counts as a failure of the account until
        :meth:`succeeded` says otherwise (so a crash mid-way costs the attacker, not
        the throttle). Otherwise the seconds to wait.
        """
        address = client_address(request)
        account = account_key(username)
        # Read first, counting nothing: a client refused by its own address, or by
        # the account's ceiling, must not use up the per-pair count of its attempts.
        for limiter, key in ((self._addresses, address), (self._accounts, account)):
            result = await limiter.peek(key)
            if not result.allowed:
                return result.retry_after
        # Then counted, each atomically: the pair's limit and the ceiling both hold
        # however many attempts run at once. (Refused by the ceiling after the pair
        # was counted can only happen to attempts racing for its last slot.)
        for counter, key in ((self._pairs, _pair(account, address)), (self._accounts, account)):
            result = await counter.hit(key)
            if not result.allowed:
                return result.retry_after
        return None

    async def failed(self, request: Request) -> None:
        """Count a failed attempt against the client's address (the account's already is)."""
        await self._addresses.hit(client_address(request))

    async def succeeded(self, request: Request, username: str) -> None:
        """Clear the account's failures after a successful login (not the address's).

        The count of this client at this account and the account's ceiling count
        both start again: the owner logging in says the guesses so far were wrong.
        """
        account = account_key(username)
        await self._pairs.reset(_pair(account, client_address(request)))
        await self._accounts.reset(account)


def _pair(account: str, address: str) -> str:
    # An address holds no NUL, so the last one splits the key: no two pairs collide.
    return f"{account}\x00{address}"
