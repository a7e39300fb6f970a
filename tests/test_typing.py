"""Static typing of the public decorators: mypy --strict checks this file (assert_type)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, assert_type

from satchel import App, Request, Response, Router, Settings, WebSocket
from satchel.middleware import CallNext


class AppState:
    counter: int = 0


app = App(settings=Settings(), state=AppState())
plain = App(settings=Settings())
router = Router(prefix="/r")


@app.get("/")
def index() -> str:
    return "hi"


@router.post("/items/{item_id}")
async def create(item_id: int, request: Request) -> dict[str, int]:
    return {"id": item_id}


@app.websocket("/ws")
async def socket(ws: WebSocket) -> None:
    await ws.close()


@app.error_handler(404)
def not_found(request: Request, exc: Exception) -> Response:
    return Response("nope", status_code=404)


async def middleware(request: Request, call_next: CallNext) -> Response:
    return await call_next(request)


def test_decorators_keep_the_function_types() -> None:
    # Were a decorator to return Any, these calls would be Any and assert_type would fail.
    assert_type(index(), str)
    waiting = assert_type(socket(WebSocket.__new__(WebSocket)), Coroutine[Any, Any, None])
    waiting.close()  # never awaited: only its type matters here
    # Static check only: mypy rejects this assignment if the decorator changed the type.
    _: Callable[[int, Request], Coroutine[Any, Any, dict[str, int]]] = create
    assert_type(not_found(Request.__new__(Request), LookupError()).status_code, int)


def test_state_is_typed() -> None:
    assert_type(app.state, AppState)
    assert_type(app.state.counter, int)
    plain.state.anything = 1  # the default State takes any attribute
    app.add_middleware(middleware)


@app.on_startup
async def warm_up() -> int:
    return 1


def test_hooks_keep_their_types() -> None:
    waiting = assert_type(warm_up(), Coroutine[Any, Any, int])
    waiting.close()
