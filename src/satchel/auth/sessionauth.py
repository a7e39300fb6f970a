"""Logging in and out of a session: ``login``, ``logout``, ``update_session_auth_hash``.

The session keeps the user's id and a *session hash*: an HMAC of the user's id
and password hash under a key derived from the app's secret keys. Every request
compares it with the stored password's, so changing the password (or setting an
unusable one) ends every session made before; ``update_session_auth_hash`` keeps
the session of the user who changed it. Deactivating a user ends their sessions
too. ``SessionBackend`` reads all this back for ``current_user``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from satchel.auth.backends import Connection, Credentials, remember_credentials
from satchel.db.database import database_of
from satchel.requests import Request
from satchel.sessions.middleware import SessionMiddleware, get_session, read_session

if TYPE_CHECKING:
    from satchel.auth.auth import Auth
    from satchel.db import DbSession

__all__ = [
    "SESSION_HASH_KEY",
    "SESSION_USER_KEY",
    "SessionBackend",
    "login",
    "logout",
    "session_hash",
    "update_session_auth_hash",
]

#: The session keys login sets: the user's id and the session hash.
SESSION_USER_KEY = "_auth_user_id"
SESSION_HASH_KEY = "_auth_user_hash"

_PURPOSE = b"satchel.auth.session-hash"


def session_hash(keys: Sequence[str], user: Any) -> str:
    """The session hash of ``user`` (its id and stored password hash), under the newest key."""
    return _mac(keys[0], user)


def _hash_matches(keys: Sequence[str], user: Any, stored: object) -> bool:
    if not isinstance(stored, str):
        return False
    # Every key, so sessions survive a key rotation while the old key is a fallback.
    return any(hmac.compare_digest(_mac(key, user), stored) for key in keys)


def _mac(key: str, user: Any) -> str:
    # The id is in the message: users without a password hash (None) do not share one.
    message = f"{_user_key(user.id)}\x00{user.password or ''}".encode()
    return hmac.new(_purpose_key(key), message, hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=8)
def _purpose_key(key: str) -> bytes:
    """A key for session hashes only, derived from ``key`` once, not on every request."""
    return hmac.digest(key.encode(), _PURPOSE, "sha256")


def _user_key(user_id: Any) -> int | str:
    # JSON keeps ints and strings as they are; other keys (UUIDs) as text.
    return user_id if isinstance(user_id, int | str) else str(user_id)


async def login(request: Request, user: Any, *, remember: bool = False) -> None:
    """Log ``user`` in to the request's session.

    The session gets a new id (an id planted before login is worthless after it)
    and a new CSRF secret; a session that belonged to another user is emptied
    first. ``last_login`` is set: committed with the session that loaded ``user``,
    or at once when ``user`` belongs to none.

    Args:
        request: The request whose session logs in.
        user: An active user.
        remember: Keep the session cookie after the browser closes, until the
            session expires; otherwise it is a browser-session cookie.

    Raises:
        ValueError: ``user`` is inactive.
    """
    if not user.is_active:
        raise ValueError("An inactive user cannot log in")
    session = await get_session(request)
    key = _user_key(user.id)
    if session.get(SESSION_USER_KEY, key) != key:
        session.clear()  # nothing of the previous user's reaches the next one
    session.rotate()
    session[SESSION_USER_KEY] = key
    session[SESSION_HASH_KEY] = session_hash(request.app.secret_keys, user)
    session.persistent = remember
    await _record_login(request, user)
    remember_credentials(request, Credentials(user, "session"))


async def _record_login(request: Request, user: Any) -> None:
    now = datetime.now(UTC)
    user.last_login = now
    state = sa.inspect(user, raiseerr=False)
    if state is not None and state.session is not None:
        return  # flushed and committed with the session it belongs to
    model = type(user)
    (primary_key,) = sa.inspect(model).primary_key
    statement = sa.update(model).where(primary_key == user.id).values(last_login=now)
    async with database_of(request.app).transaction() as db:
        await db.execute(statement)


async def logout(request: Request) -> None:
    """End the request's session: its data is cleared, its id deleted, its cookie expired.

    The rest of the request sees the anonymous user.
    """
    session = await get_session(request)
    session.destroy()
    remember_credentials(request, None)


async def update_session_auth_hash(request: Request, user: Any) -> None:
    """Keep ``user`` logged in to this session after changing their own password.

    Their other sessions end on their next request. The session gets a new id.
    """
    session = await get_session(request)
    if session.get(SESSION_USER_KEY) == _user_key(user.id):
        session.rotate()
        session[SESSION_HASH_KEY] = session_hash(request.app.secret_keys, user)


class SessionBackend:
    """Authenticates a request by the user logged in to its session (``login``).

    WebSocket handshakes read the session without changing it.
    """

    name: str = "cookieAuth"
    challenge: str | None = None
    ambient: bool = True

    def present(self, connection: Connection) -> bool:
        """Always consulted (when no header credential was): the session decides."""
        return True

    async def authenticate(
        self, auth: Auth, connection: Connection, db: DbSession
    ) -> Credentials | None:
        """The session's user, if the session is still valid for them."""
        if isinstance(connection, Request):
            session = await get_session(connection)
            user = await self._user(auth, connection, db, session)
            if user is None and SESSION_USER_KEY in session:
                session.destroy()  # a stale login: a changed password, a removed user
            return None if user is None else Credentials(user, "session")
        user = await self._user(auth, connection, db, await read_session(connection))
        return None if user is None else Credentials(user, "session")

    async def _user(
        self, auth: Auth, connection: Connection, db: DbSession, data: Mapping[str, Any]
    ) -> Any:
        user_id = data.get(SESSION_USER_KEY)
        if user_id is None:
            return None
        user = await auth.get_user(db, user_id)
        if user is None or not user.is_active:
            return None
        keys = connection.app.secret_keys
        if not _hash_matches(keys, user, data.get(SESSION_HASH_KEY)):
            return None
        return user

    def openapi_scheme(self, app: Any) -> Mapping[str, Any]:
        """An API key in the session cookie (the app's ``SessionMiddleware`` names it)."""
        name = next(
            (m.cookie_name for m in app.middleware if isinstance(m, SessionMiddleware)),
            "__Host-session",
        )
        return {"type": "apiKey", "in": "cookie", "name": name}

    def __repr__(self) -> str:
        return "SessionBackend()"
