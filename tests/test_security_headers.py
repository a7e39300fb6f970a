"""Security headers on every response: defaults, HSTS over HTTPS, route overrides, CSP nonces."""

from __future__ import annotations

import re
import textwrap
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from satchel import (
    App,
    ConfigurationError,
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Request,
    Response,
    Router,
    Settings,
    StreamingResponse,
)
from satchel.csp import csp_nonce
from satchel.securityheaders import SECURITY_HEADERS
from satchel.testing import TestClient
from tests.servers import ServerKind, serve_source
from tests.support import call_asgi

CSP = dict(SECURITY_HEADERS)["content-security-policy"]
HSTS = "max-age=31536000"
NONCE = re.compile(r"'nonce-([A-Za-z0-9+/]{24})'")


def _app(**settings: Any) -> App[Any]:
    app = App(settings=Settings(**settings), openapi=None)

    @app.get("/ok")
    async def ok() -> str:
        return "ok"

    @app.get("/items")
    async def items(limit: int) -> int:
        return limit

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("boom")

    @app.get("/redirect")
    async def redirect() -> RedirectResponse:
        return RedirectResponse("/ok")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"a"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(__file__, media_type="text/plain")

    return app


RESPONSES = [
    ("GET", "/ok", 200),
    ("HEAD", "/ok", 200),
    ("OPTIONS", "/ok", 204),
    ("GET", "/missing", 404),
    ("DELETE", "/ok", 405),
    ("GET", "/items?limit=abc", 422),
    ("GET", "/boom", 500),
    ("GET", "/redirect", 307),
    ("GET", "/ok/", 308),
    ("GET", "/stream", 200),
    ("GET", "/file", 200),
    ("HEAD", "/file", 200),
]


@pytest.mark.parametrize(("method", "path", "status"), RESPONSES)
def test_every_response_gets_the_defaults_and_hsts_over_https(
    method: str, path: str, status: int
) -> None:
    with TestClient(_app()) as client:  # https://testserver
        response = client.request(method, path)
    assert response.status_code == status
    for name, value in SECURITY_HEADERS:
        assert response.headers.get_list(name) == [value]
    assert response.headers["strict-transport-security"] == HSTS


@pytest.mark.parametrize(("method", "path", "status"), RESPONSES)
def test_no_hsts_over_plain_http(method: str, path: str, status: int) -> None:
    with TestClient(_app(), base_url="http://testserver") as client:
        response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers


def test_hsts_settings() -> None:
    app = _app(hsts_seconds=600, hsts_include_subdomains=True)
    with TestClient(app) as client:
        assert client.get("/ok").headers["strict-transport-security"] == (
            "max-age=600; includeSubDomains"
        )
    with TestClient(_app(hsts_seconds=0)) as client:
        response = client.get("/ok")
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"


def test_hsts_from_a_trusted_proxy_only() -> None:
    app = _app(trusted_proxies=["127.0.0.1"])
    forwarded = [(b"x-forwarded-proto", b"https")]
    behind_proxy = call_asgi(app, path="/ok", headers=forwarded)
    assert behind_proxy.header("strict-transport-security") == HSTS
    untrusted = call_asgi(app, path="/ok", headers=forwarded, client=("203.0.113.9", 1))
    assert untrusted.header("strict-transport-security") is None
    # The proxy appends its own value last; what the client sent before it is ignored.
    spoofed = [(b"x-forwarded-proto", b"https, http")]
    assert call_asgi(app, path="/ok", headers=spoofed).header("strict-transport-security") is None


def test_a_header_the_response_sets_wins() -> None:
    app = App(settings=Settings(), openapi=None)

    @app.get("/frame")
    async def frame() -> Response:
        return Response(
            "x",
            headers={
                "X-Frame-Options": "SAMEORIGIN",
                "Strict-Transport-Security": "max-age=60",
                "Content-Security-Policy": "default-src 'none'",
            },
        )

    with TestClient(app) as client:
        response = client.get("/frame")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("strict-transport-security") == ["max-age=60"]
    assert response.headers.get_list("content-security-policy") == ["default-src 'none'"]
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


