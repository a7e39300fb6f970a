"""``current_user``: the user of a request or WebSocket, as a dependency; ``CurrentUser``.

The app's ``Auth`` backends are asked once per connection, and the answer kept
for the rest of it (``login`` and ``logout`` update it). A credential in a header
(a bearer token, an API key, any ``Authorization`` but Basic, Digest, NTLM and
Negotiate) decides alone: when no backend accepts it the answer is 401, even if
the browser also sent a session cookie (those requests skip CSRF checks).

>>> from satchel import App, Settings
>>> app = App(settings=Settings())
>>> @app.get("/me")
... async def me(user: CurrentUser) -> str:
...     return user.get_username() if user.is_authenticated else "nobody"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from satchel.auth.auth import Auth, auth_of
from satchel.auth.backends import (
    Connection,
    Credentials,
    InvalidCredentials,
    cached_credentials,
    remember_credentials,
)
from satchel.auth.models import ANONYMOUS, AnonymousUser, AuthUser
from satchel.csrf import is_ambient_authorization
from satchel.db.database import Session
from satchel.params import Depends
from satchel.requests import Request
from satchel.websockets import WebSocket

if TYPE_CHECKING:
    from satchel.db import DbSession

__all__ = ["CurrentCredentials", "CurrentUser", "current_credentials", "current_user"]


async def current_credentials(connection: Request | WebSocket, db: Session) -> Credentials | None:
    """How the connection authenticated (None: anonymous); a dependency too.

    Raises:
        InvalidCredentials: a token or key was presented and does not authenticate (401).
    """
    found, credentials = cached_credentials(connection)
    if not found:
        credentials = await _authenticate(auth_of(connection.app), connection, db)
        remember_credentials(connection, credentials)
    return credentials


async def current_user(connection: Request | WebSocket, db: Session) -> AuthUser | AnonymousUser:
    """The connection's user, or ``ANONYMOUS``; a dependency (see ``CurrentUser``).

    Raises:
        InvalidCredentials: a token or key was presented and does not authenticate (401).
    """
    credentials = await current_credentials(connection, db)
    return ANONYMOUS if credentials is None else credentials.user


async def _authenticate(auth: Auth, connection: Connection, db: DbSession) -> Credentials | None:
    for backend in auth.backends:
        if not backend.ambient and backend.present(connection):
            return await backend.authenticate(auth, connection, db)
    authorization = connection.headers.get_single("authorization")
    if authorization is not None and not is_ambient_authorization(authorization):
        # A credential header no backend takes (malformed, or another scheme): refused
        # or anonymous, never the session cookie that came with it, since such
        # requests skip the CSRF checks.
        challenge = next(
            (c for b in auth.backends if (c := b.challenge) and c.startswith("Bearer ")), None
        )
        if challenge is not None:
            raise InvalidCredentials(f'{challenge}, error="invalid_token"')
        return None
    for backend in auth.backends:
        if backend.ambient and backend.present(connection):
            credentials = await backend.authenticate(auth, connection, db)
            if credentials is not None:
                return credentials
    return None


#: The connection's user as a handler parameter: ``user: CurrentUser``.
CurrentUser = Annotated[AuthUser | AnonymousUser, Depends(current_user)]
#: How the connection authenticated (None: anonymous): ``credentials: CurrentCredentials``.
CurrentCredentials = Annotated[Credentials | None, Depends(current_credentials)]
