"""WebSockets: the ASGI entry driven by hand, then real servers (Granian RSGI and ASGI, uvicorn)."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from satchel import (
    App,
    ConfigurationError,
    Depends,
    Forbidden,
    Router,
    Settings,
    WebSocket,
    WebSocketDisconnect,
)
from tests.servers import ServerKind, serve_source
from tests.wsclient import RawWebSocket

Message = dict[str, Any]


def make_app(**settings: Any) -> App[Any]:
    return App(settings=Settings(access_log=False, **settings))


def text(value: str) -> Message:
    return {"type": "websocket.receive", "text": value}


def binary(value: bytes) -> Message:
    return {"type": "websocket.receive", "bytes": value}


def leave(code: int = 1001, reason: str = "") -> Message:
    return {"type": "websocket.disconnect", "code": code, "reason": reason}


def converse(
    app: App[Any],
    path: str = "/ws",
    incoming: Sequence[Message] = (),
    *,
    raw_path: bytes | None = None,
    query: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    subprotocols: Sequence[str] = (),
    http_response: bool = False,
    send: Callable[[list[Message], Message], Awaitable[None]] | None = None,
) -> list[Message]:
    """Connect to ``app`` over ASGI, feed it ``incoming``, and return what it sent.

    After ``incoming`` runs out the client leaves (1001). ``http_response``
    offers the ``websocket.http.response`` extension.
    """
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode() if raw_path is None else raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
        "subprotocols": list(subprotocols),
        "extensions": {"websocket.http.response": {}} if http_response else {},
    }
    inbox = [{"type": "websocket.connect"}, *incoming]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0) if inbox else leave()

    async def record(message: Message) -> None:
        if send is not None:
            await send(sent, message)
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, record), 5))
    return sent


def kinds(sent: list[Message]) -> list[str]:
    return [m["type"] for m in sent]


def payloads(sent: list[Message]) -> list[Any]:
    return [m.get("text", m.get("bytes")) for m in sent if m["type"] == "websocket.send"]


def close_message(sent: list[Message]) -> Message:
    closes = [m for m in sent if m["type"] == "websocket.close"]
    assert len(closes) == 1, sent
    return closes[0]


def refusal_status(sent: list[Message]) -> int:
    assert "websocket.accept" not in kinds(sent), sent
    starts = [m for m in sent if m["type"] == "websocket.http.response.start"]
    assert len(starts) == 1, sent
    return int(starts[0]["status"])


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "satchel.error"]


# -- conversations over ASGI ------------------------------------------------------------------


def test_echo_text_bytes_and_json() -> None:
    app = make_app()

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text((await ws.receive_text()).upper())
        await ws.send_bytes((await ws.receive_bytes())[::-1])
        await ws.send_json({"got": await ws.receive_json()})

    sent = converse(app, incoming=[text("hi"), binary(b"abc"), text('{"n": [1, 2]}')])

    assert kinds(sent)[0] == "websocket.accept"
    assert payloads(sent) == ["HI", b"cba", '{"got":{"n":[1,2]}}']
    assert close_message(sent)["code"] == 1000  # returned without closing: closed normally


def test_iterators_end_quietly_when_the_client_leaves(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    seen: list[object] = []

    @app.websocket("/text")
    async def texts(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws.iter_text():
            seen.append(message)
        seen.append("end")

    @app.websocket("/bytes")
    async def datas(ws: WebSocket) -> None:
        await ws.accept()
        seen.extend([data async for data in ws.iter_bytes()])

    @app.websocket("/json")
    async def documents(ws: WebSocket) -> None:
        await ws.accept()
        seen.extend([value async for value in ws.iter_json()])

    sent = converse(app, "/text", [text("a"), text("b"), leave(4000, "bye")])
    converse(app, "/bytes", [binary(b"x")])
    converse(app, "/json", [text("[1]"), binary(b'{"a": 1}')])

    assert seen == ["a", "b", "end", b"x", [1], {"a": 1}]
    assert kinds(sent) == ["websocket.accept"]  # the client closed: nothing left to close
    assert not error_records(caplog)


def test_disconnect_carries_code_and_reason() -> None:
    app = make_app()
    caught: list[WebSocketDisconnect] = []

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive()
        except WebSocketDisconnect as exc:
            caught.append(exc)
        with pytest.raises(WebSocketDisconnect):
            await ws.send_text("too late")
        with pytest.raises(WebSocketDisconnect):
            await ws.receive()

    converse(app, incoming=[leave(4001, "gone")])

    assert [(e.code, e.reason) for e in caught] == [(4001, "gone")]


def test_path_params_are_converted() -> None:
    app = make_app()

    @app.websocket("/rooms/{room}/{seat}")
    async def handler(ws: WebSocket, room: str, seat: int) -> None:
        await ws.accept()
        await ws.send_json([room, seat, seat + 1, ws.path_params, ws.path])

    sent = converse(app, "/rooms/lobby/41")

    assert payloads(sent) == ['["lobby",41,42,{"room":"lobby","seat":41},"/rooms/lobby/41"]']


def test_query_headers_cookies_and_client_are_visible() -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json(
            {
                "q": ws.query_params.getall("q"),
                "agent": ws.headers["user-agent"],
                "sid": ws.cookies["sid"],
                "client": ws.client,
                "app": ws.app is app,
                "state": ws.state.setdefault("seen", 1),
            }
        )

    sent = converse(
        app,
        query=b"q=a&q=b",
        headers=[(b"user-agent", b"probe/1"), (b"cookie", b"sid=s3cret; x=1")],
    )

    expected = '{"q":["a","b"],"agent":"probe/1","sid":"s3cret","client":"203.0.113.7",'
    assert payloads(sent) == [expected + '"app":true,"state":1}']


def test_unknown_path_is_refused() -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()

    plain = converse(app, "/elsewhere")
    assert kinds(plain) == ["websocket.close"]  # before accept: the server answers 403

    extended = converse(app, "/elsewhere", http_response=True)
    assert refusal_status(extended) == 404
    assert extended[-1] == {"type": "websocket.http.response.body", "body": b"Not Found"}


def test_invalid_paths_are_refused_before_routing() -> None:
    app = make_app()

    @app.websocket("/{name}")
    async def handler(ws: WebSocket, name: str) -> None:
        await ws.accept()

    assert refusal_status(converse(app, raw_path=b"/%FF", http_response=True)) == 400
    assert refusal_status(converse(app, raw_path=b"/a/../b", http_response=True)) == 400
    assert kinds(converse(app, raw_path=b"/%00")) == ["websocket.close"]


def test_handler_error_before_accept_refuses_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        raise LookupError("no such room")

    assert kinds(converse(app)) == ["websocket.close"]
    assert refusal_status(converse(app, http_response=True)) == 500
    records = error_records(caplog)
    assert len(records) == 2
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is LookupError


def test_http_error_before_accept_refuses_with_its_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        if ws.headers.get("authorization") is None:
            raise Forbidden()
        await ws.accept()

    assert refusal_status(converse(app, http_response=True)) == 403
    assert kinds(converse(app)) == ["websocket.close"]
    assert not error_records(caplog)  # a deliberate refusal is not a server error


def test_route_and_router_dependencies_run_before_the_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A router's guard once left its WebSocket routes open: only HTTP routes got it.
    calls: list[str] = []

    def authorized(ws: WebSocket) -> None:
        calls.append("router")
        if ws.headers.get("authorization") is None:
            raise Forbidden()

    def route_check() -> None:
        calls.append("route")

    app = make_app()
    router = Router(prefix="/private", dependencies=[Depends(authorized)])

    @router.websocket("/ws", dependencies=[Depends(route_check)])
    async def handler(ws: WebSocket) -> None:
        calls.append("handler")
        await ws.accept()

    app.include(router)
    assert refusal_status(converse(app, "/private/ws", http_response=True)) == 403
    assert calls == ["router"]
    assert not error_records(caplog)
    calls.clear()
    assert kinds(converse(app, "/private/ws", headers=[(b"authorization", b"Bearer x")]))[0] == (
        "websocket.accept"
    )
    assert calls == ["router", "route", "handler"]


def test_handler_error_after_accept_closes_with_1011(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        raise ValueError("bad state")

    sent = converse(app, incoming=[text("go")])

    assert kinds(sent) == ["websocket.accept", "websocket.close"]
    assert close_message(sent)["code"] == 1011
    (record,) = error_records(caplog)
    assert "/ws" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[0] is ValueError


def test_http_error_after_accept_closes_with_1008(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        raise Forbidden()

    assert close_message(converse(app))["code"] == 1008
    assert not error_records(caplog)


def test_oversize_message_closes_with_1009() -> None:
    app = make_app()
    caught: list[int] = []

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        ws.max_message_size = 8
        await ws.accept()
        await ws.send_text(await ws.receive_text())  # 8 bytes: fine
        try:
            await ws.receive_text()
        except WebSocketDisconnect as exc:
            caught.append(exc.code)
            raise

    # Nine bytes in UTF-8 but only three characters.
    sent = converse(app, incoming=[text("12345678"), text("€€€")])

    assert payloads(sent) == ["12345678"]
    assert close_message(sent)["code"] == 1009
    assert caught == [1009]


def test_default_message_cap_is_one_mebibyte() -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        async for data in ws.iter_bytes():
            await ws.send_text(str(len(data)))

    sent = converse(app, incoming=[binary(bytes(1 << 20)), binary(bytes((1 << 20) + 1))])

    assert payloads(sent) == [str(1 << 20)]
    assert close_message(sent)["code"] == 1009


def test_wrong_frame_type_closes_with_1003() -> None:
    app = make_app()

    @app.websocket("/text")
    async def wants_text(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()

    @app.websocket("/bytes")
    async def wants_bytes(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_bytes()

    assert close_message(converse(app, "/text", [binary(b"x")]))["code"] == 1003
    assert close_message(converse(app, "/bytes", [text("x")]))["code"] == 1003


def test_malformed_or_too_deep_json_closes_with_1007() -> None:
    app = make_app(max_json_depth=2)

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json(await ws.receive_json())
        await ws.receive_json()

    assert close_message(converse(app, incoming=[text("[[1]]"), text("{")]))["code"] == 1007
    assert close_message(converse(app, incoming=[text("[[1]]"), text("[[[1]]]")]))["code"] == 1007


def test_subprotocol_negotiation() -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        chosen = next((p for p in ("chat.v2", "chat.v1") if p in ws.subprotocols), None)
        await ws.accept(subprotocol=chosen, headers={"x-served-by": "satchel"})
        await ws.send_json(ws.subprotocols)

    sent = converse(app, subprotocols=["chat.v1", "chat.v2"])
    assert sent[0] == {
        "type": "websocket.accept",
        "subprotocol": "chat.v2",
        "headers": [(b"x-served-by", b"satchel")],
    }
    assert payloads(sent) == ['["chat.v1","chat.v2"]']

    assert converse(app)[0]["subprotocol"] is None


def test_choosing_a_subprotocol_not_offered_is_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept(subprotocol="chat.v3")

    assert refusal_status(converse(app, subprotocols=["chat.v1"], http_response=True)) == 500
    (record,) = error_records(caplog)
    assert record.exc_info is not None
    assert record.exc_info[0] is ValueError


def test_misuse_is_reported() -> None:
    app = make_app()
    errors: list[str] = []

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        for attempt in (ws.receive, lambda: ws.send_text("x")):
            try:
                await attempt()
            except RuntimeError as exc:
                errors.append(str(exc))
        await ws.accept()
        try:
            await ws.accept()
        except RuntimeError as exc:
            errors.append(str(exc))
        await ws.close()
        await ws.close()  # a no-op once closed

    sent = converse(app)

    assert errors == [
        "Call accept() before receiving",
        "Call accept() before sending",
        "The WebSocket is already accepted or closed",
    ]
    assert kinds(sent) == ["websocket.accept", "websocket.close"]


def test_close_with_code_and_reason() -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4000, "done")

    assert close_message(converse(app)) == {
        "type": "websocket.close",
        "code": 4000,
        "reason": "done",
    }


def test_returning_without_accepting_refuses() -> None:
    app = make_app()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        return None

    @app.websocket("/closed")
    async def closer(ws: WebSocket) -> None:
        await ws.close()

    assert refusal_status(converse(app, http_response=True)) == 403
    assert refusal_status(converse(app, "/closed", http_response=True)) == 403


def test_send_to_a_departed_client_ends_the_handler_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    caught: list[int] = []

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.send_text("anyone?")
        except WebSocketDisconnect as exc:
            caught.append(exc.code)
            raise

    async def broken_pipe(sent: list[Message], message: Message) -> None:
        if message["type"] != "websocket.accept":
            raise OSError("client gone")  # what ASGI servers raise after a disconnect

    sent = converse(app, send=broken_pipe)

    assert kinds(sent) == ["websocket.accept"]
    assert caught == [1006]
    assert not error_records(caplog)


def test_handlers_that_cannot_be_served_fail_at_startup() -> None:
    sync_app = make_app()

    @sync_app.websocket("/sync")
    def sync_handler(ws: WebSocket) -> None:
        pass

    with pytest.raises(ConfigurationError, match="must be an async function"):
        sync_app.build()

    untyped_app = make_app()

    @untyped_app.websocket("/untyped")
    async def untyped(ws) -> None:  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(ConfigurationError, match="parameter 'ws': has no type annotation"):
        untyped_app.build()

    socketless_app = make_app()

    @socketless_app.websocket("/socketless")
    async def socketless(room: str = "lobby") -> None:
        pass

    with pytest.raises(ConfigurationError, match="no parameter annotated WebSocket"):
        socketless_app.build()

    unmatched_app = make_app()

    @unmatched_app.websocket("/rooms/{room}")
    async def no_room(ws: WebSocket) -> None:
        pass

    with pytest.raises(ConfigurationError, match=r"does not take path parameter\(s\) \['room'\]"):
        unmatched_app.build()


def test_client_leaving_before_the_handshake_is_not_served() -> None:
    app = make_app()
    called: list[bool] = []

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        called.append(True)

    scope = {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "headers": []}
    sent: list[Message] = []

    async def receive() -> Message:
        return leave(1006)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert (called, sent) == ([], [])


def test_access_log_records_the_handshake(caplog: pytest.LogCaptureFixture) -> None:
    app = App(settings=Settings())

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()

    with caplog.at_level(logging.INFO, logger="satchel.access"):
        converse(app)
        converse(app, "/missing", http_response=True)

    lines = [r.getMessage() for r in caplog.records if r.name == "satchel.access"]
    assert lines == [
        '203.0.113.7 "GET /ws HTTP/1.1" 101',
        '203.0.113.7 "GET /missing HTTP/1.1" 404',
    ]


def test_websocket_routes_have_names() -> None:
    app = make_app()

    @app.websocket("/rooms/{room}", name="room")
    async def handler(ws: WebSocket, room: str) -> None:
        await ws.accept()

    assert app.url_for("room", room="lobby") == "/rooms/lobby"


# -- real servers ---------------------------------------------------------------------------------

SERVER_APP = """
from satchel import App, Forbidden, Settings, WebSocket

