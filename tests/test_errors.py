"""Tests for errors: the HTTPError family, error handlers, generic 500s and debug pages."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import pytest

from satchel import (
    App,
    BadRequest,
    Conflict,
    Forbidden,
    HTTPError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Request,
    Response,
    Settings,
    TooManyRequests,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from satchel.errors import (
    MissingDependencyError,
    NotAcceptable,
    RequestHeaderFieldsTooLarge,
    ServerError,
)
from tests.support import FORBIDDEN_IN_BODY, assert_problem, call_asgi, request

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SECRET = "db password is hunter2"


# -- the exception classes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "status", "detail"),
    [
        (BadRequest, 400, "Bad Request"),
        (Unauthorized, 401, "Unauthorized"),
        (Forbidden, 403, "Forbidden"),
        (NotFound, 404, "Not Found"),
        (NotAcceptable, 406, "Not Acceptable"),
        (Conflict, 409, "Conflict"),
        (PayloadTooLarge, 413, "Request Entity Too Large"),
        (UnsupportedMediaType, 415, "Unsupported Media Type"),
        (UnprocessableEntity, 422, "Unprocessable Entity"),
        (TooManyRequests, 429, "Too Many Requests"),
        (RequestHeaderFieldsTooLarge, 431, "Request Header Fields Too Large"),
        (ServerError, 500, "Internal Server Error"),
        (HTTPError, 500, "Internal Server Error"),
    ],
)
def test_http_error_classes(cls: type[HTTPError], status: int, detail: str) -> None:
    exc = cls()
    assert (exc.status_code, exc.detail, exc.headers) == (status, detail, {})
    assert str(exc) == f"{status}: {detail}"
    assert repr(exc) == f"{cls.__name__}(status_code={status}, detail={detail!r})"


def test_http_error_arguments() -> None:
    exc = HTTPError("Teapot here", status_code=418, headers={"x-pot": "1"})
    assert (exc.status_code, exc.detail, exc.headers) == (418, "Teapot here", {"x-pot": "1"})
    assert HTTPError.status_code == 500
    assert HTTPError(status_code=599).detail == ""


def test_method_not_allowed_sorts_allow() -> None:
    exc = MethodNotAllowed(["POST", "GET"])
    assert exc.allowed == ("GET", "POST")
    assert exc.headers == {"allow": "GET, POST"}
    assert exc.status_code == 405


def test_missing_dependency_error_names_the_install_line() -> None:
    exc = MissingDependencyError("jinja2", "templates")
    assert isinstance(exc, ImportError)
    assert (
        str(exc) == "'jinja2' is not installed; install it with: pip install 'satchel[templates]'"
    )
    assert (exc.package, exc.extra) == ("jinja2", "templates")


# -- default responses for HTTPError -----------------------------------------------------------


def _raising_app(exc: Exception, **app_kwargs: Any) -> App[Any]:
    app = App(settings=Settings(), **app_kwargs)

    @app.get("/raise")
    async def raise_it() -> str:
        raise exc

    return app


def test_http_error_becomes_problem_json_with_its_headers() -> None:
    exc = Unauthorized("Log in first", headers={"WWW-Authenticate": 'Bearer realm="api"'})
    response = request(_raising_app(exc), "GET", "/raise")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Log in first",
    }
    assert "cache-control" not in response.headers


def test_http_error_for_a_browser_is_escaped_html() -> None:
    exc = BadRequest("<script>alert(1)</script>")
    response = request(_raising_app(exc), "GET", "/raise", headers=HTML)
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>" not in response.text


def test_server_side_http_error_is_not_cached() -> None:
    response = request(_raising_app(ServerError("Try later")), "GET", "/raise")
    assert response.status_code == 500
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["detail"] == "Try later"


def test_unknown_status_gets_a_generic_title() -> None:
    response = request(_raising_app(HTTPError("odd", status_code=499)), "GET", "/raise")
    assert response.status_code == 499
    assert response.json()["title"] == "Error"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html", True),
        ("text/html, application/json", True),
        ("application/json, text/html", False),
        ("application/json", False),
        ("*/*", False),
        ("", False),
    ],
)
def test_html_or_json_by_accept(accept: str, html: bool) -> None:
    response = request(_raising_app(NotFound()), "GET", "/raise", headers={"accept": accept})
    expected = "text/html; charset=utf-8" if html else "application/problem+json"
    assert response.headers["content-type"] == expected


# -- unhandled exceptions ----------------------------------------------------------------------


def test_generic_500_has_request_id_and_no_details(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="satchel.error")
    response = request(_raising_app(RuntimeError(SECRET)), "GET", "/raise")
    assert response.status_code == 500
    assert response.headers["cache-control"] == "no-store"
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    body = response.json()
    assert_problem(body, 500)
    assert body["request_id"] == request_id
    assert request_id in body["detail"]
    assert SECRET not in response.text
    assert "RuntimeError" not in response.text

    (record,) = caplog.records
    assert record.name == "satchel.error"
    assert record.levelno == logging.ERROR
    assert request_id in record.getMessage()
    assert "GET /raise" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[1] is not None
    assert str(record.exc_info[1]) == SECRET
    assert "Traceback (most recent call last)" in caplog.text
    assert SECRET in caplog.text


def test_generic_500_for_a_browser_is_html(caplog: pytest.LogCaptureFixture) -> None:
    response = request(_raising_app(RuntimeError(SECRET)), "GET", "/raise", headers=HTML)
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"] in response.text
    assert SECRET not in response.text
    for forbidden in FORBIDDEN_IN_BODY:
        assert forbidden not in response.text


def test_each_500_gets_its_own_request_id(caplog: pytest.LogCaptureFixture) -> None:
    app = _raising_app(RuntimeError("x"))
    ids = {request(app, "GET", "/raise").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_sync_handler_error_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    app = App(settings=Settings())

    @app.get("/sync")
    def sync_boom() -> str:
        raise ZeroDivisionError(SECRET)

    response = request(app, "GET", "/sync")
    assert response.status_code == 500
    assert SECRET not in response.text


# -- error handlers ----------------------------------------------------------------------------


class ShopError(Exception):
    pass


class OutOfStock(ShopError):
    pass


def test_handler_by_exception_type_uses_the_mro() -> None:
    app = _raising_app(OutOfStock("widget"))

    @app.error_handler(ShopError)
    async def shop_error(request: Request, exc: Exception) -> Response:
        return Response(f"shop: {exc}", 409)

    response = request(app, "GET", "/raise")
    assert (response.status_code, response.text) == (409, "shop: widget")


def test_most_specific_exception_handler_wins() -> None:
    app = _raising_app(OutOfStock("widget"))

    @app.error_handler(ShopError)
    def shop_error(request: Request, exc: Exception) -> str:
        return "shop"

    @app.error_handler(OutOfStock)
    def out_of_stock(request: Request, exc: Exception) -> str:
        return "stock"

    response = request(app, "GET", "/raise")
    # A plain return value takes the status of the error: 500 for non-HTTP errors.
    assert (response.status_code, response.text) == (500, "stock")


def test_handler_by_status_code() -> None:
    app = _raising_app(Conflict("taken"))

    @app.error_handler(409)
    async def conflict(request: Request, exc: Exception) -> dict[str, str]:
        assert isinstance(exc, HTTPError)
        return {"error": exc.detail}

    response = request(app, "GET", "/raise")
    assert response.status_code == 409
    assert response.json() == {"error": "taken"}


def test_status_handler_covers_framework_raised_errors() -> None:
    app = _raising_app(RuntimeError())

    @app.error_handler(404)
    def not_found(request: Request, exc: Exception) -> Response:
        return Response(f"nothing at {request.path}", 404, media_type="text/plain")

    @app.error_handler(405)
    def not_allowed(request: Request, exc: Exception) -> str:
        return "wrong method"

    response = request(app, "GET", "/nowhere")
    assert (response.status_code, response.text) == (404, "nothing at /nowhere")
    response = request(app, "DELETE", "/raise")
    assert (response.status_code, response.text) == (405, "wrong method")


def test_status_handler_beats_a_generic_exception_handler() -> None:
    app = _raising_app(RuntimeError("boom"))

    @app.error_handler(Exception)
    def anything(request: Request, exc: Exception) -> Response:
        return Response("generic", 500)

    @app.error_handler(404)
    def not_found(request: Request, exc: Exception) -> Response:
        return Response("not found page", 404)

    assert request(app, "GET", "/nowhere").text == "not found page"
    assert request(app, "GET", "/raise").text == "generic"
    # With no status handler, the Exception handler sees HTTP errors too.
    response = request(app, "POST", "/raise")
    assert (response.status_code, response.text) == (500, "generic")


def test_handler_for_an_http_error_subclass_beats_the_status_handler() -> None:
    class GoneFishing(NotFound):
        pass

    app = _raising_app(GoneFishing())

    @app.error_handler(404)
    def not_found(request: Request, exc: Exception) -> str:
        return "404 handler"

    @app.error_handler(GoneFishing)
    def gone(request: Request, exc: Exception) -> str:
        return "gone fishing"

    @app.error_handler(HTTPError)
    def any_http(request: Request, exc: Exception) -> str:
        return "any http"

    assert request(app, "GET", "/raise").text == "gone fishing"
    assert request(app, "GET", "/nowhere").text == "404 handler"
    assert request(app, "PUT", "/raise").text == "any http"


def test_unmatched_handlers_leave_the_default(caplog: pytest.LogCaptureFixture) -> None:
    app = _raising_app(KeyError("k"))

    @app.error_handler(ShopError)
    def shop(request: Request, exc: Exception) -> str:
        return "shop"

    @app.error_handler(418)
    def teapot(request: Request, exc: Exception) -> str:
        return "teapot"

    response = request(app, "GET", "/raise")
    assert response.status_code == 500
    assert response.json()["title"] == "Internal Server Error"
    assert request(app, "GET", "/nowhere").json()["status"] == 404


def test_failing_error_handler_gives_a_generic_500(caplog: pytest.LogCaptureFixture) -> None:
    app = _raising_app(ShopError("first"))

    @app.error_handler(ShopError)
    def broken(request: Request, exc: Exception) -> str:
        raise RuntimeError(SECRET)

    response = request(app, "GET", "/raise")
    assert response.status_code == 500
    assert SECRET not in response.text
    assert "x-request-id" in response.headers
    assert SECRET in caplog.text


def test_error_handler_for_a_bad_path() -> None:
    app = App(settings=Settings())

    @app.error_handler(400)
    def bad(request: Request, exc: Exception) -> str:
        return f"bad: {exc}"

    result = call_asgi(app, raw_path=b"/%FF", path="/")
    assert (result.status, result.body) == (400, b"bad: 400: Path is not valid UTF-8")


# -- debug mode --------------------------------------------------------------------------------


def test_debug_500_shows_the_exception_with_a_nonce_csp(caplog: pytest.LogCaptureFixture) -> None:
    app = _raising_app(RuntimeError("debug-visible message"), debug=True)
    response = request(app, "GET", "/raise?page=2", headers=HTML)
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert "debug-visible message" in response.text
    csp = response.headers["content-security-policy"]
    match = re.search(r"'nonce-([A-Za-z0-9_-]{16,})'", csp)
    assert match is not None
    assert f'nonce="{match.group(1)}"' in response.text
    assert "default-src 'none'" in csp
    # A fresh nonce for every page.
    again = request(app, "GET", "/raise", headers=HTML).headers["content-security-policy"]
    assert again != csp


def test_debug_500_as_text_for_api_clients(caplog: pytest.LogCaptureFixture) -> None:
    app = _raising_app(RuntimeError("debug-visible message"), debug=True)
    response = request(app, "GET", "/raise")
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "debug-visible message" in response.text
    assert response.headers["x-request-id"] in response.text


def test_debug_from_settings() -> None:
    app = App(settings=Settings(debug=True))

    @app.get("/raise")
    async def raise_it() -> str:
        raise RuntimeError("from settings")

    assert "from settings" in request(app, "GET", "/raise").text


def test_http_error_headers_are_validated_at_construction() -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        HTTPError("no", headers={"www-authenticate": 'Basic\r\nSet-Cookie: x="1"'})


def test_handler_returning_data_keeps_the_error_headers() -> None:
    app = App(settings=Settings())

    @app.error_handler(405)
    def not_allowed(request: Request, exc: Exception) -> dict[str, str]:
        return {"error": "method"}

    @app.get("/only-get")
    async def only_get() -> str:
        return "ok"

    response = request(app, "POST", "/only-get")
    assert response.status_code == 405
    assert response.json() == {"error": "method"}
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_sync_error_handlers_run_off_the_event_loop() -> None:
    app = App(settings=Settings())
    threads: list[str] = []

    @app.error_handler(LookupError)
    def on_lookup(request: Request, exc: Exception) -> Response:
        threads.append(threading.current_thread().name)
        return Response("gone", status_code=410)

    @app.get("/x")
    async def x() -> str:
        raise LookupError

    assert request(app, "GET", "/x").status_code == 410
    assert threads
    assert threads[0] != threading.main_thread().name
