"""Tests for handler compilation: arguments, sync handlers in threads, return conversions."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import threading
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import pytest

from satchel import (
    App,
    ConfigurationError,
    HTMLResponse,
    JSONResponse,
    Request,
    Response,
    Settings,
)
from satchel.asgi import ASGIRequest
from satchel.handlers import compile_handler, handler_hints, to_response
from tests.support import call_asgi, request


class Item(msgspec.Struct):
    name: str
    price: float


@dataclasses.dataclass
class Pair:
    left: int
    right: int


# -- threads -----------------------------------------------------------------------------------


def test_sync_handler_runs_off_the_event_loop_thread() -> None:
    app = App(settings=Settings())
    threads: dict[str, int] = {}

    @app.get("/sync")
    def sync_handler() -> str:
        threads["handler"] = threading.get_ident()
        return "sync"

    @app.get("/async")
    async def async_handler() -> str:
        threads["async"] = threading.get_ident()
        return "async"

    @app.middleware_function
    async def record_loop_thread(request: Request, call_next: Any) -> Response:
        threads["loop"] = threading.get_ident()
        response: Response = await call_next(request)
        return response

    assert request(app, "GET", "/sync").text == "sync"
    assert threads["handler"] != threads["loop"]
    assert request(app, "GET", "/async").text == "async"
    assert threads["async"] == threads["loop"]


def test_blocking_sync_handlers_do_not_block_each_other() -> None:
    app = App(settings=Settings())
    barrier = threading.Barrier(2, timeout=5)

    @app.get("/wait")
    def wait() -> str:
        # Both requests must be in their handlers at once for the barrier to open.
        barrier.wait()
        return "ok"

    async def two_at_once() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            responses = await asyncio.gather(client.get("/wait"), client.get("/wait"))
        return [r.status_code for r in responses]

    assert asyncio.run(two_at_once()) == [200, 200]


def test_sync_handler_gets_parameters_and_request() -> None:
    app = App(settings=Settings())

    @app.post("/items/{item_id:int}")
    def update(request: Request, item_id: int) -> dict[str, Any]:
        return {"id": item_id, "method": request.method}

    assert request(app, "POST", "/items/4").json() == {"id": 4, "method": "POST"}


# -- return values -----------------------------------------------------------------------------


def _returning(value: Any, **route: Any) -> App[Any]:
    app = App(settings=Settings())

    @app.get("/value", **route)
    async def give() -> Any:
        return value

    return app


@pytest.mark.parametrize(
    ("value", "content_type", "body"),
    [
        ("h\u00e9llo", "text/plain; charset=utf-8", "h\u00e9llo".encode()),
        (b"\x00\x01", "application/octet-stream", b"\x00\x01"),
        ({"a": 1}, "application/json", b'{"a":1}'),
        ([1, "two"], "application/json", b'[1,"two"]'),
        (Item("pen", 1.5), "application/json", b'{"name":"pen","price":1.5}'),
        (Pair(1, 2), "application/json", b'{"left":1,"right":2}'),
        (3, "application/json", b"3"),
        (True, "application/json", b"true"),
    ],
)
def test_return_value_conversions(value: Any, content_type: str, body: bytes) -> None:
    result = call_asgi(_returning(value), path="/value")
    assert result.status == 200
    assert result.header("content-type") == content_type
    assert result.body == body
    assert result.header("content-length") == str(len(body))


def test_none_is_204_without_body() -> None:
    result = call_asgi(_returning(None), path="/value")
    assert (result.status, result.body, result.header("content-type")) == (204, b"", None)


def test_none_with_a_route_status_keeps_it() -> None:
    result = call_asgi(_returning(None, status_code=202), path="/value")
    assert (result.status, result.body) == (202, b"")


def test_route_status_applies_to_str_bytes_and_json() -> None:
    for value in ("s", b"b", {"j": 1}):
        assert call_asgi(_returning(value, status_code=201), path="/value").status == 201


def test_response_passes_through_untouched() -> None:
    response = HTMLResponse("<p>hi</p>", 418, {"x-a": "1"})
    result = call_asgi(_returning(response, status_code=201), path="/value")
    assert result.status == 418
    assert result.header("x-a") == "1"
    assert result.body == b"<p>hi</p>"


def test_str_and_bytes_subclasses_are_text_and_octets() -> None:
    class Color(enum.StrEnum):
        RED = "red"

    result = call_asgi(_returning(Color.RED), path="/value")
    assert (result.body, result.header("content-type")) == (b"red", "text/plain; charset=utf-8")
    for value in (bytearray(b"ab"), memoryview(b"ab")):
        result = call_asgi(_returning(value), path="/value")
        assert (result.body, result.header("content-type")) == (b"ab", "application/octet-stream")


def test_unencodable_return_value_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    result = call_asgi(_returning(object()), path="/value")
    assert result.status == 500


def test_to_response_directly() -> None:
    assert to_response("x").header_list == [("content-type", "text/plain; charset=utf-8")]
    assert to_response(None, 200).status_code == 204
    assert isinstance(to_response({"a": 1}), JSONResponse)
    response = Response(b"r")
    assert to_response(response, 500) is response


# -- signatures --------------------------------------------------------------------------------


def _build(path: str, handler: Callable[..., Any]) -> None:
    app = App(settings=Settings())
    app.get(path)(handler)
    app.build()


def test_var_args_are_refused() -> None:
    def star(*args: Any) -> str:
        return ""

    with pytest.raises(ConfigurationError, match=r"star, parameter 'args': \*args"):
        _build("/", star)


def test_var_kwargs_are_refused() -> None:
    def double_star(**kwargs: Any) -> str:
        return ""

    with pytest.raises(ConfigurationError, match="double_star, parameter 'kwargs'"):
        _build("/", double_star)


def test_positional_only_is_refused() -> None:
    def positional(item_id: int, /) -> str:
        return ""

    with pytest.raises(
        ConfigurationError, match=r"positional, parameter 'item_id'.*positional-only"
    ):
        _build("/{item_id}", positional)


class Mystery:
    """A type no request input can become."""


def test_unknown_parameter_is_refused_with_its_name() -> None:
    def mystery(request: Request, limit: Mystery) -> str:
        return ""

    with pytest.raises(ConfigurationError) as info:
        _build("/", mystery)
    message = str(info.value)
    assert "test_unknown_parameter_is_refused_with_its_name.<locals>.mystery" in message
    assert "parameter 'limit'" in message
    assert "cannot tell where" in message


def test_unannotated_parameter_is_refused() -> None:
    def loose(request) -> str:  # type: ignore[no-untyped-def]
        return ""

    with pytest.raises(ConfigurationError, match=r"loose, parameter 'request'.*no type annotation"):
        _build("/", loose)


def test_missing_path_parameter_is_refused() -> None:
    def forgetful() -> str:
        return ""

    with pytest.raises(
        ConfigurationError, match=r"forgetful does not take path parameter\(s\) \['item_id'\]"
    ):
        _build("/items/{item_id}", forgetful)


def test_unresolvable_hints_are_refused() -> None:
    def broken(request: NoSuchType) -> str:  # type: ignore[name-defined]  # noqa: F821
        return ""

    with pytest.raises(
        ConfigurationError, match=r"Cannot resolve the type hints of handler .*broken"
    ):
        _build("/", broken)
    with pytest.raises(ConfigurationError, match="NoSuchType"):
        handler_hints(broken)


def test_request_subclass_annotation_is_accepted() -> None:
    app = App(settings=Settings())

    @app.get("/")
    async def index(req: ASGIRequest) -> str:
        return type(req).__name__

    assert request(app, "GET", "/").text == "ASGIRequest"


def test_compile_handler_directly() -> None:
    async def handler(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    plan = compile_handler(handler, path_names=["item_id"], status_code=201)

    class FakeRequest:
        def __init__(self) -> None:
            self.path_params = {"item_id": 9}

    async def call() -> Response:
        return await plan.endpoint(FakeRequest())  # type: ignore[arg-type]

    response = asyncio.run(call())
    assert (response.status_code, response.body) == (201, b'{"id":9}')
