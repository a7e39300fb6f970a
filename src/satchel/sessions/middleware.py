"""The session middleware and ``get_session``: load on first use, save with the response."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from satchel.errors import ConfigurationError
from satchel.middleware import CallNext
from satchel.requests import Request
from satchel.responses import Response
from satchel.sessions.backends import Backend, CookieBackend, CookieStore, StoreBackend
from satchel.sessions.session import Record, Session, new_session_id
from satchel.sessions.store import SessionStore
from satchel.signing import Signer
from satchel.websockets import WebSocket

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_AGE",
    "SessionMiddleware",
    "get_session",
    "read_session",
]

#: NIST SP 800-63B AAL2 (which ASVS 5.0 V7.1.1 refers to): reauthenticate after
#: 30 minutes of inactivity and at least every 12 hours.
DEFAULT_IDLE_TIMEOUT = 30 * 60
DEFAULT_MAX_AGE = 12 * 60 * 60

# request.state keys: the middleware serving the request, and the loaded session.
_MIDDLEWARE_KEY = "satchel.sessions.middleware"
_SESSION_KEY = "satchel.sessions.session"


async def get_session(request: Request) -> Session:
    """The request's session, loaded on the first call (a dependency too).

    ``session: Session = Depends(get_session)`` in a handler's parameters, or
    ``session = await get_session(request)`` anywhere with the request.

    Raises:
        RuntimeError: no ``SessionMiddleware`` serves this route.
    """
    state = request.state
    session: Session | None = state.get(_SESSION_KEY)
    if session is None:
        middleware: SessionMiddleware | None = state.get(_MIDDLEWARE_KEY)
        if middleware is None:
            raise RuntimeError(
                "get_session() needs the session middleware: "
                "app.add_middleware(SessionMiddleware())"
            )
        session = await middleware.load(request)
        state[_SESSION_KEY] = session
    return session


async def read_session(ws: WebSocket) -> Mapping[str, Any]:
    """The data of the session a WebSocket handshake carries, read only (empty if none).

    HTTP middleware does not run for handshakes, so there is no ``get_session``;
    this reads the cookie with the app's ``SessionMiddleware`` (the first one).
    """
    for middleware in ws.app.middleware:
        if isinstance(middleware, SessionMiddleware):
            return await middleware.peek(ws)
    return {}


class SessionMiddleware:
    """Give handlers a session, kept in a signed cookie or in a server-side store.

    Nothing happens for requests that never call :func:`get_session`. A session
    that was read adds ``Vary: Cookie`` to the response; one that changed is
    saved, and its cookie set, before the response starts (streaming ones too),
    with ``Cache-Control: private`` unless the response chose its own.
    Responses with a 5xx status save nothing, except that ``destroy()`` still
    ends the session.

    Args:
        store: Where sessions live: None or a :class:`CookieStore` for a signed
            cookie, or a server-side store (``MemoryStore``, ``RedisStore``,
            ``DatabaseStore``, any :class:`SessionStore`).
        cookie_name: The cookie; the ``__Host-`` prefix makes browsers refuse it
            unless Secure, for path ``/``, from this exact host.
        max_age: Absolute timeout in seconds: a session ends this long after it
            started or was rotated (login), used or not. None: no limit.
        idle_timeout: A session unused for this many seconds ends. None: no limit.
        same_site: The cookie's SameSite attribute.
        secure: Send the cookie over HTTPS only.
        http_only: Hide the cookie from JavaScript.
        path: The cookie's path.
        clock: Returns the current time in seconds since the epoch (tests).

    Raises:
        ConfigurationError: both timeouts are None, a timeout is not positive,
            or the cookie attributes break the name's prefix rules.
    """

    def __init__(
        self,
        store: SessionStore | CookieStore | None = None,
        *,
        cookie_name: str = "__Host-session",
        max_age: int | None = DEFAULT_MAX_AGE,
        idle_timeout: int | None = DEFAULT_IDLE_TIMEOUT,
        same_site: Literal["lax", "strict", "none"] = "lax",
        secure: bool = True,
        http_only: bool = True,
        path: str = "/",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_age is None and idle_timeout is None:
            raise ConfigurationError(
                "Sessions need an absolute (max_age) or an idle timeout, or they never end"
            )
        if any(t is not None and t <= 0 for t in (max_age, idle_timeout)):
            raise ConfigurationError("Session timeouts must be positive numbers of seconds")
        try:  # checked now, not on the first response that sets the cookie
            Response().set_cookie(
                cookie_name, "", secure=secure, httponly=http_only, samesite=same_site, path=path
            )
        except ValueError as exc:
            raise ConfigurationError(f"Session cookie: {exc}") from None
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.idle_timeout = idle_timeout
        self.same_site: Literal["lax", "strict", "none"] = same_site
        self.secure = secure
        self.http_only = http_only
        self.path = path
        self._clock = clock
        self._backend: Backend = (
            StoreBackend(store)
            if store is not None and not isinstance(store, CookieStore)
            else CookieBackend(store or CookieStore(), cookie_name)
        )
        # Activity is recorded at most this often, not on every request: the idle
        # timeout may then end a session up to this much early, never late.
        self._touch_after = min(60.0, idle_timeout / 10) if idle_timeout else None
        self._signer_keys: tuple[str, ...] = ()
        self._signer: Signer | None = None

    async def __call__(self, request: Request, call_next: CallNext) -> Response:
        request.state[_MIDDLEWARE_KEY] = self
        response = await call_next(request)
        session: Session | None = request.state.get(_SESSION_KEY)
        if session is not None and not session._committed:
            await self._commit(request, response, session)
        return response

    async def load(self, request: Request) -> Session:
        """Read the request's session from its cookie (a new one if none is valid)."""
        now = self._clock()
        record = await self._record(request)
        if record is not None:
            if not self._expired(record, now):
                return Session(
                    record.data,
                    session_id=record.id,
                    created_at=record.created_at,
                    last_seen=record.last_seen,
                    clock=self._clock,
                    request=request,
                    persistent=record.persistent,
                )
            await self._backend.delete(record.id)
        # Whatever id the client sent, a new session gets a new random one when saved.
        return Session(created_at=now, last_seen=now, clock=self._clock, request=request)

    async def peek(self, connection: Request | WebSocket) -> Mapping[str, Any]:
        """The data of the session ``connection`` carries, read only (empty if none is valid)."""
        record = await self._record(connection)
        if record is None or self._expired(record, self._clock()):
            return {}
        return record.data

    async def _record(self, connection: Request | WebSocket) -> Record | None:
        """The record ``connection``'s session cookie stands for, expired or not; None if none."""
        value = connection.cookies.get(self.cookie_name)
        if not value:
            return None
        return await self._backend.load(value, self._signer_for(connection))

    def _expired(self, record: Record, now: float) -> bool:
        return (self.max_age is not None and now - record.created_at >= self.max_age) or (
            self.idle_timeout is not None and now - record.last_seen >= self.idle_timeout
        )

    async def _commit(self, request: Request, response: Response, session: Session) -> None:
        data = session._commit()
        failed = response.status_code >= 500
        if failed and not session._destroyed:
            if session.accessed:
                response.headers.add_vary("Cookie")
            return
        if session._stale_id is not None:
            await self._backend.delete(session._stale_id)
        now = self._clock()
        ttl = self._time_left(session, now)
        if not data or ttl <= 0 or failed:
            await self._end(request, response, session)
        elif session.modified or self._activity_due(session, now):
            await self._save(request, response, session, data, now, ttl)
        if session.accessed:
            response.headers.add_vary("Cookie")

    def _time_left(self, session: Session, now: float) -> int:
        limits = [
            limit
            for limit in (
                self.idle_timeout,
                None if self.max_age is None else session.created_at + self.max_age - now,
            )
            if limit is not None
        ]
        return math.ceil(min(limits))

    def _activity_due(self, session: Session, now: float) -> bool:
        return (
            session.accessed
            and self._touch_after is not None
            and now - session.last_seen >= self._touch_after
        )

    async def _end(self, request: Request, response: Response, session: Session) -> None:
        """Delete what is left of the session and expire its cookie if the client has one."""
        if session._id is not None:
            await self._backend.delete(session._id)
        if self.cookie_name in request.cookies:
            response.delete_cookie(self.cookie_name, path=self.path, secure=self.secure)
            response.headers.add_vary("Cookie")

    async def _save(
        self,
        request: Request,
        response: Response,
        session: Session,
        data: dict[str, object],
        now: float,
        ttl: int,
    ) -> None:
        # A session that came with the request is saved only while it still exists.
        existing = session._id is not None
        if session._id is None:
            session._id = new_session_id()
        session.last_seen = now
        record = Record(session._id, data, int(session.created_at), int(now), session.persistent)
        signer = self._signer_for(request)
        value = await self._backend.save(record, ttl, signer, existing=existing)
        if value is None:
            # Ended meanwhile by a concurrent logout or login: its changes are dropped,
            # and the client's cookie, maybe already replaced, is left alone.
            return
        response.set_cookie(
            self.cookie_name,
            value,
            # A browser-session cookie ("remember me" not ticked) has no Max-Age; the
            # server-side timeouts still end the session whatever the browser keeps.
            max_age=ttl if session.persistent else None,
            path=self.path,
            secure=self.secure,
            httponly=self.http_only,
            samesite=self.same_site,
        )
        response.headers.add_vary("Cookie")
        if "cache-control" not in response.headers:
            # A shared cache may store a response despite its Set-Cookie (RFC 9111),
            # and would hand this client's session to everyone.
            response.headers["cache-control"] = "private"

    def _signer_for(self, connection: Request | WebSocket) -> Signer:
        keys = connection.app.secret_keys
        if self._signer is None or keys is not self._signer_keys:
            self._signer = Signer(keys, salt=self._backend.salt)
            self._signer_keys = keys
        return self._signer

    def __repr__(self) -> str:
        return f"<SessionMiddleware {self.cookie_name!r}>"
