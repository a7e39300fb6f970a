"""Cookie shadowing: a cookie planted by another site or subdomain posing as ours.

``__Host-`` cookies can only be set by this exact host over HTTPS, so the app relies on
them (sessions, CSRF). A parser that reads something else as a ``__Host-`` name, or
that lets a planted cookie win, hands that trust to an attacker.
"""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Request, Settings
from satchel.sessions import Session, SessionMiddleware, get_session
from satchel.testing import TestClient
from tests.support import call_asgi

KEY = "cookie-shadowing-test-key-" + "k" * 40


def build_app(key: str = KEY) -> App[Any]:
    app = App(settings=Settings(secret_key=key, access_log=False))
    app.add_middleware(SessionMiddleware())

    @app.get("/cookies")
    async def cookies(request: Request) -> dict[str, str]:
        return request.cookies

    @app.get("/login")
    async def login(request: Request) -> str:
        session: Session = await get_session(request)
        session.rotate()
        session["user"] = "ada"
        return "welcome"

    @app.get("/me")
    async def me(request: Request) -> str | None:
        session: Session = await get_session(request)
        user: str | None = session.get("user")
        return user

    return app


def cookies_seen(header: bytes) -> dict[str, str]:
    result = call_asgi(build_app(), path="/cookies", headers=[(b"cookie", header)])
    assert result.status == 200
    seen: dict[str, str] = result.json()
    return seen


@pytest.mark.parametrize(
    "header",
    [
        b"=__Host-session=evil",
        b"=__Host-session=evil; other=1",
        b'"__Host-session"=evil',
        b"\xa0__Host-session=evil",
        b"\x85__Host-session=evil",
        b"\x1c__Host-session=evil",
        b"__Host-session\x1f=evil",
        b"\xe2\x80\x80__Host-session=evil",
    ],
    ids=repr,
)
def test_nothing_else_reads_as_a_host_prefixed_cookie(header: bytes) -> None:
    """Werkzeug CVE-2023-23934 (a nameless ``=__Host-x=y`` cookie parsed as ``__Host-x``);
    PortSwigger's "Cookie Chaos" (2025): names behind Unicode whitespace, which browsers
    store as ordinary cookies and Python's ``str.strip`` then turns into ``__Host-`` ones.
    """
    assert "__Host-session" not in cookies_seen(header)


def test_the_first_of_duplicate_cookies_wins() -> None:
    """Browsers send the most specific (host-only, longest path) cookie first; a cookie a
    sibling subdomain planted for the parent domain comes later and must not win.
    """
    assert cookies_seen(b"__Host-session=real; __Host-session=planted") == {
        "__Host-session": "real"
    }


def test_a_cookie_value_cannot_smuggle_another_cookie() -> None:
    """Django CVE-2016-7401: a ``]`` in an attacker-set cookie (Google Analytics) made the
    parser split one cookie into two, planting a CSRF cookie.
    """
    seen = cookies_seen(b"__utmz=1.2.3]__Host-csrf=planted; a=b")
    assert seen == {"__utmz": "1.2.3]__Host-csrf=planted", "a": "b"}


def test_a_planted_session_cookie_is_refused() -> None:
    """A session cookie is signed with the app's key: one minted by another app (or
    another deployment), or tampered with, reads as no session.
    """
    with TestClient(build_app("another app's key " + "x" * 40)) as client:
        client.get("/login")
        foreign = client.cookies["__Host-session"]
    with TestClient(build_app()) as client:
        client.get("/login")
        genuine = client.cookies["__Host-session"]
    for planted in ("forged", foreign, genuine + "x", genuine[:-2]):
        with TestClient(build_app(), cookies={"__Host-session": planted}) as client:
            assert client.get("/me").json() is None
