"""CORS: off by default; allowed origins, preflights, credentials; refusals without headers."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from satchel import App, CallNext, ConfigurationError, Request, Response, Settings
from satchel.cors import CORSConfig
from satchel.csrf import CSRF_HEADER, csrf_token
from satchel.testing import TestClient
from tests.servers import serve_source
from tests.support import call_asgi

ORIGIN = "https://app.example.com"
CORS_NAMES = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
)


def _app(cors: CORSConfig | None, calls: list[str] | None = None) -> App[Any]:
    # An allowed origin's unsafe requests must pass CSRF too: the origin is trusted there.
    settings = Settings(csrf_trusted_origins=[ORIGIN])
    app = App(settings=settings, openapi=None, cors=cors)
    seen = calls if calls is not None else []

    async def record(request: Request, call_next: CallNext) -> Response:
        seen.append(f"middleware {request.method}")
        return await call_next(request)

    app.add_middleware(record)

    @app.get("/items")
    async def items() -> list[int]:
        seen.append("handler")
        return [1]

    @app.post("/items")
    async def add_item(limit: int) -> int:
        return limit

    @app.route("/custom", ["OPTIONS", "DELETE"])
    async def custom(request: Request) -> str:
        seen.append(f"handler {request.method}")
        return "custom"

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("boom")

    @app.get("/own")
    async def own() -> Response:
        return Response("x", headers={"access-control-allow-origin": "https://other.example"})

    return app


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in CORS_NAMES if name in response.headers}


def _preflight(
    client: TestClient, path: str = "/items", method: str = "POST", **headers: str
) -> httpx.Response:
    sent = {"origin": ORIGIN, "access-control-request-method": method}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    return client.options(path, headers=sent)


# -- off by default ------------------------------------------------------------------------------


def test_no_cors_headers_without_configuration() -> None:
    with TestClient(_app(None)) as client:
        response = client.get("/items", headers={"origin": ORIGIN})
        assert _cors_headers(response) == {}
        assert "vary" not in response.headers
        preflight = _preflight(client)
    assert preflight.status_code == 204
    assert preflight.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert _cors_headers(preflight) == {}


# -- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allow_origins": ["*"], "allow_credentials": True}, "cannot be used with"),
        ({"allow_origins": [ORIGIN], "expose_headers": ["*"], "allow_credentials": True}, "'*'"),
        ({"allow_origins": ["https://app.example.com/"]}, "not an origin"),
        ({"allow_origins": ["https://app.example.com/path"]}, "not an origin"),
        ({"allow_origins": ["app.example.com"]}, "not an origin"),
        ({"allow_origins": ["https://*.example.com"]}, "not an origin"),
        ({"allow_origins": ["https://user@app.example.com"]}, "not an origin"),
        ({"allow_origins": ORIGIN}, "must be a list"),
        ({"allow_methods": ["GET POST"]}, "not a method or header name"),
        ({"allow_headers": ["x-a\r\nx-b"]}, "not a method or header name"),
        ({"max_age": -1}, "max_age"),
    ],
)
def test_bad_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CORSConfig(**options)


def test_origins_are_normalized() -> None:
    config = CORSConfig(allow_origins=["HTTPS://App.Example.com:443", "http://localhost:3000"])
    with TestClient(_app(config)) as client:
        for origin in (ORIGIN, "http://localhost:3000"):
            response = client.get("/items", headers={"origin": origin})
            assert response.headers["access-control-allow-origin"] == origin
        other_port = client.get("/items", headers={"origin": "http://localhost:3001"})
        assert "access-control-allow-origin" not in other_port.headers


# -- actual requests -----------------------------------------------------------------------------


def test_allowed_origin_on_every_kind_of_response() -> None:
    config = CORSConfig(
        allow_origins=[ORIGIN], allow_credentials=True, expose_headers=["X-Request-Id", "ETag"]
    )
    expected = {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "x-request-id, etag",
    }
    with TestClient(_app(config)) as client:
        for method, path, status in (
            ("GET", "/items", 200),
            ("POST", "/items?limit=x", 422),
            ("GET", "/missing", 404),
            ("PUT", "/items", 405),
            ("GET", "/boom", 500),
        ):
            response = client.request(method, path, headers={"origin": ORIGIN})
            assert response.status_code == status
            assert _cors_headers(response) == expected, path
            assert response.headers["vary"] == "Origin"
            assert response.headers["x-frame-options"] == "DENY"  # defaults still there


def test_refused_origins_get_no_cors_headers_and_no_error() -> None:
    config = CORSConfig(allow_origins=[ORIGIN])
    with TestClient(_app(config)) as client:
        for origin in ("https://evil.example", "http://app.example.com", "null", ""):
            response = client.get("/items", headers={"origin": origin})
            assert response.status_code == 200
            assert _cors_headers(response) == {}
            assert response.headers["vary"] == "Origin"  # caches keep answers per origin
        no_origin = client.get("/items")
        assert _cors_headers(no_origin) == {}
        assert no_origin.headers["vary"] == "Origin"


def test_wildcard_allows_every_origin_but_null() -> None:
    with TestClient(_app(CORSConfig(allow_origins=["*"]))) as client:
        response = client.get("/items", headers={"origin": "https://anyone.example:8443"})
        assert _cors_headers(response) == {"access-control-allow-origin": "*"}
        null = client.get("/items", headers={"origin": "null"})
        assert _cors_headers(null) == {}


def test_null_only_when_listed() -> None:
    with TestClient(_app(CORSConfig(allow_origins=["null"]))) as client:
        response = client.get("/items", headers={"origin": "null"})
    assert response.headers["access-control-allow-origin"] == "null"


def test_a_response_that_sets_cors_itself_keeps_it() -> None:
    with TestClient(_app(CORSConfig(allow_origins=[ORIGIN]))) as client:
        response = client.get("/own", headers={"origin": ORIGIN})
    assert response.headers.get_list("access-control-allow-origin") == ["https://other.example"]
    assert "vary" not in response.headers


# -- preflights ----------------------------------------------------------------------------------


def test_preflight_is_answered_before_middleware_and_handlers() -> None:
    calls: list[str] = []
    config = CORSConfig(allow_origins=[ORIGIN], allow_headers=["X-Token"], max_age=300)
    with TestClient(_app(config, calls)) as client:
        response = _preflight(client, access_control_request_headers="X-Token, Content-Type")
        custom = _preflight(client, "/custom", "DELETE")
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert _cors_headers(response) == {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "x-token, content-type",
        "access-control-max-age": "300",
    }
    assert response.headers["vary"] == "Origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert custom.status_code == 204
    assert custom.headers["access-control-allow-methods"] == "DELETE"
    assert calls == []  # neither the app's middleware nor the custom OPTIONS handler ran


def test_preflight_with_credentials() -> None:
    config = CORSConfig(allow_origins=[ORIGIN], allow_credentials=True)
    with TestClient(_app(config)) as client:
        response = _preflight(client, "/items", "GET")
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-origin"] == ORIGIN


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        ("/items", "POST", {"origin": "https://evil.example"}),
        ("/items", "PUT", {}),  # not an allowed method
        ("/items", "DELETE", {}),  # allowed, but the path does not serve it
        ("/items", "post", {}),  # methods are case-sensitive
        ("/items", "POST", {"access-control-request-headers": "x-secret"}),
        ("/items", "POST", {"access-control-request-headers": "content-type, x-secret"}),
        ("/items", "POST", {"access-control-request-headers": "x a"}),
        ("/items", "POST", {"access-control-request-headers": "x-token\r\nx-evil: 1"}),
        ("/items", "GET POST", {}),
    ],
)
def test_refused_preflights_get_no_cors_headers(
    path: str, method: str, headers: dict[str, str]
) -> None:
    config = CORSConfig(allow_origins=[ORIGIN], allow_methods=["GET", "POST", "DELETE"])
    sent = {"origin": ORIGIN, "access-control-request-method": method, **headers}
    raw = [(name.encode(), value.encode()) for name, value in sent.items()]
    result = call_asgi(_app(config), method="OPTIONS", path=path, headers=raw)
    assert result.status == 204
    assert [result.header(name) for name in CORS_NAMES] == [None] * len(CORS_NAMES)
    assert result.header("vary") == "Origin"


def test_wildcard_methods_and_headers_echo_what_was_asked() -> None:
    config = CORSConfig(
        allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["*"], allow_credentials=True
    )
    with TestClient(_app(config)) as client:
        response = _preflight(client, "/custom", "DELETE", access_control_request_headers="X-Any")
    assert response.headers["access-control-allow-methods"] == "DELETE"
    assert response.headers["access-control-allow-headers"] == "x-any"


def test_preflight_to_an_unrouted_path_is_a_404() -> None:
    with TestClient(_app(CORSConfig(allow_origins=[ORIGIN]))) as client:
        response = _preflight(client, "/missing")
    assert response.status_code == 404
    assert _cors_headers(response) == {}


def test_preflight_to_a_foreign_host_is_refused_first() -> None:
    with TestClient(_app(CORSConfig(allow_origins=[ORIGIN])), base_url="https://evil.test") as c:
        response = _preflight(c)
    assert response.status_code == 400
    assert _cors_headers(response) == {}


def test_plain_options_is_not_a_preflight() -> None:
    calls: list[str] = []
    with TestClient(_app(CORSConfig(allow_origins=[ORIGIN]), calls)) as client:
        response = client.options("/custom", headers={"origin": ORIGIN})
    assert response.text == "custom"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert calls == ["middleware OPTIONS", "handler OPTIONS"]


def token_of(client: TestClient) -> str:
    """A CSRF token from the app's /token route (the client's jar gets the cookie)."""
    return client.get("/token").text


def test_an_origin_allowed_to_read_is_not_trusted_to_write() -> None:
    # Decision (as in Django): CORS says who may read responses, csrf_trusted_origins who
    # may send unsafe requests with the user's cookies. Allowing one never implies the other.
    config = CORSConfig(allow_origins=[ORIGIN], allow_credentials=True)
    cross = {"origin": ORIGIN, "sec-fetch-site": "same-site"}
    for trusted, status in (([], 403), ([ORIGIN], 200)):
        app = App(settings=Settings(csrf_trusted_origins=trusted), openapi=None, cors=config)

        @app.get("/token")
        def token(request: Request) -> str:
            return csrf_token(request)

        @app.post("/items")
        def add_item() -> str:
            return "added"

        with TestClient(app) as client:
            response = client.post("/items", headers={**cross, CSRF_HEADER: token_of(client)})
        assert response.status_code == status
        if status == 403:
            assert "untrusted origin" in response.json()["detail"]
        # Refused or not, the page that asked can read the answer.
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert response.headers["vary"] == "Origin"
        assert response.headers["x-content-type-options"] == "nosniff"


# -- header injection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origins",
    [
        [b"https://app.example.com\r\nSet-Cookie: a=1"],
        [b"https://app.example.com, https://evil.example"],
        [b"https://app.example.com https://evil.example"],
        [b"https://app.example.com", b"https://evil.example"],  # two Origin headers
        [b"https://app.example.com", b"https://app.example.com"],
        [b" https://app.example.com"],
        [b"https://app.example.com/"],
        [b"https://app.example.com.evil.example"],
        [b"https://evil.example/https://app.example.com"],
    ],
)
@pytest.mark.parametrize("allowed", [[ORIGIN], ["*"]])
def test_origin_is_never_reflected_unchecked(origins: list[bytes], allowed: list[str]) -> None:
    raw = [(b"origin", origin) for origin in origins]
    result = call_asgi(_app(CORSConfig(allow_origins=allowed)), path="/items", headers=raw)
    assert result.status == 200
    values = result.headers_named("access-control-allow-origin")
    if (
        allowed == ["*"]
        and len(origins) == 1
        and b"\r" not in origins[0]
        and b" " not in origins[0]
    ):
        assert values in ([], ["*"])  # a well-formed origin, answered with '*' only
    else:
        assert values == []
    assert all(b"evil" not in value and b"\r" not in value for _, value in result.raw_headers)


# -- a real server -------------------------------------------------------------------------------

SERVED = textwrap.dedent(
    """
    from satchel import App, Settings
    from satchel.cors import CORSConfig

    cors = CORSConfig(allow_origins=["https://app.example.com"], allow_headers=["x-token"])
    settings = Settings(csrf_trusted_origins=["https://app.example.com"])
    app = App(settings=settings, openapi=None, cors=cors)

    @app.get("/items")
    def items() -> str:
        return "items"

    @app.put("/items")
    def put_item() -> str:
        return "stored"
    """
)


def test_cors_through_granian_rsgi(tmp_path: Path) -> None:
    with (
        serve_source("granian-rsgi", SERVED, tmp_path) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        preflight = client.options(
            "/items",
            headers={
                "origin": ORIGIN,
                "access-control-request-method": "PUT",
                "access-control-request-headers": "x-token",
            },
        )
        actual = client.put("/items", headers={"origin": ORIGIN, "x-token": "t"})
        refused = client.get("/items", headers={"origin": "https://evil.example"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "PUT"
    assert preflight.headers["access-control-allow-headers"] == "x-token"
    assert (actual.status_code, actual.text) == (200, "stored")
    assert actual.headers["access-control-allow-origin"] == ORIGIN
    assert refused.status_code == 200
    assert "access-control-allow-origin" not in refused.headers
    assert refused.headers["vary"] == "Origin"
