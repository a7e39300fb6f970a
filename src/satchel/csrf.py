"""Cross-site request forgery protection, on for every route by default.

An unsafe request (POST, PUT, PATCH, DELETE) passes two checks before its route's
handler, dependencies or body parsing run; a failure answers 403 with the reason.

1. Where it comes from. The browser's own account wins: ``Sec-Fetch-Site:
   same-origin`` passes, ``same-site`` and ``cross-site`` pass only from an origin
   in ``settings.csrf_trusted_origins``. Without that header, an ``Origin`` must be
   the app's own (scheme, host and port as the app sees them, proxies included) or a
   trusted one, and ``Origin: null`` never passes. Requests from non-browser clients
   send neither header and pass this check.
2. A token, when the request carries credentials a browser attaches on its own
   (any cookie): the ``X-CSRF-Token`` header or the ``csrf_token`` form field must
   hold a token made from the client's secret, kept in the signed ``__Host-csrf``
   cookie. Over HTTPS such a request must also name its source (``Origin``, or
   else a ``Referer`` from a trusted origin).

Requests authenticated by an ``Authorization`` header skip both: a browser only
sends one that a page's script set, which cross-origin needs a CORS preflight the
app's CORS policy decides. Basic, Digest, NTLM and Negotiate credentials are the
exception, since browsers replay those by themselves; they are checked like cookies.
Other credential headers can be exempted the same way (``exempt_header``:
``satchel.auth`` does it for its API key header).

Tokens are masked afresh for every render (a random pad XOR the secret), so no two
pages carry the same bytes (BREACH) while all of them verify.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Final
from urllib.parse import urlsplit

from satchel.errors import ConfigurationError, Forbidden
from satchel.origins import normalize_origin
from satchel.requests import Request
from satchel.responses import Response

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "CSRFProtection",
    "csrf_input",
    "csrf_token",
    "is_ambient_authorization",
    "rotate_csrf",
    "set_csrf_cookie",
]

#: The cookie holding the client's signed secret.
CSRF_COOKIE: Final = "__Host-csrf"
#: The request header JavaScript clients send the token in.
CSRF_HEADER: Final = "x-csrf-token"
#: The form field HTML forms send the token in.
CSRF_FIELD: Final = "csrf_token"
#: Methods never checked: they must not change state (QUERY is safe by its definition).
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "QUERY"})

Endpoint = Callable[[Request], Awaitable[Response]]

_SECRET_SIZE = 32
_COOKIE_MAX_AGE = 365 * 24 * 3600
_STATE_KEY = "satchel.csrf"
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Schemes browsers attach by themselves once the user has signed in through their prompt.
_AMBIENT_AUTH = frozenset({"basic", "digest", "negotiate", "ntlm"})
# A handshake's scheme, as the page that opened it would name its own origin.
_WEB_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
# Hex: a token is a pad and the padded secret; a cookie the secret and its SHA-256 MAC.
_TOKEN_RE = re.compile(rf"[0-9a-f]{{{4 * _SECRET_SIZE}}}")
_COOKIE_RE = re.compile(rf"([0-9a-f]{{{2 * _SECRET_SIZE}}})\.([0-9a-f]{{64}})")


class _ClientSecret:
    """The client's secret as this request knows it (kept in ``request.state``)."""

    __slots__ = ("rendered", "secret", "unsent")

    def __init__(self, secret: bytes, *, unsent: bool) -> None:
        self.secret = secret
        #: The cookie must go out with the response: new, rotated, or signed with an old key.
        self.unsent = unsent
        #: A token went into the response, which therefore varies with the cookie.
        self.rendered = False


# -- public helpers ------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """Return a fresh token for ``request``'s client, to send back with an unsafe request.

    Creates the client's secret when it has none (its cookie then goes out with this
    response). Each call returns different text; every one of them verifies.
    """
    state = _client_secret(request)
    state.rendered = True
    pad = os.urandom(_SECRET_SIZE)
    return (pad + _xor(pad, state.secret)).hex()


def csrf_input(request: Request) -> str:
    """Return a hidden form field holding a fresh token: ``<input type="hidden" ...>``.

    The value is hex, so the markup needs no escaping; mark it safe in templates.
    """
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{csrf_token(request)}">'


def rotate_csrf(request: Request) -> None:
    """Give the client a new secret (at login): tokens issued before stop verifying.

    Call it before rendering tokens into the response; the new cookie goes out with it.
    """
    state = request.state
    previous: _ClientSecret | None = state.get(_STATE_KEY)
    state[_STATE_KEY] = rotated = _ClientSecret(os.urandom(_SECRET_SIZE), unsent=True)
    rotated.rendered = previous is not None and previous.rendered


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Add what ``request`` owes the client to ``response``: its CSRF cookie, ``Vary``.

    The app calls it for the response it answers every request with, whatever made
    that response (a route, middleware, an error handler); call it yourself only to
    see the cookie on a response before the app does. Calling it twice adds nothing.
    """
    # Reads the slot behind ``request.state``: the property would allocate a dict for
    # every request, and most never touch a token.
    slots = request._state
    state: _ClientSecret | None = None if slots is None else slots.get(_STATE_KEY)
    if state is None:
        return
    if state.unsent:
        state.unsent = False
        value = _sign(request.app.secret_keys[0], state.secret)
        response.set_cookie(CSRF_COOKIE, value, max_age=_COOKIE_MAX_AGE)
    if state.rendered:
        state.rendered = False
        # A page with a token is one client's: a shared cache must not serve it to others.
        response.headers.add_vary("Cookie")


