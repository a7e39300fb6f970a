"""Tests for the application: dispatch, automatic HEAD/OPTIONS/405/404, headers, entries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from satchel import (
    App,
    ConfigurationError,
    Request,
    Response,
    Router,
    Settings,
    StreamingResponse,
)
from satchel.app import SECURITY_HEADERS
from satchel.responses import FileResponseBase
from satchel.websockets import WebSocket
from tests.support import Receiver, assert_problem, call_asgi, request

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def _app(**settings: Any) -> App[Any]:
    app = App(settings=Settings(**settings), openapi=None)

    @app.get("/")
    async def index() -> str:
        return "Hello, World!"

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.post("/users")
    async def create_user(request: Request) -> Response:
        return Response(await request.body(), 201, media_type="application/json")

    @app.route("/things", methods=["GET", "PUT", "delete"])
    async def things(request: Request) -> str:
        return request.method

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse([b"a", "b", b"c"], media_type="text/plain")

    @app.get("/docs/")
    async def docs() -> str:
        return "docs"

    return app


# -- the basics --------------------------------------------------------------------------------


def test_minimal_app_answers() -> None:
    response = request(_app(), "GET", "/")
    assert response.status_code == 200
    assert response.text == "Hello, World!"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "13"


def test_path_parameter_by_annotation() -> None:
    app = _app()
    assert request(app, "GET", "/users/42").json() == {"id": 42}
    assert request(app, "GET", "/users/abc").status_code == 404


def test_route_with_several_methods() -> None:
    app = _app()
    for method in ("GET", "PUT", "DELETE"):
        assert request(app, method, "/things").text == method
    assert request(app, "POST", "/things").status_code == 405


def test_status_code_of_created_response() -> None:
    response = request(_app(), "POST", "/users", content=b'{"a":1}')
    assert response.status_code == 201
    assert response.json() == {"a": 1}


def test_route_status_code_applies_to_plain_values() -> None:
    app = App(settings=Settings())

    @app.post("/items", status_code=201)
    async def create() -> dict[str, bool]:
        return {"created": True}

    response = request(app, "POST", "/items")
    assert response.status_code == 201
    assert response.json() == {"created": True}


def test_not_found_is_problem_json() -> None:
    response = request(_app(), "GET", "/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert_problem(response.json(), 404)
    assert response.json()["title"] == "Not Found"


def test_not_found_for_a_browser_is_html() -> None:
    response = request(_app(), "GET", "/nowhere", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>404 Not Found</h1>" in response.text


# -- HEAD, OPTIONS, 405 ------------------------------------------------------------------------


def test_head_for_a_get_route_has_headers_and_no_body() -> None:
    app = _app()
    get = request(app, "GET", "/users/7")
    head = request(app, "HEAD", "/users/7")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers == get.headers


def test_head_for_a_stream_sends_no_body() -> None:
    result = call_asgi(_app(), method="HEAD", path="/stream")
    assert result.status == 200
    assert result.body == b""
    assert result.header("content-type") == "text/plain; charset=utf-8"


def test_explicit_head_route_wins_over_get() -> None:
    app = App(settings=Settings())

    @app.get("/x")
    async def get_x() -> str:
        return "get"

    @app.head("/x")
    async def head_x() -> Response:
        return Response(b"", 200, {"x-head": "yes"})

    assert request(app, "HEAD", "/x").headers["x-head"] == "yes"
    assert request(app, "GET", "/x").text == "get"


def test_method_not_allowed_lists_allow() -> None:
    response = request(_app(), "PATCH", "/users/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    assert_problem(response.json(), 405)


def test_head_not_allowed_on_post_only_route() -> None:
    response = request(_app(), "HEAD", "/users")
    assert response.status_code == 405
    assert response.headers["allow"] == "OPTIONS, POST"


def test_automatic_options() -> None:
    response = request(_app(), "OPTIONS", "/things")
    assert response.status_code == 204
    assert response.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PUT"
    assert response.content == b""
    assert "content-length" not in response.headers


def test_explicit_options_route_is_used() -> None:
    app = App(settings=Settings())

    @app.get("/x")
    async def get_x() -> str:
        return "get"

    @app.options("/x")
    async def options_x() -> Response:
        return Response(b"", 200, {"allow": "GET"})

    response = request(app, "OPTIONS", "/x")
    assert response.status_code == 200
    assert response.headers["allow"] == "GET"


def test_methods_registered_separately_share_a_path() -> None:
    app = App(settings=Settings())

    @app.get("/items/{item_id:int}")
    async def read(item_id: int) -> str:
        return f"read {item_id}"

    @app.delete("/items/{item_id:int}")
    async def remove(item_id: int) -> None:
        return None

    @app.put("/items/{item_id:int}")
    async def put(item_id: int) -> str:
        return "put"

    @app.patch("/items/{item_id:int}")
    async def patch(item_id: int) -> str:
        return "patch"

    assert request(app, "GET", "/items/3").text == "read 3"
    assert request(app, "DELETE", "/items/3").status_code == 204
    assert request(app, "PUT", "/items/3").text == "put"
    assert request(app, "PATCH", "/items/3").text == "patch"
    allow = request(app, "OPTIONS", "/items/3").headers["allow"]
    assert allow == "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"


# -- trailing slashes --------------------------------------------------------------------------


def test_trailing_slash_redirects_both_ways_with_query() -> None:
    app = _app()
    result = call_asgi(app, path="/users/5/", query_string=b"a=1&b=%20")
    assert result.status == 308
    assert result.header("location") == "/users/5?a=1&b=%20"
    result = call_asgi(app, path="/docs")
    assert result.status == 308
    assert result.header("location") == "/docs/"


def test_trailing_slash_redirect_quotes_the_path() -> None:
    app = App(settings=Settings())

    @app.get("/caf\u00e9 bar")
    async def cafe() -> str:
        return "ok"

    result = call_asgi(app, raw_path=b"/caf%C3%A9%20bar/", path="/caf\u00e9 bar/")
    assert result.header("location") == "/caf%C3%A9%20bar"


def test_trailing_slash_redirect_can_be_disabled() -> None:
    app = _app(redirect_slashes=False)
    assert call_asgi(app, path="/users/5/").status == 404
    assert call_asgi(app, path="/docs").status == 404


def test_root_is_never_redirected() -> None:
    app = App(settings=Settings())

    @app.get("/x")
    async def x() -> str:
        return "x"

    assert call_asgi(app, path="/").status == 404


# -- headers -----------------------------------------------------------------------------------


def test_security_headers_by_default() -> None:
    response = request(_app(), "GET", "/")
    for name, value in SECURITY_HEADERS:
        assert response.headers[name] == value


def test_response_overrides_a_security_header() -> None:
    app = App(settings=Settings())

    @app.get("/frame")
    async def frame() -> Response:
        return Response("x", headers={"X-Frame-Options": "SAMEORIGIN"})

    result = call_asgi(app, path="/frame")
    assert result.headers_named("x-frame-options") == ["SAMEORIGIN"]
    assert result.header("x-content-type-options") == "nosniff"


def test_security_headers_can_be_switched_off() -> None:
    app = App(settings=Settings(), security_headers=False)

    @app.get("/")
    async def index() -> str:
        return "x"

    result = call_asgi(app, path="/", scheme="https")  # no HSTS either
    assert [k for k, _ in result.raw_headers] == [b"content-type", b"content-length"]


def test_every_default_on_a_response_without_content_type() -> None:
    app = App(settings=Settings())

    @app.get("/empty")
    async def empty() -> Response:
        return Response(b"", 204)

    result = call_asgi(app, path="/empty")
    assert [(k.decode(), v.decode()) for k, v in result.raw_headers] == list(SECURITY_HEADERS)


def test_no_content_length_on_204() -> None:
    app = App(settings=Settings())

    @app.delete("/x")
    async def remove() -> None:
        return None

    result = call_asgi(app, method="DELETE", path="/x")
    assert result.status == 204
    assert result.header("content-length") is None


# -- introspection -----------------------------------------------------------------------------


def test_routes_info_lists_every_route() -> None:
    app = _app()

    infos = app.routes_info()
    assert [(i.path, i.methods, i.name) for i in infos][:3] == [
        ("/", ("GET",), "index"),
        ("/users/{user_id}", ("GET",), "user"),
        ("/users", ("POST",), "create_user"),
    ]
    assert not any(i.websocket for i in infos)
    assert infos[0].handler.__name__ == "index"


def test_websocket_routes_are_registered_and_named() -> None:
    app = App(settings=Settings(), openapi=None)
    chat = Router(prefix="/chat", name="chat")

    @chat.websocket("/{room}", name="room")
    async def room(socket: WebSocket, room: str) -> None:
        return None

    app.include(chat)
    (info,) = app.routes_info()
    assert (info.path, info.methods, info.name, info.websocket) == (
        "/chat/{room}",
        ("WEBSOCKET",),
        "chat.room",
        True,
    )
    found = app.websocket_endpoint("/chat/lobby")
    assert found is not None
    assert found[1] == {"room": "lobby"}
    assert app.websocket_endpoint("/chat") is None
    assert app.url_for("chat.room", room="a b") == "/chat/a%20b"
    # A WebSocket route answers no HTTP method.
    assert call_asgi(app, path="/chat/lobby").status == 404


def test_build_is_idempotent_and_freezes() -> None:
    app = _app()
    app.build()
    app.build()

    async def late() -> str:
        return "late"

    with pytest.raises(ConfigurationError, match="frozen"):
        app.get("/late")(late)
    assert request(app, "GET", "/").status_code == 200


def test_settings_and_debug() -> None:
    settings = Settings(debug=True)
    assert App(settings=settings).debug is True
    assert App(settings=settings, debug=False).debug is False
    assert App(settings=Settings()).settings.debug is False


def test_access_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="satchel.access")
    call_asgi(_app(), path="/users/9")
    (record,) = [r for r in caplog.records if r.name == "satchel.access"]
    assert record.getMessage() == '127.0.0.1 "GET /users/9 HTTP/1.1" 200'


def test_access_log_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="satchel.access")
    call_asgi(_app(access_log=False), path="/")
    assert [r for r in caplog.records if r.name == "satchel.access"] == []


def test_unknown_scope_type_is_ignored() -> None:
    app = _app()
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("not called")

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app({"type": "other"}, receive, send))
    assert sent == []


# -- ASGI middleware wrapping ------------------------------------------------------------------


def test_wrap_asgi_applies_third_party_middleware() -> None:
    seen: list[str] = []

    def tagging(inner: ASGIApp, *, tag: str) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
            seen.append(f"{tag}:{scope['path']}")
            await inner(scope, receive, send)

        return wrapped

    app = _app()
    app.wrap_asgi(tagging, tag="outer")
    with pytest.raises(ConfigurationError, match="--interface asgi"):
        app.check_rsgi()
    assert request(app, "GET", "/").status_code == 200
    assert seen == ["outer:/"]
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ConfigurationError, match="RSGI"):
            app.__rsgi_init__(loop)
    finally:
        loop.close()


# -- the RSGI entry, with a stand-in for Granian's protocol objects ----------------------------


class _RSGIHeaders:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def items(self) -> list[tuple[str, str]]:
        return self._items

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]


@dataclass
class _RSGIScope:
    path: str
    method: str = "GET"
    query_string: str = ""
    headers: _RSGIHeaders = field(default_factory=lambda: _RSGIHeaders([("host", "testserver")]))
    client: str = "127.0.0.1:5000"
    scheme: str = "http"
    http_version: str = "1.1"
    proto: str = "http"


class _Transport:
    def __init__(self, sink: list[bytes]) -> None:
        self._sink = sink

    async def send_bytes(self, data: bytes) -> None:
        self._sink.append(data)


@dataclass
class _RSGIProtocol:
    body: list[bytes] = field(default_factory=list)
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)
    kind: str = ""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        for chunk in self.body:
            yield chunk

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.kind, self.status, self.headers = "bytes", status, headers
        self.sent.append(body)

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.kind, self.status, self.headers = "empty", status, headers

    def response_file_range(
        self, status: int, headers: list[tuple[str, str]], path: str, start: int, end: int
    ) -> None:
        self.kind, self.status, self.headers = "file", status, headers
        self.sent.append(f"{path}:{start}-{end}".encode())

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> _Transport:
        self.kind, self.status, self.headers = "stream", status, headers
        return _Transport(self.sent)

    async def client_disconnect(self) -> None:
        await asyncio.Event().wait()  # this client never leaves


def _rsgi(app: App[Any], scope: _RSGIScope, body: list[bytes] | None = None) -> _RSGIProtocol:
    proto = _RSGIProtocol(body=body or [])
    asyncio.run(app.__rsgi__(scope, proto))  # type: ignore[arg-type]
    return proto


def test_rsgi_serves_bytes_head_and_streams() -> None:
    app = _app()
    proto = _rsgi(app, _RSGIScope("/users/3"))
    assert (proto.kind, proto.status, proto.sent) == ("bytes", 200, [b'{"id":3}'])
    assert ("x-frame-options", "DENY") in proto.headers

    proto = _rsgi(app, _RSGIScope("/users/3", method="HEAD"))
    assert proto.kind == "empty"
    assert ("content-length", "8") in proto.headers

    proto = _rsgi(app, _RSGIScope("/stream"))
    assert (proto.kind, b"".join(proto.sent)) == ("stream", b"abc")

    proto = _rsgi(app, _RSGIScope("/stream", method="HEAD"))
    assert (proto.kind, proto.sent) == ("stream", [])


def test_rsgi_reads_body_and_refuses_bad_paths() -> None:
    app = _app()
    proto = _rsgi(app, _RSGIScope("/users", method="POST"), [b'{"a"', b":1}"])
    assert (proto.status, proto.sent) == (201, [b'{"a":1}'])
    proto = _rsgi(app, _RSGIScope("/a/../users"))
    assert proto.status == 400
    proto = _rsgi(app, _RSGIScope("/caf\ufffd"))
    assert proto.status == 400


def test_rsgi_request_details() -> None:
    app = App(settings=Settings())

    @app.get("/who")
    async def who(request: Request) -> dict[str, str]:
        return {
            "client": request.client,
            "scheme": request.scheme,
            "version": request.http_version,
            "host": request.host,
        }

    proto = _rsgi(app, _RSGIScope("/who", client="[::1]:4000", scheme="https", http_version="2"))
    assert proto.sent == [b'{"client":"::1","scheme":"https","version":"2","host":"testserver"}']
    proto = _rsgi(app, _RSGIScope("/who", client="unix"))
    assert b'"client":"unix"' in proto.sent[0]


class _PlannedFile(FileResponseBase):
    __slots__ = ("plan",)

    def __init__(self, plan: tuple[str, int, int] | None) -> None:
        super().__init__(b"in memory", 200)
        self.plan = plan

    async def prepare(self, request: Request) -> tuple[str, int, int] | None:
        return self.plan


def test_rsgi_file_responses() -> None:
    app = App(settings=Settings())

    @app.get("/file")
    async def file() -> Response:
        return _PlannedFile(("/srv/data.bin", 5, 15))

    @app.get("/memory")
    async def memory() -> Response:
        return _PlannedFile(None)

    proto = _rsgi(app, _RSGIScope("/file"))
    assert (proto.kind, proto.sent) == ("file", [b"/srv/data.bin:5-15"])
    proto = _rsgi(app, _RSGIScope("/file", method="HEAD"))
    assert proto.kind == "empty"
    assert ("content-length", "10") in proto.headers
    proto = _rsgi(app, _RSGIScope("/memory"))
    assert (proto.kind, proto.sent) == ("bytes", [b"in memory"])


def test_rsgi_lifecycle() -> None:
    events: list[str] = []
    app = _app()
    app.on_startup(lambda: events.append("up"))
    app.on_shutdown(lambda: events.append("down"))
    loop = asyncio.new_event_loop()
    try:
        app.__rsgi_init__(loop)
        assert events == ["up"]
        app.__rsgi_del__(loop)
    finally:
        loop.close()
    assert events == ["up", "down"]


def test_rsgi_error_is_answered() -> None:
    app = App(settings=Settings())

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("secret")

    proto = _rsgi(app, _RSGIScope("/boom"))
    assert proto.status == 500
    assert b"secret" not in proto.sent[0]


def test_router_include_into_app() -> None:
    api = Router(prefix="/api")

    @api.get("/ping")
    async def ping() -> str:
        return "pong"

    app = App(settings=Settings())
    app.include(api)
    assert request(app, "GET", "/api/ping").text == "pong"


def test_sync_iterable_stream_body() -> None:
    app = App(settings=Settings())

    def numbers() -> Any:
        yield "1"
        yield b"2"

    @app.get("/n")
    async def n() -> StreamingResponse:
        return StreamingResponse(numbers())

    result = call_asgi(app, path="/n", receive=Receiver())
    assert result.body == b"12"
    assert result.messages[-1] == {"type": "http.response.body", "body": b""}
