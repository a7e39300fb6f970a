"""Where a request's user comes from: the ``Backend`` protocol, ``Credentials``, 401 errors.

``Auth(backends=...)`` lists backends in order. A backend that finds its kind of
credential on the connection (a session cookie, an ``Authorization: Bearer``
header, an ``X-API-Key`` header) answers for it: with ``Credentials`` when they
are good, with :class:`InvalidCredentials` (401) when they are not. A request that
presents a header credential is judged by it alone: a bad token never falls back
to the browser's session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from satchel.errors import Forbidden, Unauthorized
from satchel.requests import Request
from satchel.websockets import WebSocket

if TYPE_CHECKING:
    from satchel.auth.auth import Auth
    from satchel.db import DbSession

__all__ = [
    "Backend",
    "Connection",
    "Credentials",
    "InsufficientScope",
    "InvalidCredentials",
    "bearer_challenge",
    "cached_credentials",
    "remember_credentials",
]

#: What a backend reads credentials from: a request or a WebSocket handshake.
Connection = Request | WebSocket


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who a connection authenticated as, and how.

    Attributes:
        user: The user (active, found in the database).
        method: How: ``"session"``, ``"bearer"``, ``"api_key"``, ``"jwt"``.
        scopes: What the credential allows; None: everything the user may do
            (a session login, a token or JWT created without scopes); empty: nothing
            a guarded route allows.
        token: The stored token that authenticated (opaque tokens), else None.
    """

    user: Any
    method: str
    scopes: frozenset[str] | None = None
    token: Any = None

    def allows(self, scope: str) -> bool:
        """Whether the credential carries ``scope`` (always, when it is not scoped)."""
        return self.scopes is None or scope in self.scopes


@runtime_checkable
class Backend(Protocol):
    """One way to authenticate a connection.

    Attributes:
        name: Its OpenAPI security scheme name (``"bearerAuth"``).
        challenge: Its ``WWW-Authenticate`` challenge on a 401 (None: it has none).
        ambient: Its credential is one browsers attach by themselves (a cookie): it
            is consulted only when no header credential was presented.
    """

    name: str
    challenge: str | None
    ambient: bool

    def present(self, connection: Connection) -> bool:
        """Whether ``connection`` carries this backend's kind of credential."""
        ...

    async def authenticate(
        self, auth: Auth, connection: Connection, db: DbSession
    ) -> Credentials | None:
        """The credentials' owner, None when there are none to check.

        Raises:
            InvalidCredentials: credentials were presented and do not authenticate.
        """
        ...

    def openapi_scheme(self, app: Any) -> Mapping[str, Any]:
        """Its OpenAPI security scheme object."""
        ...


def bearer_challenge(
    realm: str,
    error: Literal["invalid_token", "insufficient_scope"] | None = None,
    description: str | None = None,
    scope: str | None = None,
) -> str:
    """A ``WWW-Authenticate: Bearer`` challenge (RFC 6750 section 3).

    >>> bearer_challenge("api", "invalid_token", "The token expired")
    'Bearer realm="api", error="invalid_token", error_description="The token expired"'
    """
    parts = [f'realm="{realm}"']
    if error is not None:
        parts.append(f'error="{error}"')
    if description is not None:
        parts.append(f'error_description="{description}"')
    if scope is not None:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


class InvalidCredentials(Unauthorized):
    """401: the connection presented a token or key that does not authenticate.

    The detail stays generic ("Invalid credentials"): whether a token is unknown,
    expired or revoked is not the client's to probe.
    """

    def __init__(self, challenge: str | None) -> None:
        headers = {"WWW-Authenticate": challenge} if challenge else None
        super().__init__("Invalid credentials", headers=headers)


class InsufficientScope(Forbidden):
    """403: the credential lacks a scope the route requires (RFC 6750 ``insufficient_scope``).

    ``scopes`` empty: the route names none, so no scoped credential may use it.
    """

    def __init__(self, scopes: tuple[str, ...], realm: str) -> None:
        challenge = bearer_challenge(realm, "insufficient_scope", scope=" ".join(scopes) or None)
        super().__init__(
            "The credential lacks a required scope", headers={"WWW-Authenticate": challenge}
        )


# The request's resolved credentials (None: anonymous), kept in ``connection.state``.
_STATE_KEY = "satchel.auth.credentials"


def cached_credentials(connection: Connection) -> tuple[bool, Credentials | None]:
    """``(found, credentials)``: what this connection already resolved to, if anything."""
    state = connection.state
    if _STATE_KEY in state:
        return True, state[_STATE_KEY]
    return False, None


def remember_credentials(connection: Connection, credentials: Credentials | None) -> None:
    """Make ``credentials`` (None: anonymous) this connection's, for every later look-up."""
    connection.state[_STATE_KEY] = credentials
