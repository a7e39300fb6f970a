"""Hostile and malformed requests: each gets an exact 4xx, a problem+json body, and no leak.

"No leak" means: no exception escapes the ASGI call, nothing is logged as a
server error, no traceback text reaches the client, and no temporary file is
left behind (``tempfile.tempdir`` points at an empty folder for each test).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from satchel import App, RedirectResponse, Request, Response, Settings
from tests.support import FORBIDDEN_IN_BODY, RawResponse, Receiver, assert_problem, call_asgi

JSON = (b"content-type", b"application/json")
URLENCODED = (b"content-type", b"application/x-www-form-urlencoded")
LIMIT = 1000


@pytest.fixture(autouse=True)
def _no_leaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[Path]:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    caplog.set_level(logging.ERROR, logger="satchel.error")
    yield spool
    assert list(spool.iterdir()) == []


def _app() -> App[Any]:
    app = App(settings=Settings(max_body_size=LIMIT, max_form_fields=10, max_json_depth=32))

    @app.get("/items")
    async def items() -> list[int]:
        return [1, 2]

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/query")
    async def query(request: Request) -> dict[str, list[str]]:
        params = request.query_params
        return {key: params.getall(key) for key in params}

    @app.get("/cookies")
    async def cookies(request: Request) -> dict[str, str]:
        return request.cookies

    @app.post("/json")
    async def json_body(request: Request) -> Any:
        return await request.json()

    @app.post("/form")
    async def form_body(request: Request) -> dict[str, str]:
        return dict((await request.form()).fields())

    @app.post("/body")
    async def raw_body(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/text")
    async def text_body(request: Request) -> str:
        return await request.text()

    @app.get("/split-header")
    async def split_header() -> Response:
        return Response("x", headers={"x-note": "a\r\nSet-Cookie: session=stolen"})

    @app.get("/split-redirect")
    async def split_redirect() -> Response:
        return RedirectResponse("/next\r\nSet-Cookie: session=stolen")

    return app


def _assert_problem_response(
    result: RawResponse, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert result.status == status
    assert result.header("content-type") == "application/problem+json"
    assert_problem(result.json(), status)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def _problem(caplog: pytest.LogCaptureFixture, status: int, **kwargs: Any) -> dict[str, Any]:
    result = call_asgi(_app(), **kwargs)
    _assert_problem_response(result, status, caplog)
    body: dict[str, Any] = result.json()
    return body


# -- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/items/%00",
        b"/items%00/1",
        b"/a/../items",
        b"/a/./items",
        b"/items/..",
        b"/a/%2e%2e/items",
        b"/a/%2E%2E/items",
        b"/a/%2e/items",
        b"/%FF",
        b"/items/%C0%AF",
        b"/%C0%AE%C0%AE/etc/passwd",
        b"/%ED%A0%80",
        b"/%E2%82",
        b"items",
    ],
)
def test_bad_path_is_400(raw_path: bytes, caplog: pytest.LogCaptureFixture) -> None:
    body = _problem(caplog, 400, raw_path=raw_path, path="/")
    assert "path" in body["detail"].lower()


def test_decoded_path_without_raw_path_is_checked_too(caplog: pytest.LogCaptureFixture) -> None:
    app = _app()
    scope_path = "/a/../items"
    result = call_asgi(app, path=scope_path, raw_path=b"")
    _assert_problem_response(result, 400, caplog)


@pytest.mark.parametrize("length", [8193, 100_000])
def test_overlong_path_is_414(length: int, caplog: pytest.LogCaptureFixture) -> None:
    raw = b"/" + b"a" * (length - 1)
    body = _problem(caplog, 414, raw_path=raw, path="/")
    assert body["title"] == "Request-URI Too Long"


def test_path_at_the_limit_is_routed(caplog: pytest.LogCaptureFixture) -> None:
    raw = b"/" + b"a" * 8191
    _problem(caplog, 404, raw_path=raw, path="/")


# -- query strings -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", [b"a=%FF", b"%C0%AF=1", b"a=%ED%A0%80"])
def test_query_with_invalid_utf8_is_400(query: bytes, caplog: pytest.LogCaptureFixture) -> None:
    body = _problem(caplog, 400, path="/query", query_string=query)
    assert "UTF-8" in body["detail"]


def test_query_with_too_many_fields_is_400(caplog: pytest.LogCaptureFixture) -> None:
    query = b"&".join(b"k%d=v" % i for i in range(11))
    body = _problem(caplog, 400, path="/query", query_string=query)
    assert "Too many" in body["detail"]


def test_query_at_the_field_limit_is_fine() -> None:
    query = b"&".join(b"k=%d" % i for i in range(10))
    result = call_asgi(_app(), path="/query", query_string=query)
    assert result.status == 200
    assert result.json() == {"k": [str(i) for i in range(10)]}


def test_query_is_not_parsed_unless_read() -> None:
    result = call_asgi(_app(), path="/items", query_string=b"a=%FF")
    assert result.status == 200


# -- Content-Length ----------------------------------------------------------------------------


def test_conflicting_duplicate_content_length_is_400(caplog: pytest.LogCaptureFixture) -> None:
    headers = [JSON, (b"content-length", b"2"), (b"content-length", b"3")]
    body = _problem(
        caplog, 400, method="POST", path="/json", headers=headers, receive=Receiver([b"{}"])
    )
    assert "content-length" in body["detail"].lower()


def test_identical_duplicate_content_length_is_accepted() -> None:
    headers = [JSON, (b"content-length", b"2"), (b"content-length", b"2")]
    result = call_asgi(
        _app(), method="POST", path="/json", headers=headers, receive=Receiver([b"{}"])
    )
    assert result.status == 200
    assert result.json() == {}


@pytest.mark.parametrize(
    "value", [b"abc", b"-5", b"+5", b"5.0", b"0x10", b"1 2", b"", b"9" * 19, "\u0663".encode()]
)
def test_malformed_content_length_is_400(value: bytes, caplog: pytest.LogCaptureFixture) -> None:
    headers = [JSON, (b"content-length", value)]
    body = _problem(
        caplog, 400, method="POST", path="/json", headers=headers, receive=Receiver([b"{}"])
    )
    assert body["detail"] == "Invalid Content-Length header"


def test_body_shorter_than_content_length_is_400(caplog: pytest.LogCaptureFixture) -> None:
    headers = [JSON, (b"content-length", b"100")]
    body = _problem(
        caplog, 400, method="POST", path="/json", headers=headers, receive=Receiver([b"[1,2,3,4]"])
    )
    assert "Content-Length" in body["detail"]


def test_body_longer_than_content_length_is_400(caplog: pytest.LogCaptureFixture) -> None:
    headers = [JSON, (b"content-length", b"2")]
    _problem(
        caplog, 400, method="POST", path="/json", headers=headers, receive=Receiver([b"[1,", b"2]"])
    )


def test_truncated_body_then_disconnect_is_a_quiet_400(caplog: pytest.LogCaptureFixture) -> None:
    receive = Receiver([b"0123456789"], disconnect=True)
    result = call_asgi(
        _app(), method="POST", path="/body", headers=[(b"content-length", b"100")], receive=receive
    )
    # The client is gone: nobody reads the body, so it stays empty, but never a 500.
    assert result.status == 400
    assert result.body == b""
    assert receive.handed_out == 2
    assert caplog.records == []


def test_disconnect_during_form_parsing_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    boundary = b"XyZ"
    part = (
        b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 5000
    )
    result = call_asgi(
        _app(),
        method="POST",
        path="/form",
        headers=[(b"content-type", b"multipart/form-data; boundary=" + boundary)],
        receive=Receiver([part], disconnect=True),
    )
    assert result.status == 400
    assert caplog.records == []


# -- cookies -----------------------------------------------------------------------------------


def _cookies(header: bytes) -> dict[str, str]:
    result = call_asgi(_app(), path="/cookies", headers=[(b"cookie", header)])
    assert result.status == 200
    cookies: dict[str, str] = result.json()
    return cookies


def test_nameless_cookie_posing_as_host_prefixed_is_dropped() -> None:
    assert _cookies(b"=__Host-x=evil; a=1") == {"a": "1"}
    assert _cookies(b"=__Host-x=evil") == {}


def test_thousands_of_cookie_pairs_are_bounded() -> None:
    header = b"; ".join(b"k%d=v" % i for i in range(5000))
    cookies = _cookies(header)
    assert 0 < len(cookies) <= 256
    assert "k0" in cookies
    assert "k4999" not in cookies


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b'a="quoted"; b="; c', {"a": "quoted", "b": '"'}),
        (b'a=""; b="x', {"a": "", "b": '"x'}),
        (b";;; ; =; ==; a", {}),
        (b'a b=1; c\tf=2; d,e=3; g\\h=4; "q"=5; ok=6', {"ok": "6"}),
        (b"a=1; a=2", {"a": "1"}),
        (b"\xff\xfe=1; ok=\xe9", {"\xff\xfe": "1", "ok": "\xe9"}),
        (b"x=" + b"=" * 50, {"x": "=" * 50}),
    ],
)
def test_garbage_cookies_never_crash(header: bytes, expected: dict[str, str]) -> None:
    assert _cookies(header) == expected


def test_control_characters_in_cookie_names_are_dropped() -> None:
    assert _cookies(b"\x01a=1; b\x7f=2; c=3") == {"c": "3"}


# -- JSON bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        b"text/plain",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data",
        b"application/jsonx",
        b"json",
    ],
)
def test_json_with_wrong_content_type_is_415(
    content_type: bytes | None, caplog: pytest.LogCaptureFixture
) -> None:
    headers = [] if content_type is None else [(b"content-type", content_type)]
    body = _problem(
        caplog, 415, method="POST", path="/json", headers=headers, receive=Receiver([b"{}"])
    )
    assert "json" in body["detail"]


@pytest.mark.parametrize(
    "content_type",
    [b"application/json; charset=utf-8", b"Application/JSON", b"application/problem+json"],
)
def test_json_content_types_accepted(content_type: bytes) -> None:
    result = call_asgi(
        _app(),
        method="POST",
        path="/json",
        headers=[(b"content-type", content_type)],
        receive=Receiver([b"[1]"]),
    )
    assert result.status == 200
    assert result.json() == [1]


@pytest.mark.parametrize(
    "payload", [b"{nope", b"", b"[1,", b'{"a":1}}', b"\xff\xfe", b"NaN", b'"\\ud800"x']
)
def test_malformed_json_is_400(payload: bytes, caplog: pytest.LogCaptureFixture) -> None:
    body = _problem(
        caplog, 400, method="POST", path="/json", headers=[JSON], receive=Receiver([payload])
    )
    assert body["detail"].startswith("Malformed JSON")


@pytest.mark.parametrize(
    "payload", [b"[" * 33 + b"]" * 33, b'{"a":' * 40 + b"1" + b"}" * 40, b"[" * 900]
)
def test_deeply_nested_json_is_400(payload: bytes, caplog: pytest.LogCaptureFixture) -> None:
    body = _problem(
        caplog, 400, method="POST", path="/json", headers=[JSON], receive=Receiver([payload])
    )
    assert "deeper than 32" in body["detail"]


def test_json_at_the_depth_limit_is_fine() -> None:
    payload = b"[" * 32 + b"]" * 32
    result = call_asgi(
        _app(), method="POST", path="/json", headers=[JSON], receive=Receiver([payload])
    )
    assert result.status == 200


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    payload = b'["' + b"[{" * 200 + b'\\"[["]'
    result = call_asgi(
        _app(), method="POST", path="/json", headers=[JSON], receive=Receiver([payload])
    )
    assert result.status == 200


def test_json_over_the_limit_with_content_length_is_413_without_reading(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receive = Receiver([b"[" + b"1," * 200] * 50 + [b"1]"])
    body = _problem(
        caplog,
        413,
        method="POST",
        path="/json",
        headers=[JSON, (b"content-length", b"20002")],
        receive=receive,
    )
    assert str(LIMIT) in body["detail"]
    assert receive.handed_out == 0


def test_json_over_the_limit_without_content_length_is_413_and_stops_early(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chunks = [b"[" + b"1," * 149] * 100 + [b"1]"]  # ~300 bytes each, ~30 kB in all
    receive = Receiver(chunks)
    result = call_asgi(_app(), method="POST", path="/json", headers=[JSON], receive=receive)
    _assert_problem_response(result, 413, caplog)
    # 4 chunks cross 1000 bytes; the rest were never asked for.
    assert receive.handed_out == 4


def test_raw_body_over_the_limit_is_413(caplog: pytest.LogCaptureFixture) -> None:
    receive = Receiver([b"x" * 600, b"x" * 600, b"x" * 600])
    result = call_asgi(_app(), method="POST", path="/body", receive=receive)
    _assert_problem_response(result, 413, caplog)
    assert receive.handed_out == 2


def test_raw_body_at_the_limit_is_fine() -> None:
    receive = Receiver([b"x" * 500, b"x" * 500])
    result = call_asgi(
        _app(), method="POST", path="/body", receive=receive, headers=[(b"content-length", b"1000")]
    )
    assert result.json() == {"size": 1000}


# -- forms -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, b"application/json", b"text/plain", b"multipart/mixed; boundary=x"]
)
def test_form_with_wrong_content_type_is_415(
    content_type: bytes | None, caplog: pytest.LogCaptureFixture
) -> None:
    headers = [] if content_type is None else [(b"content-type", content_type)]
    _problem(caplog, 415, method="POST", path="/form", headers=headers, receive=Receiver([b"a=1"]))


def test_urlencoded_form_with_too_many_fields_is_413(caplog: pytest.LogCaptureFixture) -> None:
    payload = b"&".join(b"f%d=v" % i for i in range(11))
    body = _problem(
        caplog, 413, method="POST", path="/form", headers=[URLENCODED], receive=Receiver([payload])
    )
    assert "fields" in body["detail"]


def test_urlencoded_form_over_the_body_limit_is_413(caplog: pytest.LogCaptureFixture) -> None:
    _problem(
        caplog,
        413,
        method="POST",
        path="/form",
        headers=[URLENCODED],
        receive=Receiver([b"a=" + b"x" * LIMIT]),
    )


def test_urlencoded_form_with_invalid_utf8_is_400(caplog: pytest.LogCaptureFixture) -> None:
    _problem(
        caplog, 400, method="POST", path="/form", headers=[URLENCODED], receive=Receiver([b"a=%FF"])
    )


@pytest.mark.parametrize(
    "content_type",
    [
        b"multipart/form-data",
        b"multipart/form-data; boundary=",
        b'multipart/form-data; boundary=""',
        b"multipart/form-data; charset=utf-8",
    ],
)
def test_multipart_without_boundary_is_400(
    content_type: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    body = _problem(
        caplog,
        400,
        method="POST",
        path="/form",
        headers=[(b"content-type", content_type)],
        receive=Receiver([b"--x--"]),
    )
    assert "boundary" in body["detail"]


def test_multipart_body_that_never_ends_is_400_and_leaves_no_file(
    caplog: pytest.LogCaptureFixture,
) -> None:
    part = (
        b'--B\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n' + b"y" * 3000
    )
    _problem(
        caplog,
        400,
        method="POST",
        path="/form",
        headers=[(b"content-type", b"multipart/form-data; boundary=B")],
        receive=Receiver([part]),
    )


# -- responses that would split headers --------------------------------------------------------


def test_crlf_in_a_response_header_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response("x", headers={"x-note": "a\r\nSet-Cookie: session=stolen"})
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response("x", headers=[("x-note", "a\nb")])
    with pytest.raises(ValueError, match="Invalid header name"):
        Response("x", headers=[("x-note\r\nSet-Cookie", "a")])


@pytest.mark.parametrize("path", ["/split-header", "/split-redirect"])
def test_handler_that_splits_a_header_gets_a_500_and_nothing_is_sent(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    result = call_asgi(_app(), path=path)
    assert result.status == 500
    assert_problem(result.json(), 500)
    sent = b"".join(k + b": " + v for k, v in result.raw_headers)
    assert b"stolen" not in sent
    assert b"stolen" not in result.body
    assert result.header("location") is None
    assert result.headers_named("set-cookie") == []
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


@pytest.mark.parametrize("url", ["/next\r\nSet-Cookie: a=b", "/next\nx", "/next\rx", "/a\x00b"])
def test_redirect_target_with_crlf_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        RedirectResponse(url)


def test_error_bodies_never_carry_traceback_text() -> None:
    for raw in (b"/%FF", b"/a/../b", b"/nowhere"):
        result = call_asgi(_app(), raw_path=raw, path="/")
        for forbidden in FORBIDDEN_IN_BODY:
            assert forbidden.encode() not in result.body


# -- the trailing-slash redirect is never an open redirect -------------------------------------


def _slash_app() -> App[Any]:
    app = App(settings=Settings())

    @app.get("/{slug}")
    async def page(slug: str) -> str:
        return slug

    @app.get("/{a}/{b}")
    async def pair(a: str, b: str) -> str:
        return a + b

    @app.get("//evil.com")
    async def static_double_slash() -> str:
        return "never redirected to"

    @app.get("/files/{rest:path}")
    async def files(rest: str) -> str:
        return rest

    return app


# Each hostile path and what it must get: served (200), refused (400), not found (404)
# or a 308 whose Location stays on this site.
HOSTILE_PATHS = {
    b"//evil.com/": 404,
    b"//evil.com": 200,  # a route of that exact path exists
    b"/\\evil.com/": 308,
    b"/\\evil.com": 200,
    b"/%5Cevil.com/": 308,
    b"/%5C%5Cevil.com/": 308,
    b"/%2F%2Fevil.com/": 404,
    b"/%2Fevil.com/": 404,
    b"///evil.com/": 404,
    b"/%09/evil.com/": 400,
    b"/\\/evil.com/": 308,
    b"/%5C/evil.com/": 308,
    b"/evil.com%2F/": 404,
    b"/files//evil.com/": 404,
}


@pytest.mark.parametrize(("raw_path", "status"), HOSTILE_PATHS.items())
@pytest.mark.parametrize("query", [b"", b"next=//evil.com"])
def test_trailing_slash_redirect_stays_on_this_site(
    raw_path: bytes, status: int, query: bytes
) -> None:
    result = call_asgi(
        _slash_app(), raw_path=raw_path, path=raw_path.decode("latin-1"), query_string=query
    )
    assert result.status == status
    location = result.header("location")
    if status != 308:
        assert location is None
        return
    assert location is not None
    assert location.startswith("/")
    assert location[1:2] not in ("/", "\\", "")
    assert "\t" not in location
    assert "\\" not in location


def test_trailing_slash_redirect_target_is_quoted() -> None:
    result = call_asgi(_slash_app(), raw_path=b"/%5Cevil.com/", path="/\\evil.com/")
    assert result.status == 308
    assert result.header("location") == "/%5Cevil.com"


def test_double_slash_route_is_served_but_never_a_redirect_target() -> None:
    app = _slash_app()
    assert call_asgi(app, raw_path=b"//evil.com", path="//evil.com").status == 200
    result = call_asgi(app, raw_path=b"//evil.com/", path="//evil.com/")
    assert result.status == 404
    assert result.header("location") is None


# -- charsets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/text", b"text/plain; charset=undefined", b"hello"),
        ("/text", b"text/plain; charset=idna", b"xn--a.b"),
        ("/text", b"text/plain; charset=base64", b"aGk="),
        ("/form", b"application/x-www-form-urlencoded; charset=undefined", b"a=1"),
        ("/form", b"application/x-www-form-urlencoded; charset=idna", b"a=1"),
        ("/form", b"multipart/form-data; boundary=x; charset=undefined", b"--x--\r\n"),
    ],
)
def test_unusable_charsets_are_400(
    path: str, content_type: bytes, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    _problem(
        caplog,
        400,
        method="POST",
        path=path,
        headers=[(b"content-type", content_type)],
        receive=Receiver([body]),
    )
