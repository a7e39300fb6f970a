"""Missing ``Vary: Cookie``: a shared cache serving one user's page to another.

Every response whose content may depend on the session or on the CSRF cookie says
``Vary: Cookie``; one that sets the session cookie is also ``Cache-Control: private``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from satchel import App, Forbidden, Request, Settings
from satchel.cors import CORSConfig
from satchel.csrf import csrf_token
from satchel.sessions import SessionMiddleware, get_session
from satchel.testing import TestClient

FRONTEND = "https://app.example"


def vary(response: httpx.Response) -> set[str]:
    """The header names in ``Vary``, in any order."""
    return {name.strip().lower() for name in response.headers.get("vary", "").split(",")} - {""}


def build_app() -> App[Any]:
    app = App(
        settings=Settings(secret_key="vary-cookie-test-key-" + "k" * 40, access_log=False),
        cors=CORSConfig(allow_origins=[FRONTEND]),
    )
    app.add_middleware(SessionMiddleware())

    @app.get("/login")
    async def login(request: Request) -> str:
        session = await get_session(request)
        session.rotate()
        session["user"] = "ada"
        return "welcome"

    @app.get("/contains")
    async def contains(request: Request) -> bool:
        return "user" in await get_session(request)

    @app.get("/length")
    async def length(request: Request) -> int:
        return len(await get_session(request))

    @app.get("/members-only")
    async def members_only(request: Request) -> str:
        if (await get_session(request)).get("user") is None:
            raise Forbidden("Sign in first")
        return "secret page"

    @app.get("/form")
    async def form(request: Request) -> str:
        return csrf_token(request)

    @app.get("/public")
    async def public() -> str:
        return "same for everyone"

    return app


@pytest.mark.parametrize("path", ["/contains", "/length", "/members-only", "/form"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_responses_that_read_the_cookies_vary_by_cookie(path: str, signed_in: bool) -> None:
    """Flask CVE-2023-30861 (session refreshed without ``Vary: Cookie``) and CVE-2026-27205
    (GHSA-68rp-wp8r-4726: ``in`` on the session did not count as access).
    """
    with TestClient(build_app()) as client:
        if signed_in:
            client.get("/login")
        response = client.get(path, headers={"origin": FRONTEND})
    assert response.status_code == (403 if path == "/members-only" and not signed_in else 200)
    assert vary(response) == {"origin", "cookie"}


def test_setting_the_session_cookie_keeps_shared_caches_out() -> None:
    """A response carrying ``Set-Cookie`` may still be stored by a shared cache."""
    with TestClient(build_app()) as client:
        response = client.get("/login")
    assert response.headers["set-cookie"].startswith("__Host-session=")
    assert vary(response) == {"origin", "cookie"}
    assert response.headers["cache-control"] == "private"


def test_pages_that_ignore_the_cookies_stay_cacheable() -> None:
    with TestClient(build_app()) as client:
        client.get("/login")
        response = client.get("/public")
    assert vary(response) == {"origin"}  # CORS's, for every response
    assert "set-cookie" not in response.headers
