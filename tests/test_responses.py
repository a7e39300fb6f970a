"""Tests for the response family: headers, cookies, JSON, redirects, streams."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest

from satchel import (
    App,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    Settings,
    StreamingResponse,
)
from satchel.responses import FileResponseBase, MutableHeaders
from tests.support import call_asgi, request


def test_response_defaults() -> None:
    response = Response()
    assert (response.status_code, response.body, response.header_list) == (200, b"", [])
    assert repr(response) == "<Response 200>"
    assert response.body_kind == "bytes"


def test_str_content_is_utf8_and_text_types_get_a_charset() -> None:
    response = Response("caf\u00e9", media_type="text/csv")
    assert response.body == "caf\u00e9".encode()
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert Response("x", media_type="text/csv; charset=latin-1").headers["content-type"] == (
        "text/csv; charset=latin-1"
    )
    assert Response("x", media_type="image/svg+xml").headers["content-type"] == "image/svg+xml"


def test_explicit_content_type_header_wins() -> None:
    response = HTMLResponse("x", headers={"Content-Type": "text/x-custom"})
    assert response.headers.getall("content-type") == ["text/x-custom"]


def test_subclasses_set_their_media_type() -> None:
    assert PlainTextResponse("x").headers["content-type"] == "text/plain; charset=utf-8"
    assert HTMLResponse("x").headers["content-type"] == "text/html; charset=utf-8"
    json_response = JSONResponse({"a": [1, None]}, 201, media_type="application/problem+json")
    assert json_response.body == b'{"a":[1,null]}'
    assert json_response.status_code == 201
    assert json_response.headers["content-type"] == "application/problem+json"


def test_json_response_encodes_structs_and_dataclasses() -> None:
    class Point(msgspec.Struct):
        x: int
        y: int

    @dataclasses.dataclass
    class Pair:
        left: str
        right: str

    assert JSONResponse(Point(1, 2)).body == b'{"x":1,"y":2}'
    assert JSONResponse(Pair("a", "b")).body == b'{"left":"a","right":"b"}'
    with pytest.raises(TypeError):
        JSONResponse(object())


def test_headers_from_mapping_or_pairs() -> None:
    response = Response(headers=[("X-A", "1"), ("x-a", "2")])
    assert response.header_list == [("x-a", "1"), ("x-a", "2")]
    assert Response(headers={"X-B": "3"}).header_list == [("x-b", "3")]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("x-a", "a\r\nb", "CR, LF or NUL"),
        ("x-a", "a\x00b", "CR, LF or NUL"),
        ("x a", "v", "Invalid header name"),
        ("", "v", "Invalid header name"),
        ("x:a", "v", "Invalid header name"),
        ("x-a", "\u20ac", "outside Latin-1"),
    ],
)
def test_invalid_headers_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Response(headers={name: value})
    response = Response()
    with pytest.raises(ValueError, match=message):
        response.headers[name] = value
    with pytest.raises(ValueError, match=message):
        response.headers.add(name, value)
    assert response.header_list == []


def test_latin1_header_value_is_allowed() -> None:
    assert Response(headers={"x-a": "caf\u00e9"}).headers["x-a"] == "caf\u00e9"


def test_mutable_headers() -> None:
    response = Response(headers=[("x-a", "1"), ("x-b", "2"), ("x-a", "3")])
    headers = response.headers
    assert isinstance(headers, MutableHeaders)
    assert headers["X-A"] == "1"
    assert headers.getall("x-a") == ["1", "3"]
    assert list(headers) == ["x-a", "x-b"]
    assert len(headers) == 2
    headers["X-A"] = "9"
    assert response.header_list == [("x-b", "2"), ("x-a", "9")]
    headers.add("X-B", "4")
    assert headers.getall("x-b") == ["2", "4"]
    del headers["x-b"]
    assert response.header_list == [("x-a", "9")]
    with pytest.raises(KeyError):
        del headers["x-b"]
    with pytest.raises(KeyError):
        _ = headers["missing"]
    assert headers.get("missing") is None
    assert "x-a" in headers
    assert repr(headers) == "MutableHeaders([('x-a', '9')])"


def test_add_vary_keeps_every_line_and_names_a_field_once() -> None:
    response = Response(headers=[("vary", "Accept-Encoding"), ("vary", "Accept-Language")])
    response.headers.add_vary("Cookie")
    response.headers.add_vary("cookie")  # already there, in any case
    response.headers.add_vary("Accept-Language")
    assert response.headers.getall("vary") == ["Accept-Encoding", "Accept-Language", "Cookie"]
    starred = Response(headers={"Vary": "Origin, *"})
    starred.headers.add_vary("Cookie")  # "*" varies on everything already
    assert starred.header_list == [("vary", "Origin, *")]


def test_make_is_the_unchecked_fast_path() -> None:
    response = PlainTextResponse.make(b"hi", 201, "text/plain")
    assert type(response) is PlainTextResponse
    assert (response.status_code, response.body) == (201, b"hi")
    assert response.header_list == [("content-type", "text/plain")]
    assert Response.make(b"", 204, None).header_list == []


# -- cookies ------------------------------------------------------------------------------------


def test_set_cookie_secure_defaults() -> None:
    response = Response()
    response.set_cookie("session", "abc")
    assert response.headers["set-cookie"] == "session=abc; Path=/; Secure; HttpOnly; SameSite=Lax"


def test_set_cookie_all_attributes() -> None:
    response = Response()
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    response.set_cookie(
        "pref",
        "dark",
        max_age=60,
        expires=expires,
        path="/app",
        domain="example.com",
        secure=True,
        httponly=False,
        samesite="strict",
        partitioned=True,
    )
    assert response.headers["set-cookie"] == (
        "pref=dark; Path=/app; Domain=example.com; Max-Age=60; "
        "Expires=Wed, 02 Jan 2030 01:04:05 GMT; Secure; Partitioned; SameSite=Strict"
    )


def test_several_cookies_are_separate_headers() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", secure=False)
    values = response.headers.getall("set-cookie")
    assert len(values) == 2
    assert values[1] == "b=2; Path=/; HttpOnly; SameSite=Lax"


def test_delete_cookie() -> None:
    response = Response()
    response.delete_cookie("session", path="/x", domain="example.com")
    assert response.headers["set-cookie"] == (
        "session=; Path=/x; Domain=example.com; Max-Age=0; "
        "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": "a b"}, "Invalid cookie name"),
        ({"key": "a;b"}, "Invalid cookie name"),
        ({"key": ""}, "Invalid cookie name"),
        ({"value": "a b"}, "encode it first"),
        ({"value": "a;b"}, "encode it first"),
        ({"value": 'a"b'}, "encode it first"),
        ({"value": "a\r\nb"}, "encode it first"),
        ({"path": "/;x"}, "path or domain"),
        ({"domain": "a.com\r\n"}, "path or domain"),
        ({"samesite": "lenient"}, "samesite must be"),
        ({"key": "__Host-id", "secure": False}, "must be Secure"),
        ({"key": "__Secure-id", "secure": False}, "must be Secure"),
        ({"samesite": "none", "secure": False}, "must be Secure"),
        ({"key": "__Host-id", "path": "/x"}, "path '/' and no domain"),
        ({"key": "__Host-id", "domain": "example.com"}, "path '/' and no domain"),
    ],
)
def test_set_cookie_refuses(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"key": "k", "value": "v", **kwargs}
    response = Response()
    with pytest.raises(ValueError, match=message):
        response.set_cookie(**arguments)
    assert response.header_list == []


def test_host_prefixed_cookie_is_allowed_when_safe() -> None:
    response = Response()
    response.set_cookie("__Host-id", "1", samesite="none")
    assert response.headers["set-cookie"].startswith("__Host-id=1; Path=/; Secure")


# -- redirects ----------------------------------------------------------------------------------


def test_redirect_defaults_and_quoting() -> None:
    response = RedirectResponse("/caf\u00e9 menu?x=\u00e9&y=1#top")
    assert response.status_code == 307
    assert response.body == b""
    assert response.headers["location"] == "/caf%C3%A9%20menu?x=%C3%A9&y=1#top"


def test_redirect_keeps_existing_escapes_and_absolute_urls() -> None:
    assert RedirectResponse("/a%20b").headers["location"] == "/a%20b"
    url = "https://example.com:8443/p?q=1"
    assert RedirectResponse(url, 302).headers["location"] == url


@pytest.mark.parametrize("status", [200, 300, 304, 399])
def test_redirect_refuses_non_redirect_status(status: int) -> None:
    with pytest.raises(ValueError, match="not a redirect status"):
        RedirectResponse("/", status)


def test_redirect_with_extra_headers() -> None:
    response = RedirectResponse("/x", 303, headers={"cache-control": "no-store"})
    assert response.headers["cache-control"] == "no-store"


# -- streams --------------------------------------------------------------------------------------


def _stream_app() -> App[Any]:
    app = App(settings=Settings())

    async def async_chunks() -> AsyncIterator[str | bytes]:
        yield "data: 1\n\n"
        yield b"data: 2\n\n"

    def sync_chunks() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    @app.get("/async")
    async def stream_async() -> StreamingResponse:
        return StreamingResponse(async_chunks(), media_type="text/event-stream")

    @app.get("/sync")
    def stream_sync() -> StreamingResponse:
        return StreamingResponse(sync_chunks(), 202, {"x-s": "1"})

    return app


def test_streaming_response_async_and_sync() -> None:
    app = _stream_app()
    result = call_asgi(app, path="/async")
    assert result.body == b"data: 1\n\ndata: 2\n\n"
    assert result.header("content-type") == "text/event-stream; charset=utf-8"
    assert result.header("content-length") is None
    bodies = [m for m in result.messages if m["type"] == "http.response.body"]
    assert [m.get("more_body", False) for m in bodies] == [True, True, False]

    result = call_asgi(app, path="/sync")
    assert (result.status, result.body, result.header("x-s")) == (202, b"ab", "1")


def test_streaming_response_is_a_description() -> None:
    chunks = [b"x"]
    response = StreamingResponse(chunks)
    assert response.body_kind == "stream"
    assert response.content is chunks
    assert response.header_list == []


def test_middleware_can_change_a_stream_without_consuming_it() -> None:
    app = _stream_app()

    @app.middleware_function
    async def tag(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.status_code = 203
        response.headers["x-tagged"] = "yes"
        return response

    response = request(app, "GET", "/async")
    assert response.status_code == 203
    assert response.headers["x-tagged"] == "yes"
    assert response.text == "data: 1\n\ndata: 2\n\n"


# -- file responses (the base that batteries build on) -------------------------------------------


class _SliceResponse(FileResponseBase):
    __slots__ = ("plan",)

    def __init__(self, plan: tuple[str, int, int] | None) -> None:
        super().__init__(b"fallback", 200, media_type="text/plain")
        self.plan = plan

    async def prepare(self, request: Request) -> tuple[str, int, int] | None:
        return self.plan


def test_file_response_base_sends_a_file_range(tmp_path: Path) -> None:
    target = tmp_path / "data.txt"
    target.write_bytes(b"0123456789")
    app = App(settings=Settings())

    @app.get("/slice")
    async def slice_() -> Response:
        return _SliceResponse((str(target), 2, 6))

    @app.get("/fallback")
    async def fallback() -> Response:
        return _SliceResponse(None)

    result = call_asgi(app, path="/slice")
    assert (result.body, result.header("content-length")) == (b"2345", "4")
    head = call_asgi(app, method="HEAD", path="/slice")
    assert (head.body, head.header("content-length")) == (b"", "4")
    result = call_asgi(app, path="/fallback")
    assert (result.body, result.header("content-length")) == (b"fallback", "8")


def test_file_response_base_prepare_is_abstract() -> None:
    response = FileResponseBase()

    async def prepare() -> Any:
        return await response.prepare(None)  # type: ignore[arg-type]

    with pytest.raises(NotImplementedError):
        asyncio.run(prepare())


def test_cookie_attributes_that_cannot_be_sent_are_refused() -> None:
    response = Response()
    with pytest.raises(ValueError, match="Latin-1"):
        response.set_cookie("a", "b", path="/\u20ac")
