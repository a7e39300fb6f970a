"""Default response headers: the security set, precomputed once per app and per route.

A response keeps every header it sets; the defaults fill in the names it lacks.
Over HTTPS the set also holds ``Strict-Transport-Security``. A route may replace
or remove defaults (route option ``headers``); a request that asked for a CSP
nonce gets the policy with that nonce. Everything else is computed at startup:
a plain request picks a ready-made list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from satchel.csp import NONCE_STATE_KEY, nonce_template
from satchel.errors import ConfigurationError
from satchel.headerchecks import check_header

if TYPE_CHECKING:
    from satchel.requests import Request
    from satchel.responses import Response
    from satchel.settings import Settings

__all__ = [
    "ROUTE_HEADERS_STATE_KEY",
    "SECURITY_HEADERS",
    "DefaultHeaders",
    "HeaderSet",
    "defaults_for",
    "hsts_value",
    "with_route_headers",
]

#: Sent with every response unless the response sets the header itself.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
)

#: Where a route's defaults are kept in ``request.state`` while it handles a request.
ROUTE_HEADERS_STATE_KEY = "satchel.route_headers"

_HSTS = "strict-transport-security"
_CSP = "content-security-policy"
# Headers that describe one response's body or state; never defaults (the fast path of
# _missing relies on Content-Type not being one).
_NOT_DEFAULTS = frozenset({"content-type", "content-length", "transfer-encoding", "set-cookie"})

T = TypeVar("T")
_Endpoint = Callable[["Request"], Awaitable["Response"]]


def hsts_value(settings: Settings) -> str | None:
    """The ``Strict-Transport-Security`` value the settings ask for (None: off).

    >>> from satchel import Settings
    >>> hsts_value(Settings(hsts_seconds=600, hsts_include_subdomains=True))
    'max-age=600; includeSubDomains'
    """
    if settings.hsts_seconds <= 0:
        return None
    value = f"max-age={settings.hsts_seconds}"
    return value + "; includeSubDomains" if settings.hsts_include_subdomains else value


class HeaderSet:
    """One precomputed list of default headers, as text (RSGI) and as bytes (ASGI)."""

    __slots__ = ("_csp_at", "_csp_parts", "encoded", "pairs")

    def __init__(self, pairs: tuple[tuple[str, str], ...], *, nonces: bool = True) -> None:
        self.pairs = pairs
        self.encoded = tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs)
        names = [name for name, _ in pairs]
        self._csp_at = names.index(_CSP) if _CSP in names else -1
        self._csp_parts = (
            nonce_template(pairs[self._csp_at][1]) if nonces and self._csp_at >= 0 else None
        )

    def missing(self, own: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The defaults whose names ``own`` (a response's headers) lacks."""
        return _missing(own, self.pairs, self.pairs)

    def missing_encoded(self, own: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
        """:meth:`missing`, encoded for ASGI."""
        return _missing(own, self.pairs, self.encoded)

    def with_nonce(self, nonce: str) -> HeaderSet:
        """This set with ``nonce`` in its Content-Security-Policy (itself if none can take it)."""
        if self._csp_parts is None:
            return self
        pairs = list(self.pairs)
        pairs[self._csp_at] = (_CSP, nonce.join(self._csp_parts))
        return HeaderSet(tuple(pairs), nonces=False)


class DefaultHeaders:
    """An app's or a route's defaults: one set for HTTP, one with HSTS for HTTPS.

    Args:
        headers: ``(name, value)`` pairs sent with every response lacking them.
        hsts: The ``Strict-Transport-Security`` value for HTTPS responses (None: none).
    """

    __slots__ = ("_hsts", "http", "https")

    def __init__(self, headers: Iterable[tuple[str, str]], *, hsts: str | None = None) -> None:
        pairs = tuple((name.lower(), value) for name, value in headers)
        self._hsts = hsts
        self.http = HeaderSet(pairs)
        # Never over plain HTTP: a man in the middle could strip or forge it (RFC 6797 7.2).
        self.https = HeaderSet((*pairs, (_HSTS, hsts))) if hsts else self.http

    def overridden(self, overrides: Mapping[str, str | None]) -> DefaultHeaders:
        """These defaults with ``overrides`` applied: a value replaces, None removes.

        Raises:
            ConfigurationError: a name or value cannot be sent, or names a header
                that belongs to one response (Content-Type, Set-Cookie, ...).
        """
        merged = dict(self.http.pairs)
        hsts = self._hsts
        for name, value in overrides.items():
            key = name.lower()
            try:
                check_header(name, "" if value is None else value)
            except ValueError as exc:
                raise ConfigurationError(f"Route option headers: {exc}") from None
            if key in _NOT_DEFAULTS:
                raise ConfigurationError(
                    f"Route option headers: {name!r} describes one response; set it on the "
                    "response instead"
                )
            if key == _HSTS:
                hsts = value
            elif value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return DefaultHeaders(merged.items(), hsts=hsts)


def defaults_for(defaults: DefaultHeaders, request: Request) -> HeaderSet:
    """The default headers for the response to ``request``.

    Reads ``request._state`` rather than ``request.state`` so that a request with
    no route overrides and no nonce allocates nothing here.
    """
    state = request._state
    nonce: str | None = None
    if state is not None:
        defaults = state.get(ROUTE_HEADERS_STATE_KEY, defaults)
        nonce = state.get(NONCE_STATE_KEY)
    chosen = defaults.http
    # The scheme is looked at only when it changes something.
    if defaults.https is not chosen and request.scheme == "https":
        chosen = defaults.https
    return chosen if nonce is None else chosen.with_nonce(nonce)


def with_route_headers(endpoint: _Endpoint, defaults: DefaultHeaders) -> _Endpoint:
    """Wrap a route's endpoint so that its responses, errors included, get ``defaults``."""

    async def route_headers(request: Request) -> Response:
        request.state[ROUTE_HEADERS_STATE_KEY] = defaults
        return await endpoint(request)

    return route_headers


def _missing(
    own: list[tuple[str, str]], pairs: Sequence[tuple[str, str]], items: Sequence[T]
) -> list[T]:
    """The entries of ``items`` (aligned with ``pairs``) whose names ``own`` lacks."""
    if not items:
        return []
    if len(own) == 1 and own[0][0] == "content-type":  # what most handlers return
        return list(items)
    names = {name for name, _ in own}
    return [item for (name, _), item in zip(pairs, items, strict=True) if name not in names]
