"""Session fixation: an attacker plants a session id, the victim signs in with it.

``session.rotate()`` at login gives the session a new id (and the client a new CSRF
secret) and deletes the old one; an id the store does not know is never adopted.
"""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Request, Settings
from satchel.csrf import CSRF_HEADER, csrf_token
from satchel.sessions import CookieStore, MemoryStore, SessionMiddleware, SessionStore, get_session
from satchel.testing import TestClient

COOKIE = "__Host-session"
OWN = {"origin": "https://testserver"}


def build_app(store: SessionStore | CookieStore) -> App[Any]:
    app = App(settings=Settings(secret_key="fixation-test-key-" + "k" * 40, access_log=False))
    app.add_middleware(SessionMiddleware(store))

    @app.get("/token")
    async def token(request: Request) -> str:
        return csrf_token(request)

    @app.post("/cart")
    async def cart(request: Request) -> str:
        (await get_session(request))["cart"] = ["book"]
        return "added"

    @app.post("/login")
    async def login(request: Request) -> str:
        session = await get_session(request)
        session.rotate()
        session["user"] = "victim"
        return "welcome"

    @app.post("/logout")
    async def logout(request: Request) -> str:
        (await get_session(request)).destroy()
        return "bye"

    @app.get("/me")
    async def me(request: Request) -> dict[str, Any]:
        return dict(await get_session(request))

    return app


def post(client: TestClient, path: str) -> str:
    """An unsafe request the way the app's own page sends it (Origin and token)."""
    token = client.get("/token").text
    response = client.post(path, headers={**OWN, CSRF_HEADER: token})
    assert response.status_code == 200, response.text
    return response.text


def planted_session(app: App[Any]) -> dict[str, str]:
    """The attacker's own session cookie and CSRF cookie, made by visiting the site."""
    with TestClient(app) as attacker:
        post(attacker, "/cart")
        return {COOKIE: attacker.cookies[COOKIE], "__Host-csrf": attacker.cookies["__Host-csrf"]}


def browser(app: App[Any], planted: dict[str, str]) -> TestClient:
    """A client holding ``planted`` cookies as if this host had set them: the app's own
    Set-Cookie replaces them, as in a browser (the jar files host-only cookies of a
    dotless host under ``<host>.local``).
    """
    client = TestClient(app)
    for name, value in planted.items():
        client.cookies.set(name, value, domain="testserver.local")
    return client


@pytest.mark.parametrize("store", [MemoryStore, CookieStore], ids=["memory", "cookie"])
def test_planted_session_id_is_worthless_after_login(store: type[Any]) -> None:
    """Session fixation (CWE-384), as in pallets-eco/flask-session#173 and the login demo of
    aiohttp-security (#1005): the session id from before login stayed valid after it.
    """
    app = build_app(store())
    planted = planted_session(app)
    with browser(app, planted) as victim:
        post(victim, "/login")
        assert victim.cookies[COOKIE] != planted[COOKIE]
        assert victim.get("/me").json() == {"cart": ["book"], "user": "victim"}
    with browser(app, planted) as attacker:
        assert "user" not in attacker.get("/me").json()


def test_rotation_deletes_the_old_server_side_session() -> None:
    """With a server-side store, the pre-login id does not even find the anonymous cart."""
    app = build_app(MemoryStore())
    planted = planted_session(app)
    with browser(app, planted) as victim:
        post(victim, "/login")
    with browser(app, planted) as attacker:
        assert attacker.get("/me").json() == {}


def test_csrf_tokens_from_before_login_stop_working() -> None:
    """A token the attacker fixed along with the CSRF cookie is void after the login."""
    app = build_app(MemoryStore())
    with TestClient(app) as attacker:
        token = attacker.get("/token").text
        csrf_cookie = attacker.cookies["__Host-csrf"]
    with browser(app, {"__Host-csrf": csrf_cookie}) as victim:
        assert victim.post("/login", headers={**OWN, CSRF_HEADER: token}).status_code == 200
        response = victim.post("/cart", headers={**OWN, CSRF_HEADER: token})
    assert response.status_code == 403
    assert "token is invalid" in response.json()["detail"]


def test_unknown_or_logged_out_ids_are_never_adopted() -> None:
    """A store that took any id it was sent would let an attacker choose the id."""
    app = build_app(MemoryStore())
    with TestClient(app) as user:
        post(user, "/login")
        old = user.cookies[COOKIE]
        post(user, "/logout")
    with browser(app, {COOKIE: old}) as replay:
        assert replay.get("/me").json() == {}
        post(replay, "/cart")
        assert replay.cookies[COOKIE] != old