app = App(settings=Settings(access_log=False))


@app.get("/")
async def index() -> str:
    return "http too"


@app.websocket("/echo/{room}")
async def echo(ws: WebSocket, room: str) -> None:
    await ws.accept()
    async for message in ws.iter_text():
        await ws.send_text(f"{room}:{message}:{ws.query_params.get('q')}")


@app.websocket("/sum/{start}")
async def total(ws: WebSocket, start: int) -> None:
    await ws.accept()
    async for numbers in ws.iter_json():
        await ws.send_json({"sum": start + sum(numbers)})


@app.websocket("/reverse")
async def reverse(ws: WebSocket) -> None:
    await ws.accept()
    async for data in ws.iter_bytes():
        await ws.send_bytes(data[::-1])


@app.websocket("/small")
async def small(ws: WebSocket) -> None:
    ws.max_message_size = 16
    await ws.accept()
    async for message in ws.iter_text():
        await ws.send_text(message)


@app.websocket("/boom")
async def boom(ws: WebSocket) -> None:
    await ws.accept()
    await ws.receive_text()
    raise RuntimeError("boom")


@app.websocket("/forbidden")
async def forbidden(ws: WebSocket) -> None:
    raise Forbidden()


@app.websocket("/bye")
async def bye(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text("bye")
    await ws.close(4000, "done")


@app.websocket("/chat")
async def chat(ws: WebSocket) -> None:
    await ws.accept(subprotocol="chat.v1" if "chat.v1" in ws.subprotocols else None)
    await ws.send_text("hello")
"""


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    #: Whether close frames after accept carry our code and reason (RSGI's do not).
    sends_close_codes: bool
    #: Whether accept(subprotocol=...) can answer the client (RSGI cannot).
    negotiates_subprotocols: bool


_HAS_UVICORN_WEBSOCKETS = any(
    importlib.util.find_spec(m) is not None for m in ("websockets", "wsproto")
)


@pytest.fixture(
    scope="module",
    params=[
        "granian-rsgi",
        "granian-asgi",
        pytest.param(
            "uvicorn",
            marks=pytest.mark.skipif(
                not _HAS_UVICORN_WEBSOCKETS, reason="uvicorn needs websockets or wsproto"
            ),
        ),
    ],
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    kind: ServerKind = request.param
    with serve_source(kind, SERVER_APP, tmp_path_factory.mktemp(kind)) as url:
        port = urlsplit(url).port
        assert port is not None
        rsgi = kind == "granian-rsgi"
        yield Server(kind, port, sends_close_codes=not rsgi, negotiates_subprotocols=not rsgi)


def run(coro: Awaitable[None]) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(coro, 30)

    asyncio.run(bounded())


def test_server_echoes_with_params_and_query(server: Server) -> None:
    async def scenario() -> None:
        ws = await RawWebSocket.connect(server.port, "/echo/lobby?q=42")
        assert ws.status == 101
        for word in ("hello", "wörld"):
            await ws.send_text(word)
            assert await ws.receive_text() == f"lobby:{word}:42"
        await ws.send(0x8, (1000).to_bytes(2, "big"))
        assert (await ws.receive_close())[0] == 1000
        await ws.close()

    run(scenario())


def test_server_json_and_bytes(server: Server) -> None:
    async def scenario() -> None:
        ws = await RawWebSocket.connect(server.port, "/sum/100")
        await ws.send_text("[1, 2, 3]")
        assert await ws.receive_text() == '{"sum":106}'
        await ws.close()

        ws = await RawWebSocket.connect(server.port, "/reverse")
        payload = os.urandom(200_000)
        await ws.send(0x2, payload)
        assert await ws.receive() == (0x2, payload[::-1])
        await ws.close()

    run(scenario())


def test_server_refuses_unknown_paths_and_forbidden_handshakes(server: Server) -> None:
    async def scenario() -> None:
        for target, status in (("/nowhere", 404), ("/forbidden", 403)):
            ws = await RawWebSocket.connect(server.port, target)
            assert ws.status == status, (target, ws.headers)
            await ws.close()

    run(scenario())


def test_server_closes_after_handler_error(server: Server) -> None:
    async def scenario() -> None:
        ws = await RawWebSocket.connect(server.port, "/boom")
        await ws.send_text("go")
        code, _ = await ws.receive_close()
        assert code == (1011 if server.sends_close_codes else None)
        await ws.close()

    run(scenario())


def test_server_closes_oversize_messages(server: Server) -> None:
    async def scenario() -> None:
        ws = await RawWebSocket.connect(server.port, "/small")
        await ws.send_text("x" * 16)
        assert await ws.receive_text() == "x" * 16
        await ws.send_text("x" * 17)
        code, _ = await ws.receive_close()
        assert code == (1009 if server.sends_close_codes else None)
        await ws.close()

    run(scenario())


def test_server_close_code_and_reason(server: Server) -> None:
    async def scenario() -> None:
        ws = await RawWebSocket.connect(server.port, "/bye")
        assert await ws.receive_text() == "bye"
        expected = (4000, "done") if server.sends_close_codes else (None, "")
        assert await ws.receive_close() == expected
        await ws.close()

    run(scenario())


def test_server_subprotocols(server: Server) -> None:
    async def scenario() -> None:
        offer = [("Sec-WebSocket-Protocol", "chat.v0, chat.v1")]
        ws = await RawWebSocket.connect(server.port, "/chat", offer)
        if server.negotiates_subprotocols:
            assert ws.status == 101
            assert ws.headers["sec-websocket-protocol"] == "chat.v1"
            assert await ws.receive_text() == "hello"
        else:
            assert ws.status == 500  # refused rather than answered without the subprotocol
        await ws.close()

        ws = await RawWebSocket.connect(server.port, "/chat")  # nothing offered: all servers
        assert ws.status == 101
        assert "sec-websocket-protocol" not in ws.headers
        assert await ws.receive_text() == "hello"
        await ws.close()

    run(scenario())


def test_foreign_host_is_refused_before_the_handler_runs() -> None:
    app = make_app(allowed_hosts=["example.com"])
    called: list[bool] = []

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        called.append(True)
        await ws.accept()

    # converse() connects with Host: testserver, which this app does not serve.
    assert refusal_status(converse(app, "/ws", http_response=True)) == 400
    assert called == []
    allowed = make_app(allowed_hosts=["testserver"])
    allowed.websocket("/ws")(handler)
    converse(allowed, "/ws")
    assert called == [True]


# -- cross-site WebSocket hijacking ----------------------------------------------------------


def _echo_app(**settings: Any) -> App[Any]:
    app = make_app(**settings)

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(await ws.receive_text())

    return app


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://testserver", "https://testserver.evil.example"],
)
def test_a_handshake_from_another_origin_is_refused(origin: str) -> None:
    from satchel.testing import TestClient, WebSocketDenied

    client = TestClient(_echo_app())  # the page would be https://testserver
    handshake = client.websocket_connect  # opened inside the raises block
    with (
        client,
        pytest.raises(WebSocketDenied) as caught,
        handshake("/echo", headers={"origin": origin}),
    ):
        pass
    assert caught.value.status_code == 403


@pytest.mark.parametrize("origin", [None, "https://testserver", "https://app.example"])
def test_a_handshake_from_this_site_a_trusted_origin_or_no_browser_is_served(
    origin: str | None,
) -> None:
    from satchel.testing import TestClient

    app = _echo_app(csrf_trusted_origins=["https://app.example"])
    client = TestClient(app)
    headers = {} if origin is None else {"origin": origin}
    with client, client.websocket_connect("/echo", headers=headers) as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"


def test_the_origin_check_goes_with_csrf_protection() -> None:
    from satchel.testing import TestClient

    app = App(settings=Settings(access_log=False), csrf=False)

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("open")

    client = TestClient(app)
    with client, client.websocket_connect("/echo", headers={"origin": "https://x.example"}) as ws:
        assert ws.receive_text() == "open"