# -- the protection --------------------------------------------------------------------


class CSRFProtection:
    """The checks an app runs before the handler of every unsafe request.

    Args:
        trusted_origins: Origins (``https://app.example.com``) besides the request's
            own whose unsafe requests pass the origin check.

    Raises:
        ConfigurationError: an entry is not a ``scheme://host[:port]`` origin.
    """

    __slots__ = ("exempt_headers", "trusted_origins")

    def __init__(self, trusted_origins: Iterable[str] = ()) -> None:
        trusted: set[str] = set()
        for entry in trusted_origins:
            origin = normalize_origin(entry.strip())
            if origin is None or not origin.startswith(("http://", "https://")):
                raise ConfigurationError(
                    f"csrf_trusted_origins: {entry!r} is not an origin like "
                    "'https://app.example.com' (scheme and host, no path)"
                )
            trusted.add(origin)
        self.trusted_origins = frozenset(trusted)
        #: Lower-case names of credential headers whose requests skip the checks.
        self.exempt_headers: frozenset[str] = frozenset()

    def exempt_header(self, name: str) -> None:
        """Let requests carrying the header ``name`` (an API key's) skip the checks.

        Only for a header that carries a credential the app verifies: a browser
        sends a custom header only when a page's script set it, which cross-origin
        needs a CORS preflight, as for ``Authorization``.
        """
        self.exempt_headers |= {name.lower()}

    def wrap(self, endpoint: Endpoint) -> Endpoint:
        """Return ``endpoint`` behind the checks, run for unsafe methods only.

        The cookie that tokens need is not sent here: the app adds it to whatever
        response the request gets, error pages included (``set_csrf_cookie``).
        """
        verify = self.check

        async def protected(request: Request) -> Response:
            if request.method not in SAFE_METHODS:
                await verify(request)
            return await endpoint(request)

        return protected

    async def check(self, request: Request) -> None:
        """Refuse ``request`` with 403 unless it passes the CSRF checks (any method).

        Raises:
            Forbidden: the detail says which check failed.
        """
        headers = request.headers
        authorization = headers.get_single("authorization")
        if authorization is not None and not is_ambient_authorization(authorization):
            return
        exempt = self.exempt_headers
        if exempt and any(headers.get_single(name) is not None for name in exempt):
            return
        credentialed = bool(request.cookies)
        self._check_source(request, credentialed)
        if credentialed:
            await _check_token(request)

    def _check_source(self, request: Request, credentialed: bool) -> None:
        headers = request.headers
        site = headers.get_single("sec-fetch-site")
        origin = headers.get_single("origin")
        if site == "same-origin":
            return  # the browser compared the origins itself
        if site in ("same-site", "cross-site"):
            if origin is None or normalize_origin(origin) not in self.trusted_origins:
                raise Forbidden(f"CSRF check failed: {site} request from an untrusted origin")
            return
        if origin is not None:
            if origin == "null":
                raise Forbidden("CSRF check failed: the request's Origin is null")
            if not self._allows(request, normalize_origin(origin)):
                raise Forbidden("CSRF check failed: the request's Origin is not trusted")
        elif credentialed and request.scheme == "https":
            # Browsers old enough to omit Origin still say where a form was posted from.
            referer = headers.get_single("referer")
            if referer is None:
                raise Forbidden("CSRF check failed: no Origin or Referer header")
            if not self._allows(request, _origin_of_url(referer)):
                raise Forbidden("CSRF check failed: the Referer is not a trusted origin")

    def _allows(self, request: Request, origin: str | None) -> bool:
        if origin is None:
            return False
        return origin in self.trusted_origins or origin == _own_origin(request)

    def check_websocket(self, handshake: Request) -> None:
        """Refuse a WebSocket handshake that a page of another origin started (403).

        WebSockets have no same-origin policy: without this, any site could open a
        socket that carries the user's cookies (cross-site WebSocket hijacking).
        Browsers always send Origin on a handshake; clients that send none are not
        browsers and carry no ambient credentials of a user's, so they pass.

        Raises:
            Forbidden: the Origin is ``null`` or neither this site's nor trusted.
        """
        origin = handshake.headers.get_single("origin")
        if origin is None:
            return
        own = normalize_origin(f"{_WEB_SCHEMES.get(handshake.scheme, '')}://{handshake.host}")
        normalized = normalize_origin(origin)  # None for "null" too
        if normalized is None or (normalized != own and normalized not in self.trusted_origins):
            raise Forbidden("Cross-site WebSocket handshake refused: the Origin is not trusted")