# -- route overrides -----------------------------------------------------------------------------


def _route_app() -> App[Any]:
    app = App(settings=Settings(), openapi=None)
    embeddable = {"x-frame-options": None, "Content-Security-Policy": "frame-ancestors *"}

    @app.get("/widget", headers=embeddable)
    async def widget() -> str:
        return "widget"

    @app.get("/broken", headers=embeddable)
    async def broken() -> str:
        raise RuntimeError("boom")

    @app.get("/cached", headers={"cache-control": "public, max-age=60"})
    async def cached() -> Response:
        return Response("x", headers={"cache-control": "no-store"}, media_type="text/plain")

    @app.get("/no-hsts", headers={"strict-transport-security": None})
    async def no_hsts() -> str:
        return "x"

    @app.get("/plain")
    async def plain() -> str:
        return "x"

    return app


def test_route_headers_replace_and_remove_defaults() -> None:
    with TestClient(_route_app(), raise_server_exceptions=False) as client:
        for path, status in (("/widget", 200), ("/broken", 500)):
            response = client.get(path)
            assert response.status_code == status
            assert "x-frame-options" not in response.headers
            assert response.headers.get_list("content-security-policy") == ["frame-ancestors *"]
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["strict-transport-security"] == HSTS
        head = client.head("/widget")
        assert "x-frame-options" not in head.headers
        # A header the route adds is a default too: the response's own still wins.
        assert client.get("/cached").headers.get_list("cache-control") == ["no-store"]
        no_hsts = client.get("/no-hsts")
        assert "strict-transport-security" not in no_hsts.headers
        assert no_hsts.headers["x-frame-options"] == "DENY"
        # Other routes keep the app's defaults.
        assert client.get("/plain").headers["x-frame-options"] == "DENY"
        assert client.get("/missing").headers["x-frame-options"] == "DENY"


def test_route_headers_cover_the_routers_middleware() -> None:
    app = App(settings=Settings(), openapi=None)
    router = Router(prefix="/r")

    async def refuse(request: Request, call_next: Any) -> Response:
        return Response("refused", 403)

    router.add_middleware(refuse)

    @router.get("/x", headers={"referrer-policy": "no-referrer"})
    async def x() -> str:
        return "x"

    app.include(router)
    result = call_asgi(app, path="/r/x")
    assert result.status == 403
    assert result.header("referrer-policy") == "no-referrer"


@pytest.mark.parametrize(
    "headers",
    [
        {"x-bad": "a\r\nset-cookie: x=1"},
        {"bad name": "x"},
        {"content-type": "text/html"},
        {"Set-Cookie": "a=1"},
    ],
)
def test_bad_route_headers_are_refused_at_startup(headers: dict[str, str]) -> None:
    app = App(settings=Settings(), openapi=None)

    @app.get("/", headers=headers)
    async def index() -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="Route option headers"):
        app.build()


def test_route_headers_when_defaults_are_off() -> None:
    app = App(settings=Settings(), openapi=None, security_headers=False)

    @app.get("/", headers={"x-frame-options": "DENY"})
    async def index() -> str:
        return "x"

    result = call_asgi(app, path="/", scheme="https")
    assert [k for k, _ in result.raw_headers] == [
        b"content-type",
        b"x-frame-options",
        b"content-length",
    ]


# -- CSP nonces ----------------------------------------------------------------------------------


