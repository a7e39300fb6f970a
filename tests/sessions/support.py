"""An app with a session middleware and a fake clock, shared by the session tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx

from satchel import App, Depends, Settings
from satchel.sessions import CookieStore, Session, SessionMiddleware, SessionStore, get_session

#: The session as a handler parameter (``session: Session = Depends(get_session)`` works too).
SessionDep = Annotated[Session, Depends(get_session)]

KEY = "session-test-key-" + "k" * 40
COOKIE = "__Host-session"


@dataclass
class Clock:
    """A clock that moves only when told to."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Harness:
    """The app, its clock and middleware; ``seen`` collects the Session objects handlers got."""

    app: App[Any]
    clock: Clock
    middleware: SessionMiddleware
    store: SessionStore | CookieStore | None
    seen: list[Session] = field(default_factory=list)


def make_app(
    store: SessionStore | CookieStore | None = None,
    *,
    settings: Settings | None = None,
    clock: Clock | None = None,
    **options: Any,
) -> Harness:
    """An app whose routes read, write, rotate and destroy the session.

    CSRF protection is off: these tests are about sessions (``test_csrf_rotation``
    runs with it on).
    """
    clock = clock or Clock()
    middleware = SessionMiddleware(store, clock=clock, **options)
    app = App(settings=settings or Settings(secret_key=KEY), csrf=False)
    app.add_middleware(middleware)
    harness = Harness(app, clock, middleware, store)

    @app.get("/plain")
    async def plain() -> str:
        return "no session here"

    @app.get("/load")
    async def load(session: SessionDep) -> str:
        harness.seen.append(session)
        return "loaded, not read"

    @app.get("/read")
    async def read(session: SessionDep) -> dict[str, Any]:
        harness.seen.append(session)
        return dict(session)

    @app.post("/set")
    async def set_values(values: dict[str, Any], session: SessionDep) -> str:
        harness.seen.append(session)
        session.update(values)
        return "set"

    @app.post("/login")
    async def login(session: SessionDep) -> str:
        harness.seen.append(session)
        session.rotate()
        session["user"] = "ada"
        return "logged in"

    @app.post("/logout")
    async def logout(session: SessionDep) -> str:
        harness.seen.append(session)
        session.destroy()
        return "logged out"

    return harness


def set_cookie_headers(response: httpx.Response) -> list[str]:
    """The response's Set-Cookie headers for the session cookie."""
    return [v for v in response.headers.get_list("set-cookie") if v.startswith(COOKIE + "=")]


def session_cookie(response: httpx.Response) -> str | None:
    """The session cookie value the response sets, or None."""
    headers = set_cookie_headers(response)
    if not headers:
        return None
    (header,) = headers
    return header.split(";", 1)[0].split("=", 1)[1]


def expires_cookie(response: httpx.Response) -> bool:
    """Whether the response tells the client to drop its session cookie."""
    return any("Max-Age=0" in header for header in set_cookie_headers(response))
