"""CSRF bypasses: each way a cross-site page got an unsafe request past a CSRF check.

A browser attaches the user's cookies to requests other sites make it send. Every
unsafe request that carries cookies needs the token, and every one that says where it
comes from must come from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from satchel import App, Request, Settings
from satchel.csrf import CSRF_HEADER, csrf_token
from satchel.testing import TestClient
from tests.security.helpers import assert_refused_http

OWN = "https://testserver"
EVIL = "https://evil.example"
transfers: list[object] = []


class Transfer(msgspec.Struct):
    to: str
    amount: int


def build_app() -> App[Any]:
    app = App(settings=Settings(secret_key="csrf-bypass-test-key-" + "k" * 40, access_log=False))

    @app.get("/token")
    async def token(request: Request) -> str:
        return csrf_token(request)

    @app.post("/transfer")
    async def transfer(body: Transfer) -> str:
        transfers.append(body)
        return "sent"

    @app.post("/form-transfer")
    async def form_transfer(request: Request) -> str:
        transfers.append(dict((await request.form()).fields()))
        return "sent"

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A signed-in browser: it holds the CSRF cookie (and a session-like cookie)."""
    transfers.clear()
    with TestClient(build_app(), cookies={"session": "abc"}) as client:
        client.headers[CSRF_HEADER] = client.get("/token").text
        yield client
    assert transfers == []  # no forged request ever reached a handler


def refused(
    client: TestClient, detail: str, path: str = "/transfer", status: int = 403, **kwargs: Any
) -> None:
    """POST a forged transfer and check the exact refusal and its reason."""
    kwargs.setdefault("json", {"to": "mallory", "amount": 1000})
    body = assert_refused_http(client.post(path, **kwargs), status)
    assert detail in body["detail"]


def without_token(client: TestClient) -> None:
    del client.headers[CSRF_HEADER]


def test_missing_token_is_403(client: TestClient) -> None:
    """Django CVE-2011-0696: requests with ``X-Requested-With`` were trusted without a
    token, and browser plugins could forge that header cross-site.
    """
    without_token(client)
    refused(client, "no token", headers={"origin": OWN})
    refused(client, "no token", headers={"origin": OWN, "x-requested-with": "XMLHttpRequest"})
    refused(
        client, "no token", "/form-transfer", data={"to": "m"}, json=None, headers={"origin": OWN}
    )


def test_foreign_origin_is_403_even_with_a_token(client: TestClient) -> None:
    """A page on another origin (the token leaked, or CORS let it read one)."""
    for origin in (
        EVIL,
        "https://testserver.evil.example",
        "http://testserver",
        "https://testserver@evil.example",
        "https://testserver:8443",
    ):
        refused(client, "Origin is not trusted", headers={"origin": origin})


def test_null_origin_is_403(client: TestClient) -> None:
    """``Origin: null``: sandboxed iframes and ``data:`` pages, which any site can create."""
    refused(client, "Origin is null", headers={"origin": "null"})


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_fetch_metadata_from_elsewhere_is_403(client: TestClient, site: str) -> None:
    """``Sec-Fetch-Site`` is set by the browser; a sibling subdomain is ``same-site``."""
    refused(client, "untrusted origin", headers={"sec-fetch-site": site, "origin": OWN})


def test_foreign_referer_without_origin_is_403(client: TestClient) -> None:
    """Over HTTPS, old browsers that omit ``Origin`` still send ``Referer``."""
    refused(client, "Referer is not a trusted origin", headers={"referer": f"{EVIL}/page"})
    refused(client, "no Origin or Referer")


def test_json_sent_as_text_plain_is_refused(client: TestClient) -> None:
    """FastAPI CVE-2021-32677 (GHSA-8h2j-cgx8-6xv7): JSON was parsed from ``text/plain``
    bodies, which a cross-site ``<form enctype="text/plain">`` can send with cookies.
    """
    forged = b'{"to": "mallory", "amount": 1000, "x": "="}'
    plain = {"content-type": "text/plain"}
    refused(
        client,
        "Origin is not trusted",
        json=None,
        content=forged,
        headers={**plain, "origin": EVIL},
    )
    refused(
        client,
        "application/json",
        json=None,
        content=forged,
        status=415,
        headers={**plain, "origin": OWN},
    )


def test_token_of_another_client_is_403(client: TestClient) -> None:
    """A token is bound to the client's secret: the attacker's own token does not verify."""
    with TestClient(build_app(), cookies={"session": "attacker"}) as attacker:
        foreign = attacker.get("/token").text
    refused(client, "token is invalid", headers={"origin": OWN, CSRF_HEADER: foreign})


def test_forged_csrf_cookie_is_403() -> None:
    """Double-submit schemes accept any cookie that equals the token: an attacker who
    can set a cookie picks both. Here the cookie must carry the app's signature.
    """
    with TestClient(build_app()) as attacker:
        token = attacker.get("/token").text
        genuine = attacker.cookies["__Host-csrf"]
    secret = genuine.partition(".")[0]
    for forged in (secret, f"{secret}.{'0' * 64}", genuine + "0"):
        with TestClient(build_app(), cookies={"__Host-csrf": forged}) as victim:
            refused(
                victim, "cookie is missing or invalid", headers={"origin": OWN, CSRF_HEADER: token}
            )


def test_cookie_tossing_from_a_sibling_subdomain_is_403() -> None:
    """Cookie tossing: a sibling subdomain plants the attacker's own (validly signed) CSRF
    cookie and sends its token. The ``__Host-`` prefix stops browsers from accepting the
    cookie from a subdomain; the request's origin is refused as well.
    """
    with TestClient(build_app()) as attacker:
        response = attacker.get("/token")
        token, planted = response.text, attacker.cookies["__Host-csrf"]
    assert response.headers["set-cookie"].startswith("__Host-csrf=")
    assert "domain=" not in response.headers["set-cookie"].lower()
    sibling = {"origin": "https://blog.testserver", CSRF_HEADER: token}
    with TestClient(build_app(), cookies={"__Host-csrf": planted}) as victim:
        refused(victim, "Origin is not trusted", headers=sibling)
        refused(victim, "untrusted origin", headers={**sibling, "sec-fetch-site": "same-site"})


def test_ambient_basic_auth_is_checked_but_bearer_is_not(client: TestClient) -> None:
    """Browsers replay Basic credentials on cross-site requests; bearer tokens they don't."""
    without_token(client)
    refused(
        client, "Origin is not trusted", headers={"origin": EVIL, "authorization": "Basic YTpi"}
    )
    response = client.post(
        "/transfer",
        json={"to": "ci", "amount": 1},
        headers={"origin": EVIL, "authorization": "Bearer api-key"},
    )
    assert response.status_code == 200
    transfers.clear()


def test_token_in_the_query_string_does_not_count(client: TestClient) -> None:
    """Tokens in URLs leak through logs and ``Referer``; only the header or form field count."""
    token = client.headers.pop(CSRF_HEADER)
    refused(client, "no token", f"/transfer?csrf_token={token}", headers={"origin": OWN})


def test_the_genuine_request_passes(client: TestClient) -> None:
    response = client.post("/transfer", json={"to": "bob", "amount": 5}, headers={"origin": OWN})
    assert response.text == "sent"
    transfers.clear()