def _nonce_app() -> App[Any]:
    app = App(settings=Settings(), openapi=None)

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        nonce = csp_nonce(request)
        assert csp_nonce(request) == nonce  # one per request
        return HTMLResponse(f"<script nonce='{nonce}'>go()</script><style nonce='{nonce}'>")

    @app.get("/own-policy")
    async def own_policy(request: Request) -> HTMLResponse:
        nonce = csp_nonce(request)
        policy = f"script-src 'nonce-{nonce}'"
        return HTMLResponse(nonce, headers={"content-security-policy": policy})

    @app.get("/strict", headers={"content-security-policy": "default-src 'none'"})
    async def strict(request: Request) -> str:
        return csp_nonce(request)

    @app.get("/failing")
    async def failing(request: Request) -> str:
        csp_nonce(request)
        raise RuntimeError("boom")

    return app


def test_nonce_is_added_to_script_and_style_sources() -> None:
    with TestClient(_nonce_app()) as client:
        first, second = client.get("/page"), client.get("/page")
    policies = [r.headers["content-security-policy"] for r in (first, second)]
    nonces = [NONCE.findall(policy) for policy in policies]
    assert nonces[0][0] == nonces[0][1] != nonces[1][0]  # same in both directives, new each time
    assert f"nonce='{nonces[0][0]}'" in first.text
    assert policies[0] == (
        f"{CSP}; script-src 'self' 'nonce-{nonces[0][0]}'; style-src 'self' 'nonce-{nonces[0][0]}'"
    )
    assert first.headers["strict-transport-security"] == HSTS


def test_a_response_with_its_own_policy_keeps_it() -> None:
    with TestClient(_nonce_app()) as client:
        response = client.get("/own-policy")
    assert response.headers.get_list("content-security-policy") == [
        f"script-src 'nonce-{response.text}'"
    ]


def test_nonce_never_loosens_a_policy_without_scripts() -> None:
    with TestClient(_nonce_app()) as client:
        response = client.get("/strict")
    assert response.headers["content-security-policy"] == "default-src 'none'"


def test_nonce_on_an_error_response_and_none_without_asking() -> None:
    with TestClient(_nonce_app()) as client:
        failing = client.get("/failing")
        assert failing.status_code == 500
        assert len(NONCE.findall(failing.headers["content-security-policy"])) == 2
        assert client.get("/missing").headers["content-security-policy"] == CSP


# -- real servers --------------------------------------------------------------------------------

SERVED = textwrap.dedent(
    """
    from collections.abc import AsyncIterator

    from satchel import App, FileResponse, Request, Settings, StreamingResponse
    from satchel.csp import csp_nonce

    app = App(settings=Settings(trusted_proxies=["127.0.0.1"]), openapi=None)

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.get("/nonce")
    def nonce(request: Request) -> str:
        return csp_nonce(request)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"a"
        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(__file__, media_type="text/plain")
    """
)


@pytest.fixture(scope="module", params=["granian-rsgi", "granian-asgi"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    kind: ServerKind = request.param
    with (
        serve_source(kind, SERVED, tmp_path_factory.mktemp(kind)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


def test_headers_through_granian(served: httpx.Client) -> None:
    for method, path, status in (
        ("GET", "/", 200),
        ("HEAD", "/", 200),
        ("GET", "/missing", 404),
        ("POST", "/", 405),
        ("GET", "/stream", 200),
        ("GET", "/file", 200),
        ("HEAD", "/file", 200),
    ):
        plain = served.request(method, path)
        assert plain.status_code == status, path
        assert plain.headers["x-frame-options"] == "DENY", path
        assert "strict-transport-security" not in plain.headers, path
        proxied = served.request(method, path, headers={"x-forwarded-proto": "https"})
        assert proxied.headers["strict-transport-security"] == HSTS, path
    # The server's own Host (127.0.0.1:port) is a default allowed host; others are refused.
    foreign = served.get("/", headers={"host": "attacker.test"})
    assert foreign.status_code == 400
    assert foreign.headers["x-content-type-options"] == "nosniff"


def test_nonce_through_granian(served: httpx.Client) -> None:
    response = served.get("/nonce")
    assert NONCE.findall(response.headers["content-security-policy"]) == [response.text] * 2
