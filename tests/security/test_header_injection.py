"""Response splitting: CR or LF from the request reaching a response header.

A handler that copies request data into a header, a cookie, a redirect target or an
error's headers must never send a second header line: the header is refused when it
is built, the client gets a generic 500, and the attempt is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from satchel import App, HTTPError, RedirectResponse, Request, Response, Settings, Unauthorized
from satchel.files import FileResponse
from tests.security.granian import Server, status_of
from tests.security.helpers import answers_quickly, assert_refused
from tests.security.served_app import SERVED_FILE, build_app
from tests.support import RawResponse, call_asgi

INJECTED = "a\r\nSet-Cookie: session=attacker"
INJECTIONS = [INJECTED, "a\nSet-Cookie: session=attacker", "a\rSet-Cookie: x", "a\x00b"]


def splitting_app() -> App[Any]:
    """Routes that copy ``?v=`` into a header, a cookie, a redirect or an error."""
    app = App(settings=Settings(access_log=False))

    def value(request: Request) -> str:
        return request.query_params.get("v") or ""

    @app.get("/header")
    async def header(request: Request) -> Response:
        return Response("x", headers={"x-note": value(request)})

    @app.get("/cookie-value")
    async def cookie_value(request: Request) -> Response:
        response = Response("x")
        response.set_cookie("theme", value(request))
        return response

    @app.get("/cookie-path")
    async def cookie_path(request: Request) -> Response:
        response = Response("x")
        response.set_cookie("theme", "dark", path="/" + value(request))
        return response

    @app.get("/redirect")
    async def redirect(request: Request) -> Response:
        return RedirectResponse("/next/" + value(request))

    @app.get("/error")
    async def error(request: Request) -> Response:
        raise Unauthorized(headers={"www-authenticate": f'Bearer realm="{value(request)}"'})

    @app.get("/error-mutated")
    async def error_mutated(request: Request) -> Response:
        exc = HTTPError(status_code=401)
        exc.headers["www-authenticate"] = value(request)  # after the constructor's check
        raise exc

    return app


def assert_nothing_injected(result: RawResponse) -> None:
    sent = b"\n".join(name + b": " + value for name, value in result.raw_headers)
    assert b"attacker" not in sent
    assert b"\r" not in sent
    assert b"\n" not in b"".join(value for _, value in result.raw_headers)
    assert result.headers_named("set-cookie") == []


@pytest.mark.parametrize(
    "path",
    ["/header", "/cookie-value", "/cookie-path", "/redirect", "/error", "/error-mutated"],
)
@pytest.mark.parametrize("injection", INJECTIONS, ids=["crlf", "lf", "cr", "nul"])
def test_request_data_never_splits_a_response_header(
    path: str, injection: str, caplog: pytest.LogCaptureFixture
) -> None:
    """CRLF injection (CWE-113): aiohttp CVE-2023-49082 and CPython CVE-2019-9740 on the
    client side, Tornado GHSA-78cv-mqj4-43f7 (cookie attributes): CR or LF in a value
    starts a new header line, such as a ``Set-Cookie`` of the attacker's choosing.
    """
    caplog.set_level(logging.ERROR, logger="satchel.error")
    query = ("v=" + quote(injection)).encode()
    result = call_asgi(splitting_app(), path=path, query_string=query)
    assert_refused(result, 500)
    assert_nothing_injected(result)
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: Response("x", headers={"x-note": INJECTED}),
        lambda: Response("x", headers=[("x-note\r\nset-cookie", "a")]),
        lambda: RedirectResponse("/next" + INJECTED),
        lambda: HTTPError(headers={"x-note": INJECTED}),
        lambda: Response("x").set_cookie("a", "b; Domain=evil.example"),
        lambda: Response("x").set_cookie("a", "b", domain="evil.example; Path=/"),
        lambda: Response("x").set_cookie("a\r\nb", "c"),
    ],
    ids=[
        "header",
        "header-name",
        "redirect",
        "http-error",
        "cookie-value",
        "cookie-domain",
        "cookie-name",
    ],
)
def test_splitting_values_are_refused_when_built(build: Callable[[], object]) -> None:
    """The same class at the API: every way of setting a header validates it."""
    with pytest.raises(ValueError, match=r"CR, LF or NUL|Invalid"):
        build()


def test_download_name_is_encoded_not_injected() -> None:
    """A file name with CR/LF ends up percent-encoded inside Content-Disposition."""
    response = FileResponse(SERVED_FILE, filename=INJECTED)
    disposition = response.headers["content-disposition"]
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert "%0D%0ASet-Cookie" in disposition


def test_redirect_helper_falls_back_on_a_split_target() -> None:
    """``safe_redirect`` refuses control characters: the fallback, not a 500."""
    result = call_asgi(build_app(), path="/go", query_string=b"next=/a%0D%0ASet-Cookie:x=1")
    assert result.status == 303
    assert result.header("location") == "/"


@pytest.mark.parametrize("query", [b"v=a%0D%0ASet-Cookie:%20session=attacker", b"v=a%0Ab"])
def test_splitting_through_granian(clean_server: Server, query: bytes) -> None:
    """Over a real socket: a generic 500, and the raw answer has no injected line."""
    request = b"GET /note?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % query
    with answers_quickly():
        answer = clean_server.exchange(request)
    assert status_of(answer) == 500
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b"set-cookie" not in head
    assert b"x-note" not in head
