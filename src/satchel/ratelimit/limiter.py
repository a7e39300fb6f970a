"""The rate limiter: fixed and sliding windows, as a dependency or a middleware."""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from satchel.errors import TooManyRequests
from satchel.ratelimit.store import Counts, MemoryStore, RateLimitStore
from satchel.requests import Request  # at run time: the injector reads __call__'s hints

if TYPE_CHECKING:
    from satchel.middleware import CallNext
    from satchel.responses import Response

__all__ = ["Algorithm", "KeyFunction", "RateLimit", "RateLimitResult", "client_address"]

Algorithm = Literal["fixed", "sliding"]
#: Gives the key a request is counted under; None exempts the request.
KeyFunction = Callable[[Request], str | Awaitable[str | None] | None]


def client_address(request: Request) -> str:
    """The client's address, the default key: one counter per client.

    ``request.client`` believes ``X-Forwarded-For`` only from ``trusted_proxies``;
    behind a proxy that is not configured so, every client has the proxy's address
    and shares one counter. IPv6 clients are counted per /64 network, the block one
    subscriber usually gets, so that rotating through it does not escape the limit;
    an IPv4-mapped IPv6 address counts as the IPv4 address.
    """
    address = request.client
    if ":" not in address:
        return address
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


@dataclass(frozen=True, slots=True)
class RateLimitResult:
    """The outcome of counting one request.

    Attributes:
        allowed: Whether the request is within the limit.
        limit: The limit it was counted against.
        remaining: How many more requests would be admitted now.
        reset: Seconds until the current window ends (until ``retry_after`` when refused).
        retry_after: Seconds to wait before a retry is admitted; None when allowed.
    """

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        """``RateLimit-Limit``, ``-Remaining``, ``-Reset`` and, when refused, ``Retry-After``."""
        headers = {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(self.reset),
        }
        if self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return headers