# -- internals -------------------------------------------------------------------------


async def _check_token(request: Request) -> None:
    state = _stored_secret(request)
    if state is None:
        raise Forbidden("CSRF check failed: the CSRF cookie is missing or invalid")
    token = request.headers.get_single(CSRF_HEADER)
    if token is None and request.content_type[0] in _FORM_TYPES:
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if token is None:
        raise Forbidden(
            f"CSRF check failed: no token in the {CSRF_HEADER} header "
            f"or the {CSRF_FIELD} form field"
        )
    if not _token_matches(token, state.secret):
        raise Forbidden("CSRF check failed: the CSRF token is invalid")


def _client_secret(request: Request) -> _ClientSecret:
    """The client's secret: from its cookie, or a new one when it has none (or a bad one)."""
    state = _stored_secret(request)
    if state is None:
        state = _ClientSecret(os.urandom(_SECRET_SIZE), unsent=True)
        request.state[_STATE_KEY] = state
    return state


def _stored_secret(request: Request) -> _ClientSecret | None:
    """The secret this request already knows, else the one its cookie holds (read once)."""
    state: _ClientSecret | None = request.state.get(_STATE_KEY)
    if state is not None:
        return state
    found = _verify(request.app.secret_keys, request.cookies.get(CSRF_COOKIE))
    if found is None:
        return None
    secret, key_index = found
    # A cookie signed with a fallback key is signed again with the current one.
    state = _ClientSecret(secret, unsent=key_index > 0)
    request.state[_STATE_KEY] = state
    return state


def _token_matches(token: str, secret: bytes) -> bool:
    if _TOKEN_RE.fullmatch(token) is None:
        return False
    raw = bytes.fromhex(token)
    return _equal(_xor(raw[:_SECRET_SIZE], raw[_SECRET_SIZE:]), secret)


def _xor(pad: bytes, data: bytes) -> bytes:
    return (int.from_bytes(pad) ^ int.from_bytes(data)).to_bytes(len(data))


def _sign(key: str, secret: bytes) -> str:
    return f"{secret.hex()}.{_mac(key, secret).hex()}"


def _verify(keys: tuple[str, ...], cookie: str | None) -> tuple[bytes, int] | None:
    """The secret in ``cookie`` and the index of the key that signed it, if any did."""
    if cookie is None:
        return None
    match = _COOKIE_RE.fullmatch(cookie)
    if match is None:
        return None
    secret, mac = bytes.fromhex(match[1]), bytes.fromhex(match[2])
    for index, key in enumerate(keys):
        if _equal(_mac(key, secret), mac):
            return secret, index
    return None


def _mac(key: str, secret: bytes) -> bytes:
    return _digest(_purpose_key(key), secret)


@lru_cache(maxsize=8)
def _purpose_key(key: str) -> bytes:
    """A key for CSRF cookies only, so that no other signature made with ``key`` fits."""
    return _digest(key.encode(), b"satchel.csrf.cookie")


# hmac loads OpenSSL's hashlib (milliseconds): imported on first use, so that apps
# that never issue or check a token (most APIs) do not pay for it at startup.
def _digest(key: bytes, message: bytes) -> bytes:
    import hmac

    return hmac.digest(key, message, "sha256")


def _equal(a: bytes, b: bytes) -> bool:
    import hmac

    return hmac.compare_digest(a, b)


def is_ambient_authorization(authorization: str) -> bool:
    """Whether an ``Authorization`` value is one browsers replay by themselves (Basic, ...).

    Requests with any other ``Authorization`` header skip the CSRF checks, so
    whatever authenticates them must not fall back to cookies (``satchel.auth``
    does not).
    """
    return authorization.strip().partition(" ")[0].lower() in _AMBIENT_AUTH


def _own_origin(request: Request) -> str | None:
    scheme = request.scheme
    return normalize_origin(f"{scheme}://{request.host}")


def _origin_of_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" in parts.netloc:  # user info: never what a browser sends as Referer
        return None
    return normalize_origin(f"{parts.scheme}://{parts.netloc}")
