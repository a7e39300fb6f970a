"""Tests for Request: lazy headers, query, cookies, client/scheme/host, body, JSON, forms."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest

from satchel import App, BadRequest, HTTPError, Request, Settings
from satchel.asgi import ASGIRequest
from satchel.requests import ClientDisconnected, RequestConfig
from tests.support import Receiver, call_asgi

Probe = Callable[[Request], Awaitable[Any]]


def _probe(
    probe: Probe,
    *,
    settings: Settings | None = None,
    method: str = "POST",
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: list[bytes] | None = None,
    disconnect: bool = False,
    **kwargs: Any,
) -> Any:
    """Run ``probe(request)`` inside a handler; return its result or the exception it raised."""
    app = App(settings=settings or Settings())
    outcome: list[Any] = []

    @app.route("/probe", [method])
    async def handler(request: Request) -> str:
        try:
            outcome.append(await probe(request))
        except Exception as exc:
            outcome.append(exc)
        return "done"

    result = call_asgi(
        app,
        method=method,
        path="/probe",
        headers=headers,
        receive=Receiver(body if body is not None else [b""], disconnect=disconnect),
        **kwargs,
    )
    assert result.status == 200, result.body
    return outcome[0]


# -- request line and headers ------------------------------------------------------------------


def test_basic_attributes() -> None:
    async def probe(request: Request) -> Any:
        return (
            request.method,
            request.path,
            request.query_string,
            request.http_version,
            repr(request),
        )

    assert _probe(probe, method="GET", query_string=b"a=1") == (
        "GET",
        "/probe",
        "a=1",
        "1.1",
        "<Request GET /probe>",
    )


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    async def probe(request: Request) -> Any:
        h = request.headers
        return h["X-Tag"], h.getall("x-tag"), "X-TAG" in h, h.get("missing"), request.headers is h

    headers = [(b"X-Tag", b"a"), (b"x-tag", b"b")]
    assert _probe(probe, headers=headers) == ("a", ["a", "b"], True, None, True)


def test_query_params() -> None:
    async def probe(request: Request) -> Any:
        q = request.query_params
        return q["a"], q.getall("a"), q["b"], q.get("c"), q["sp"], request.query_params is q

    query = b"a=1&a=2&b=&sp=x+y%20z"
    assert _probe(probe, method="GET", query_string=query) == (
        "1",
        ["1", "2"],
        "",
        None,
        "x y z",
        True,
    )


def test_empty_query() -> None:
    async def probe(request: Request) -> Any:
        return len(request.query_params)

    assert _probe(probe, method="GET") == 0


def test_query_params_limit_comes_from_settings() -> None:
    async def probe(request: Request) -> Any:
        return request.query_params

    exc = _probe(probe, settings=Settings(max_form_fields=2), query_string=b"a=1&b=2&c=3")
    assert isinstance(exc, BadRequest)


def test_cookies_from_several_headers_first_wins() -> None:
    async def probe(request: Request) -> Any:
        return request.cookies, request.cookies is request.cookies

    headers = [(b"cookie", b"a=1; b=2"), (b"cookie", b"a=3; c=4")]
    assert _probe(probe, method="GET", headers=headers) == ({"a": "1", "b": "2", "c": "4"}, True)


def test_no_cookies() -> None:
    async def probe(request: Request) -> Any:
        return request.cookies

    assert _probe(probe) == {}


def test_state_is_per_request() -> None:
    async def probe(request: Request) -> Any:
        request.state["x"] = 1
        return request.state

    assert _probe(probe) == {"x": 1}


# -- client, scheme, host, url -----------------------------------------------------------------


def _where(request: Request) -> Awaitable[Any]:
    async def result() -> Any:
        return request.client, request.scheme, request.host, str(request.url)

    return result()


FORWARDED = [
    (b"x-forwarded-for", b"203.0.113.9, 10.0.0.2"),
    (b"x-forwarded-proto", b" HTTPS "),
    (b"x-forwarded-host", b"example.com, other.example"),
]


def test_forwarded_headers_ignored_without_trusted_proxies() -> None:
    result = _probe(_where, method="GET", headers=FORWARDED, query_string=b"q=1")
    assert result == ("127.0.0.1", "http", "testserver", "http://testserver/probe?q=1")


def test_forwarded_headers_believed_from_a_trusted_proxy() -> None:
    settings = Settings(
        trusted_proxies=["127.0.0.1", "10.0.0.0/8"], allowed_hosts=["other.example"]
    )
    result = _probe(_where, settings=settings, method="GET", headers=FORWARDED)
    # The proxy appends: only the right-most value is its own, the rest came from the client.
    assert result == ("203.0.113.9", "https", "other.example", "https://other.example/probe")


def test_forwarded_headers_ignored_from_an_untrusted_peer() -> None:
    settings = Settings(trusted_proxies=["10.0.0.0/8"])
    result = _probe(
        _where, settings=settings, method="GET", headers=FORWARDED, client=("198.51.100.7", 1)
    )
    assert result == ("198.51.100.7", "http", "testserver", "http://testserver/probe")


def test_forwarded_proto_must_be_http_or_https() -> None:
    settings = Settings(trusted_proxies=["127.0.0.1"])
    headers = [(b"x-forwarded-proto", b"javascript")]
    result = _probe(_where, settings=settings, method="GET", headers=headers, scheme="https")
    assert result[1] == "https"


def test_no_client_and_no_host() -> None:
    async def probe(request: Request) -> Any:
        return request.client, request.host

    app = App(settings=Settings())
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": []}
    req = ASGIRequest(app, scope, Receiver(), "/")
    assert asyncio.run(probe(req)) == ("", "")
    assert req.scheme == "http"
    assert req.http_version == "1.1"


def test_conflicting_host_headers_are_400() -> None:
    app = App(settings=Settings())  # the host check reads Host before any handler

    @app.get("/")
    async def index() -> str:
        return "never"

    both = [(b"host", b"testserver"), (b"host", b"evil.example")]
    result = call_asgi(app, headers=both)
    assert result.status == 400
    assert result.json()["detail"] == "Conflicting host headers"


# -- content type and length -------------------------------------------------------------------


def test_content_type_and_length() -> None:
    async def probe(request: Request) -> Any:
        return request.content_type, request.content_length

    headers = [(b"content-type", b"Text/Plain; Charset=latin-1"), (b"content-length", b" 3 ")]
    assert _probe(probe, headers=headers, body=[b"abc"]) == (
        ("text/plain", {"charset": "latin-1"}),
        3,
    )
    assert _probe(probe) == (("", {}), None)


# -- body --------------------------------------------------------------------------------------


def test_body_is_read_once_and_cached() -> None:
    async def probe(request: Request) -> Any:
        first = await request.body()
        second = await request.body()
        streamed = [chunk async for chunk in request.stream()]
        return first, first is second, streamed

    assert _probe(probe, body=[b"ab", b"", b"cd"]) == (b"abcd", True, [b"abcd"])


def test_stream_yields_chunks_and_cannot_be_consumed_twice() -> None:
    async def probe(request: Request) -> Any:
        chunks = [chunk async for chunk in request.stream()]
        try:
            [chunk async for chunk in request.stream()]
        except RuntimeError as exc:
            return chunks, str(exc)
        return chunks, None

    assert _probe(probe, body=[b"a", b"", b"b"]) == (
        [b"a", b"b"],
        "The request body has already been consumed",
    )


def test_stream_raises_client_disconnected() -> None:
    async def probe(request: Request) -> Any:
        return [chunk async for chunk in request.stream()]

    assert isinstance(_probe(probe, body=[b"a"], disconnect=True), ClientDisconnected)


def test_text_uses_the_declared_charset() -> None:
    async def probe(request: Request) -> Any:
        return await request.text()

    latin = [(b"content-type", b"text/plain; charset=latin-1")]
    assert _probe(probe, headers=latin, body=["café".encode("latin-1")]) == "café"
    assert _probe(probe, body=["café".encode()]) == "café"


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        (b"text/plain; charset=nope", b"x"),
        (b"text/plain", b"\xff"),
        (b"text/plain; charset=ascii", b"\xe9"),
    ],
)
def test_text_errors_are_400(content_type: bytes, payload: bytes) -> None:
    async def probe(request: Request) -> Any:
        return await request.text()

    exc = _probe(probe, headers=[(b"content-type", content_type)], body=[payload])
    assert isinstance(exc, BadRequest)


def test_json_is_cached() -> None:
    async def probe(request: Request) -> Any:
        first = await request.json()
        return first, first is await request.json()

    headers = [(b"content-type", b"application/vnd.api+json")]
    assert _probe(probe, headers=headers, body=[b'{"a": [1]}']) == ({"a": [1]}, True)


def test_json_depth_comes_from_settings() -> None:
    async def probe(request: Request) -> Any:
        return await request.json()

    headers = [(b"content-type", b"application/json")]
    exc = _probe(probe, settings=Settings(max_json_depth=2), headers=headers, body=[b"[[[1]]]"])
    assert isinstance(exc, BadRequest)


def test_urlencoded_form_is_cached_and_closed() -> None:
    async def probe(request: Request) -> Any:
        form = await request.form()
        again = await request.form()
        await request.close()
        return form.fields(), form is again

    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    result = _probe(probe, headers=headers, body=[b"a=1&b=x+y&a=%C3%A9"])
    assert result == ([("a", "1"), ("b", "x y"), ("a", "é")], True)


def test_multipart_form_over_upload_size_by_content_length() -> None:
    async def probe(request: Request) -> Any:
        return await request.form()

    headers = [
        (b"content-type", b"multipart/form-data; boundary=x"),
        (b"content-length", b"100000"),
    ]
    exc = _probe(probe, settings=Settings(max_upload_size=1000), headers=headers, body=[b""])
    assert isinstance(exc, HTTPError)
    assert exc.status_code == 413


def test_multipart_form_is_parsed() -> None:
    async def probe(request: Request) -> Any:
        form = await request.form()
        return form.fields()

    body = b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--x--\r\n'
    headers = [(b"content-type", b"multipart/form-data; boundary=x")]
    assert _probe(probe, headers=headers, body=[body[:20], body[20:]]) == [("a", "hello")]


def test_bare_request_has_no_transport() -> None:
    app = App(settings=Settings())
    request = Request(app, RequestConfig(), "GET", "/", "")
    with pytest.raises(NotImplementedError):
        _ = request.headers
    with pytest.raises(NotImplementedError):
        _ = request.client
    with pytest.raises(NotImplementedError):
        _ = request.http_version

    with pytest.raises(NotImplementedError):
        _ = request.scheme

    class HeadersOnly(Request):
        __slots__ = ()

        def _raw_headers(self) -> list[tuple[str, str]]:
            return []

    async def read() -> None:
        await HeadersOnly(app, RequestConfig(), "POST", "/", "").body()

    with pytest.raises(NotImplementedError):
        asyncio.run(read())


def test_request_config_defaults() -> None:
    config = RequestConfig()
    assert config.max_body_size == config.form.max_body_size
    assert config.max_json_depth == 64
    assert not config.proxies
