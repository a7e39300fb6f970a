"""Tests for the middleware model: chain order, short-circuits, errors, freezing."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from satchel import App, CallNext, ConfigurationError, Request, Response, Settings
from satchel.middleware import build_chain
from tests.support import call_asgi, request


def _recorder(label: str, log: list[str]) -> Any:
    async def middleware(request: Request, call_next: CallNext) -> Response:
        log.append(f"{label}>")
        response = await call_next(request)
        log.append(f"<{label}")
        return response

    middleware.__qualname__ = label
    return middleware


async def _endpoint(request: Request) -> Response:
    return Response(b"end")


def test_build_chain_without_middleware_is_the_endpoint() -> None:
    assert build_chain(_endpoint, []) is _endpoint


def test_build_chain_order_and_names() -> None:
    log: list[str] = []
    chain = build_chain(_endpoint, [_recorder("a", log), _recorder("b", log)])
    assert chain.__qualname__ == "chain[a]"

    async def call() -> Response:
        return await chain(cast(Request, None))

    response = asyncio.run(call())
    assert response.body == b"end"
    assert log == ["a>", "b>", "<b", "<a"]


def test_build_chain_names_callable_objects() -> None:
    class Layer:
        async def __call__(self, request: Request, call_next: CallNext) -> Response:
            return await call_next(request)

    chain = build_chain(_endpoint, [Layer()])
    assert chain.__qualname__ == "chain[test_build_chain_names_callable_objects.<locals>.Layer]"


def test_app_middleware_sees_every_request_including_404_and_405() -> None:
    log: list[str] = []
    statuses: list[int] = []

    async def status_recorder(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        statuses.append(response.status_code)
        return response

    app = App(settings=Settings(), middleware=[_recorder("outer", log), status_recorder])

    @app.get("/ok")
    async def ok() -> str:
        log.append("handler")
        return "ok"

    assert request(app, "GET", "/ok").text == "ok"
    assert log == ["outer>", "handler", "<outer"]
    assert request(app, "GET", "/missing").status_code == 404
    assert request(app, "POST", "/ok").status_code == 405
    assert statuses == [200, 404, 405]


def test_middleware_sees_handler_errors_as_responses() -> None:
    seen: list[int] = []

    async def observe(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        seen.append(response.status_code)
        response.headers["x-observed"] = "1"
        return response

    app = App(settings=Settings())
    app.add_middleware(observe)

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("hidden")

    response = request(app, "GET", "/boom")
    assert response.status_code == 500
    assert response.headers["x-observed"] == "1"
    assert seen == [500]


def test_middleware_short_circuit() -> None:
    async def gate(request: Request, call_next: CallNext) -> Response:
        if request.headers.get("x-key") != "secret":
            return Response("no", 401)
        return await call_next(request)

    app = App(settings=Settings(), middleware=[gate])

    @app.get("/")
    async def index() -> str:
        return "yes"

    assert request(app, "GET", "/").status_code == 401
    assert request(app, "GET", "/", headers={"x-key": "secret"}).text == "yes"


def test_error_in_middleware_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: Request, call_next: CallNext) -> Response:
        raise LookupError("middleware bug")

    app = App(settings=Settings(), middleware=[broken])

    @app.get("/")
    async def index() -> str:
        return "x"

    result = call_asgi(app, path="/")
    assert result.status == 500
    assert b"middleware bug" not in result.body
    assert any("middleware bug" in str(r.exc_info) for r in caplog.records)


def test_middleware_can_replace_the_request_state_and_response() -> None:
    async def stamp(request: Request, call_next: CallNext) -> Response:
        request.state["user"] = "alice"
        response = await call_next(request)
        return Response(response.body + b"!", response.status_code, response.header_list)

    app = App(settings=Settings(), middleware=[stamp])

    @app.get("/")
    async def index(request: Request) -> str:
        return str(request.state["user"])

    assert request(app, "GET", "/").text == "alice!"


def test_middleware_is_frozen_after_start() -> None:
    app = App(settings=Settings())
    app.build()

    async def late(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    with pytest.raises(ConfigurationError, match="frozen"):
        app.add_middleware(late)
    with pytest.raises(ConfigurationError, match="frozen"):
        app.middleware_function(late)