class RateLimit:
    """At most ``limit`` requests per ``window`` seconds for each key.

    Use it as a dependency of a route or a router (``dependencies=[Depends(limit)]``),
    which answers 429 with ``Retry-After`` when the limit is hit, or as a middleware
    (``middleware=[limit.middleware]``), which also sets ``RateLimit-*`` headers on
    admitted responses and runs before the body is read. ``await limit.hit(key)``
    counts anything else (a user name at login), ``await limit.peek(key)`` asks
    without counting, and ``await limit.reset(key)`` forgets a key's counts (after a
    successful login, say).

    Args:
        limit: The most requests per window.
        window: The window's length in seconds.
        key: Gives a request's key (sync or async); None exempts the request.
            Defaults to :func:`client_address`.
        algorithm: ``"sliding"`` (default) weighs in the previous window's count
            for a smooth limit; ``"fixed"`` resets at each window's start.
        store: Where counters live; defaults to a :class:`MemoryStore` of its own.
        scope: Names this limiter's counters in the store. Two limiters never share
            counters unless given the same scope; the default is where the limiter
            was created (module and line), the same in every worker process.
        clock: Wall-clock seconds (``time.time``); replaced in tests. Windows start at
            multiples of ``window`` on it, so processes sharing a store agree.

    Raises:
        ValueError: ``limit`` is not a positive integer, ``window`` not a positive
            number, or ``algorithm`` unknown.

    >>> login = RateLimit(5, 60, scope="login")
    >>> login
    RateLimit(5, 60.0, algorithm='sliding', scope='login')
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        key: KeyFunction = client_address,
        algorithm: Algorithm = "sliding",
        store: RateLimitStore | None = None,
        scope: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, not {limit!r}")
        if not (isinstance(window, int | float) and 0 < window < math.inf):
            raise ValueError(f"window must be a positive number of seconds, not {window!r}")
        if algorithm not in ("fixed", "sliding"):
            raise ValueError(f"algorithm must be 'fixed' or 'sliding', not {algorithm!r}")
        self.limit = limit
        self.window = float(window)
        self.key = key
        self.algorithm: Algorithm = algorithm
        self.store: RateLimitStore = MemoryStore() if store is None else store
        self.scope = _creation_site() if scope is None else scope
        self.clock = clock

    def __repr__(self) -> str:
        return (
            f"RateLimit({self.limit}, {self.window}, algorithm={self.algorithm!r}, "
            f"scope={self.scope!r})"
        )

    async def hit(self, key: str) -> RateLimitResult:
        """Count one request for ``key``; a refused request is not counted."""
        return await self._ask(key, self.limit)

    async def peek(self, key: str) -> RateLimitResult:
        """Whether a request for ``key`` would be admitted now, counting nothing.

        For a limit checked before work whose outcome decides what to count (a
        sign-in refused by its address should not use up its account's count).
        """
        # A store never counts a refused hit, and with a limit of 0 every hit is refused:
        # asked that way, it only reads the counts, which are judged against the real limit.
        return await self._ask(key, 0)

    async def _ask(self, key: str, store_limit: int) -> RateLimitResult:
        now = self.clock()
        index, elapsed, weight = self._position(now)
        # A sliding window's count is read again, as the previous one, in the next window.
        ttl = self.window * (2 if self.algorithm == "sliding" else 1) - elapsed
        counts = await self.store.hit(
            self._counter(key), window=index, weight=weight, limit=store_limit, ttl=ttl
        )
        if not store_limit:
            admitted = math.floor(counts.previous * weight) + counts.current + 1 <= self.limit
            counts = Counts(admitted, counts.current, counts.previous)
        if counts.allowed:
            used = math.floor(counts.previous * weight) + counts.current
            remaining = max(0, self.limit - used)
            return RateLimitResult(True, self.limit, remaining, _seconds(self.window - elapsed))
        retry_after = self._retry_after(now, index, elapsed, counts)
        return RateLimitResult(False, self.limit, 0, retry_after, retry_after)

    async def reset(self, key: str) -> None:
        """Forget ``key``'s counts: its next request is counted as its first.

        For limits on something that can succeed, such as failed sign-ins per
        account: once the right password is given, the failures before it stop
        counting. Other keys are not affected.
        """
        index, _, _ = self._position(self.clock())
        await self.store.reset(self._counter(key), window=index)

    def _position(self, now: float) -> tuple[int, float, float]:
        """The window ``now`` falls in, seconds into it, and the previous window's weight."""
        period = self.window
        index = math.floor(now / period)
        # Clamped: float division can put ``now`` a hair outside its window.
        elapsed = min(max(now - index * period, 0.0), period)
        weight = 1.0 - elapsed / period if self.algorithm == "sliding" else 0.0
        return index, elapsed, weight

    def _retry_after(self, now: float, index: int, elapsed: float, counts: Counts) -> int:
        """Whole seconds until a retry is admitted, if nothing else is counted meanwhile."""
        if self.algorithm == "fixed":
            wait = self.window - elapsed  # the next window's start
        else:
            wait = self._sliding_wait(counts, elapsed)
        seconds = _seconds(wait)
        # The formula is exact and the floats are not: step on, at most a second or two,
        # until the arithmetic the store will do admits (always so two windows on).
        while not self._admits(now + seconds, index, counts):
            seconds += 1
        return seconds

    def _admits(self, later: float, index: int, counts: Counts) -> bool:
        """Whether a request at ``later`` would be admitted, given ``counts`` at ``index``."""
        at, _, weight = self._position(later)
        if at == index:
            previous, current = counts.previous, counts.current
        elif at == index + 1:
            previous, current = counts.current, 0
        else:
            previous, current = 0, 0
        return math.floor(previous * weight) + current + 1 <= self.limit

    async def __call__(self, request: Request) -> None:
        """Count ``request``; raise 429 ``TooManyRequests`` when it is over the limit."""
        result = await self._hit_request(request)
        if result is not None and not result.allowed:
            raise _refusal(result)

    async def middleware(self, request: Request, call_next: CallNext) -> Response:
        """Count ``request`` before the layers inside run; add ``RateLimit-*`` headers.

        When several limits apply, the headers describe the one with the fewest
        requests remaining.
        """
        result = await self._hit_request(request)
        if result is None:
            return await call_next(request)
        if not result.allowed:
            # Answered, not raised: the middleware outside (CORS, say) sees a response.
            return await request.app.error_response(request, _refusal(result))
        response = await call_next(request)
        headers = response.headers
        shown = headers.get("ratelimit-remaining")
        if shown is None or not shown.isdigit() or int(shown) > result.remaining:
            headers.update(result.headers())
        return response

    async def _hit_request(self, request: Request) -> RateLimitResult | None:
        key = self.key(request)
        if inspect.isawaitable(key):
            key = await key
        return None if key is None else await self.hit(key)

    def _counter(self, key: str) -> str:
        # Hashed: a key may be a secret (an API key) or long; counters stay small.
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16)
        return f"{self.scope}:{digest.hexdigest()}"

    def _sliding_wait(self, counts: Counts, elapsed: float) -> float:
        """Seconds after which a sliding window admits again, if nothing else is counted."""
        period, limit = self.window, self.limit
        current, previous = counts.current, counts.previous
        if current < limit:
            if not previous:
                return 0.0  # a store that refused without cause: retry at once
            # Refused for the previous window's share, which shrinks as time passes;
            # floor(previous * weight) + current + 1 <= limit once, at elapsed + t,
            # previous * (1 - (elapsed + t) / period) < limit - current.
            return period * (1 - (limit - current) / previous) - elapsed
        # This window alone is full: it becomes the previous one at the next window's
        # start, and its share shrinks from there: current * (1 - t / period) < limit.
        return period - elapsed + period * (1 - limit / current)


def _seconds(value: float) -> int:
    """Whole seconds, rounded up, at least 1 (``Retry-After`` and ``RateLimit-Reset``)."""
    return max(1, math.ceil(value))


def _refusal(result: RateLimitResult) -> TooManyRequests:
    return TooManyRequests(
        f"Rate limit exceeded; retry in {result.retry_after} seconds",
        headers=result.headers(),
    )


_sites: dict[str, int] = {}


def _creation_site() -> str:
    """``module:line`` of the code creating a limiter; ``#n`` for later ones made there.

    The same in every process running the same code, so a shared store sees one
    limiter where a random name would split it into one per process.
    """
    frame = inspect.currentframe()
    # This function, then RateLimit.__init__, then its caller.
    caller = frame.f_back.f_back if frame is not None and frame.f_back is not None else None
    if caller is None:
        site = "ratelimit"
    else:
        site = f"{caller.f_globals.get('__name__', '?')}:{caller.f_lineno}"
    count = _sites.get(site, 0)
    _sites[site] = count + 1
    return site if count == 0 else f"{site}#{count}"
