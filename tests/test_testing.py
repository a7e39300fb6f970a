"""Tests for satchel.testing: the sync and async test clients."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, MutableMapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest

from satchel import App, Request, Response, Settings, StreamingResponse
from satchel.testing import (
    AsyncTestClient,
    LifespanFailed,
    TestClient,
    WebSocketClosed,
    WebSocketDenied,
)

T = TypeVar("T")
Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def make_app(**settings: Any) -> App[Any]:
    app = App(settings=Settings(access_log=False, **settings))

    @app.route("/echo", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"method": request.method, "body": body.decode(), "query": request.query_string}

    @app.post("/json")
    async def json_body(request: Request) -> Any:
        return {"json": await request.json()}

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        files = {}
        for name, upload in data.files():
            files[name] = [upload.filename, upload.content_type, (await upload.read()).decode()]
        return {"fields": data.fields(), "files": files}

    @app.get("/client")
    async def client(request: Request) -> dict[str, str]:
        return {"client": request.client, "scheme": request.scheme, "host": request.host}

    @app.get("/sync")
    def sync_handler() -> str:  # runs in a worker thread
        return "sync"

    @app.get("/set-cookie")
    async def set_cookie() -> Response:
        response = Response("set")
        response.set_cookie("session", "abc")  # Secure by default
        response.set_cookie("plain", "xyz", secure=False)
        return response

    @app.get("/cookies")
    async def cookies(request: Request) -> dict[str, str]:
        return request.cookies

    @app.get("/boom")
    async def boom() -> str:
        raise ValueError("handler failed")

    @app.get("/redirect")
    async def redirect() -> Response:
        return Response(b"", 307, {"location": "/echo"})

    return app


# -- raw ASGI apps, independent of Satchel's adapters -------------------------------------------


def recording_app(seen: list[Message]) -> ASGIApp:
    """Answers 200 after recording its scope and every message it receives."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"  # no lifespan support: the client carries on
        seen.append(dict(scope))
        while True:
            message = await receive()
            seen.append(message)
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        seen.append(await receive())  # http.disconnect, once the response is sent

    return app


def http_only(app: ASGIApp) -> ASGIApp:
    """Make ``app`` return at once on the lifespan scope (no lifespan support)."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)

    return wrapper


@http_only
async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("escaped the app")


@http_only
async def silent_app(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.Event().wait()


disconnects: list[int] = []  # close codes websocket_app received from the client


@http_only
async def websocket_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Echoes messages; 'deny' in the path closes before accepting; 'close' closes."""
    assert (await receive())["type"] == "websocket.connect"
    if scope["path"] == "/deny":
        await send({"type": "websocket.close", "code": 1008, "reason": "go away"})
        return
    if scope["path"] == "/deny-with-response":
        assert "websocket.http.response" in scope["extensions"]
        start = {"status": 401, "headers": [(b"content-type", b"application/json")]}
        await send({"type": "websocket.http.response.start", **start})
        await send(
            {"type": "websocket.http.response.body", "body": b'{"detail":', "more_body": True}
        )
        await send({"type": "websocket.http.response.body", "body": b'"login first"}'})
        return
    subprotocol = scope["subprotocols"][0] if scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": subprotocol})
    await send(
        {"type": "websocket.send", "text": scope["path"] + "?" + scope["query_string"].decode()}
    )
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            disconnects.append(message["code"])
            return
        if message.get("text") == "close":
            await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
        elif message.get("text") == "headers":
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            await send({"type": "websocket.send", "text": json.dumps(headers)})
        elif message.get("text") == "fail":
            raise RuntimeError("websocket handler failed")
        else:
            await send({"type": "websocket.send", **{k: message.get(k) for k in ("text", "bytes")}})


# -- HTTP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_method_with_a_body_reaches_the_app(method: str) -> None:
    with TestClient(make_app()) as client:
        response = client.request(method, "/echo?x=1", content=b"payload")
    assert response.status_code == 200
    assert response.json() == {"method": method, "body": "payload", "query": "x=1"}


def test_head_has_no_body() -> None:
    with TestClient(make_app()) as client:
        response = client.head("/echo")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_json_form_and_multipart_bodies() -> None:
    with TestClient(make_app()) as client:
        assert client.post("/json", json={"a": [1, 2]}).json() == {"json": {"a": [1, 2]}}
        form = client.post("/form", data={"name": "Ada", "tag": ["x", "y"]}).json()
        assert form == {"fields": [["name", "Ada"], ["tag", "x"], ["tag", "y"]], "files": {}}
        files = {"doc": ("notes.txt", b"hello file", "text/plain")}
        upload = client.post("/form", data={"title": "t"}, files=files).json()
    assert upload == {
        "fields": [["title", "t"]],
        "files": {"doc": ["notes.txt", "text/plain", "hello file"]},
    }


def test_request_body_arrives_in_chunks_and_then_disconnect() -> None:
    seen: list[Message] = []
    body = b"x" * (150 * 1024)
    with TestClient(recording_app(seen)) as client:
        assert client.post("/upload", content=body).text == "done"
    messages = seen[1:]
    chunks = [m for m in messages if m["type"] == "http.request"]
    assert [len(m["body"]) for m in chunks] == [65536, 65536, 22528, 0]
    assert [m["more_body"] for m in chunks] == [True, True, True, False]
    assert b"".join(m["body"] for m in chunks) == body
    assert messages[-1] == {"type": "http.disconnect"}


def test_streamed_request_body_is_limited_by_the_app() -> None:
    def generate() -> Any:
        for _ in range(10):
            yield b"y" * 1000

    with TestClient(make_app(max_body_size=2500)) as client:
        assert client.post("/echo", content=b"z" * 3000).status_code == 413
        assert client.post("/echo", content=generate()).status_code == 413  # no length


def test_scope() -> None:
    seen: list[Message] = []
    with TestClient(recording_app(seen)) as client:
        client.get("/a%20b/%C3%BC?x=1&y=%20", headers={"X-Custom": "v"})
    scope = seen[0]
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "https"
    assert scope["path"] == "/a b/ü"
    assert scope["raw_path"] == b"/a%20b/%C3%BC"
    assert scope["query_string"] == b"x=1&y=%20"
    assert scope["root_path"] == ""
    assert (b"host", b"testserver") in scope["headers"]
    assert (b"x-custom", b"v") in scope["headers"]
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert scope["client"] == ("testclient", 50000)
    assert scope["server"] == ("testserver", 443)
    assert scope["state"] == {}


def test_http_base_url() -> None:
    seen: list[Message] = []
    with TestClient(recording_app(seen), base_url="http://example.org:8080") as client:
        client.get("/")
    assert seen[0]["scheme"] == "http"
    assert seen[0]["server"] == ("example.org", 8080)
    assert (b"host", b"example.org:8080") in seen[0]["headers"]


def test_client_address_override_and_trusted_proxy() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/client").json() == {
            "client": "testclient",
            "scheme": "https",
            "host": "testserver",
        }
    app = make_app(trusted_proxies=["203.0.113.0/24"])
    forwarded = {"X-Forwarded-For": "198.51.100.4", "X-Forwarded-Proto": "http"}
    with TestClient(app, client=("203.0.113.7", 1234)) as client:
        assert client.get("/client").json()["client"] == "203.0.113.7"
        assert client.get("/client", headers=forwarded).json()["client"] == "198.51.100.4"
        assert client.get("/client", headers=forwarded).json()["scheme"] == "http"


def test_cookies_persist_across_requests() -> None:
    with TestClient(make_app()) as client:
        client.get("/set-cookie")
        assert client.cookies["session"] == "abc"
        assert client.get("/cookies").json() == {"session": "abc", "plain": "xyz"}


def test_secure_cookies_are_not_sent_over_http() -> None:
    with TestClient(make_app(), base_url="http://testserver") as client:
        client.get("/set-cookie")
        assert client.get("/cookies").json() == {"plain": "xyz"}


def test_redirects_are_not_followed_by_default() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/redirect")
        assert response.status_code == 307
        assert response.headers["location"] == "/echo"
        assert client.get("/redirect", follow_redirects=True).json()["method"] == "GET"


def test_without_with_requests_work_and_close_stops_the_thread() -> None:
    before = threading.active_count()
    started: list[bool] = []
    app = make_app()
    app.on_startup(lambda: started.append(True))
    client = TestClient(app)
    assert client.get("/echo").json()["method"] == "GET"
    assert started == []  # no lifespan without `with`
    client.close()
    assert threading.active_count() == before
    with pytest.raises(RuntimeError):
        client.get("/echo")


def test_no_threads_leak() -> None:
    before = threading.active_count()
    with TestClient(make_app()) as client:
        for _ in range(5):
            assert client.get("/sync").text == "sync"  # uses asyncio.to_thread workers
        assert threading.active_count() > before
    assert threading.active_count() == before


# -- errors and timeouts ------------------------------------------------------------------------


def test_handler_error_is_a_500_response_not_an_exception() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/boom")
    assert response.status_code == 500


def test_exception_escaping_the_app_is_raised() -> None:
    with TestClient(failing_app) as client, pytest.raises(RuntimeError, match="escaped"):
        client.get("/")


def test_exception_escaping_the_app_as_500() -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 500


def make_failing_stream_app() -> App[Any]:
    app = make_app()

    @app.get("/broken-stream")
    async def broken() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            raise OSError("disk gone")

        return StreamingResponse(chunks())

    return app


def test_exception_during_a_stream() -> None:
    with TestClient(make_failing_stream_app()) as client, pytest.raises(OSError, match="disk"):
        client.get("/broken-stream")
    with TestClient(make_failing_stream_app(), raise_server_exceptions=False) as client:
        response = client.get("/broken-stream")
        assert response.status_code == 200
        assert response.content == b"first"  # truncated, as a dropped connection would be


def test_app_that_sends_no_response() -> None:
    @http_only
    async def quiet(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with TestClient(quiet) as client, pytest.raises(RuntimeError, match="without sending"):
        client.get("/")


def test_protocol_violation_is_reported() -> None:
    @http_only
    async def wrong(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": b"no start"})

    with TestClient(wrong) as client, pytest.raises(RuntimeError, match="Unexpected ASGI"):
        client.get("/")


def test_timeout_when_the_app_never_answers() -> None:
    before = threading.active_count()
    with TestClient(silent_app) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/", timeout=0.2)
    assert threading.active_count() == before


def test_a_blocked_event_loop_does_not_hang_the_test() -> None:
    @http_only
    async def blocking(scope: Scope, receive: Receive, send: Send) -> None:
        time.sleep(1.3)  # noqa: ASYNC251 - sync code blocking the loop is the point

    with TestClient(blocking) as client, pytest.raises(TimeoutError, match="block"):
        client.get("/", timeout=0.05)


# -- streaming responses ------------------------------------------------------------------------


def endless_app(events: list[str]) -> ASGIApp:
    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        number = 0
        try:
            while True:
                await send(
                    {"type": "http.response.body", "body": b"%d," % number, "more_body": True}
                )
                number += 1
        finally:
            events.append("stopped")

    return app


def test_endless_stream_is_read_incrementally_and_closed_early() -> None:
    events: list[str] = []
    with TestClient(endless_app(events), timeout=5) as client:
        with client.stream("GET", "/") as response:
            chunks = []
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if len(chunks) == 3:
                    break
        assert chunks == [b"0,", b"1,", b"2,"]
        assert events == ["stopped"]  # the app was cancelled when the response closed
        with client.stream("GET", "/") as response:  # the client is still usable
            assert next(response.iter_raw()) == b"0,"
        assert events == ["stopped", "stopped"]


def test_satchel_streaming_response_closed_early() -> None:
    app = make_app()

    @app.get("/numbers")
    async def numbers() -> StreamingResponse:
        async def forever() -> AsyncIterator[str]:
            number = 0
            while True:
                yield f"{number}\n"
                number += 1

        return StreamingResponse(forever(), media_type="text/plain")

    with TestClient(app, timeout=5) as client, client.stream("GET", "/numbers") as response:
        lines = []
        for line in response.iter_lines():
            lines.append(line)
            if len(lines) == 5:
                break
    assert lines == ["0", "1", "2", "3", "4"]


# -- lifespan -----------------------------------------------------------------------------------


def test_lifespan_and_hooks_run_on_enter_and_exit() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: App[Any]) -> AsyncIterator[None]:
        events.append("lifespan start")
        yield
        events.append("lifespan stop")

    app = App(settings=Settings(), lifespan=lifespan)
    app.on_startup(lambda: events.append("startup"))
    app.on_shutdown(lambda: events.append("shutdown"))

    @app.get("/")
    async def index() -> list[str]:
        return events

    with TestClient(app) as client:
        assert client.get("/").json() == ["startup", "lifespan start"]
    assert events == ["startup", "lifespan start", "lifespan stop", "shutdown"]


def test_startup_failure_is_raised() -> None:
    before = threading.active_count()
    app = App(settings=Settings())

    @app.on_startup
    def fail() -> None:
        raise ConnectionError("database unreachable")

    with pytest.raises(LifespanFailed, match="database unreachable"), TestClient(app):
        pass
    assert threading.active_count() == before


def test_lifespan_state_is_copied_into_requests() -> None:
    seen: list[Message] = []
    requests = recording_app(seen)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await requests(scope, receive, send)
            return
        await receive()
        scope["state"]["pool"] = "ready"
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    with TestClient(app) as client:
        client.get("/")
    assert seen[0]["state"] == {"pool": "ready"}


def test_raw_app_failing_during_startup() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise ConnectionError("no database")

    with pytest.raises(ConnectionError, match="no database"), TestClient(app):
        pass


def test_lifespan_timeout() -> None:
    before = threading.active_count()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await asyncio.Event().wait()

    with pytest.raises(TimeoutError, match="startup"), TestClient(app, timeout=0.1):
        pass
    assert threading.active_count() == before


def test_app_without_lifespan_support() -> None:
    seen: list[Message] = []
    requests = recording_app(seen)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await requests(scope, receive, send)

    with TestClient(app) as client:
        assert client.get("/").text == "done"

    async def crashing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("fails on every scope, lifespan included")

    with TestClient(crashing, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 500


# -- WebSockets ---------------------------------------------------------------------------------


def test_websocket_session() -> None:
    disconnects.clear()
    with TestClient(websocket_app) as client:
        with client.websocket_connect("/ws?room=1", subprotocols=["chat", "v2"]) as ws:
            assert ws.subprotocol == "chat"
            assert ws.receive_text() == "/ws?room=1"
            ws.send_text("hi")
            assert ws.receive_text() == "hi"
            ws.send_bytes(b"\x00\x01")
            assert ws.receive_bytes() == b"\x00\x01"
            ws.send_json({"a": [1, 2]})
            assert ws.receive_json() == {"a": [1, 2]}
            ws.send_json({"b": 2}, binary=True)
            assert ws.receive_json() == {"b": 2}
            ws.send_text("headers")
            headers = ws.receive_json()
        assert disconnects == [1000]
    assert headers["host"] == "testserver"
    assert headers["upgrade"] == "websocket"
    assert headers["sec-websocket-protocol"] == "chat, v2"


def test_websocket_close_from_the_client() -> None:
    disconnects.clear()
    with TestClient(websocket_app) as client, client.websocket_connect("/ws") as ws:
        ws.receive_text()
        ws.close(4001)
        with pytest.raises(WebSocketClosed):
            ws.send_text("too late")
    assert disconnects == [4001]


def test_websocket_closed_by_the_app() -> None:
    with TestClient(websocket_app) as client, client.websocket_connect("/ws") as ws:
        ws.receive_text()
        ws.send_text("close")
        with pytest.raises(WebSocketClosed) as caught:
            ws.receive_text()
        assert (caught.value.code, caught.value.reason) == (4000, "bye")
        with pytest.raises(WebSocketClosed):
            ws.receive_text()


def test_websocket_denied_by_closing() -> None:
    client = TestClient(websocket_app)
    with client, pytest.raises(WebSocketDenied) as caught, client.websocket_connect("/deny"):
        pass
    denied = caught.value
    assert (denied.status_code, denied.code, denied.reason) == (403, 1008, "go away")
    assert str(denied) == "WebSocket handshake refused with HTTP 403, close code 1008 go away"


def test_websocket_denied_with_a_response() -> None:
    client = TestClient(websocket_app)
    denied = pytest.raises(WebSocketDenied)
    with client, denied as caught, client.websocket_connect("/deny-with-response"):
        pass
    assert caught.value.status_code == 401
    assert caught.value.code is None
    assert caught.value.response.json() == {"detail": "login first"}


def test_websocket_app_failing_before_accept() -> None:
    @http_only
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("no handshake")

    client = TestClient(broken)
    with client, pytest.raises(RuntimeError, match="no handshake"), client.websocket_connect("/"):
        pass
    client = TestClient(broken, raise_server_exceptions=False)
    with client, pytest.raises(WebSocketDenied) as caught, client.websocket_connect("/"):
        pass
    assert caught.value.status_code == 500


def test_websocket_app_error_is_raised() -> None:
    client = TestClient(websocket_app)
    failed = pytest.raises(RuntimeError, match="websocket handler failed")
    with client, failed, client.websocket_connect("/ws") as ws:
        ws.receive_text()
        ws.send_text("fail")
        ws.receive_text()
    client = TestClient(websocket_app, raise_server_exceptions=False)
    with client, client.websocket_connect("/ws") as ws:
        ws.receive_text()
        ws.send_text("fail")
        with pytest.raises(WebSocketClosed) as caught:
            ws.receive_text()
    assert caught.value.code == 1011


def test_websocket_sends_cookies_and_wrong_message_kind() -> None:
    client = TestClient(websocket_app, cookies={"session": "abc"})
    with client, client.websocket_connect("/ws") as ws:
        ws.receive_text()
        ws.send_text("headers")
        assert ws.receive_json()["cookie"] == "session=abc"
        ws.send_bytes(b"binary")
        with pytest.raises(TypeError):
            ws.receive_text()


def test_websocket_app_after_the_client_left() -> None:
    errors: list[str] = []

    @http_only
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"x-server", b"raw")]})
        assert (await receive())["type"] == "websocket.disconnect"
        assert (await receive())["type"] == "websocket.disconnect"  # again, not a hang
        await send({"type": "websocket.close"})  # harmless
        try:
            await send({"type": "websocket.send", "text": "late"})
        except OSError as exc:
            errors.append(str(exc))

    with TestClient(app) as client, client.websocket_connect("/") as ws:
        assert ws.headers == [(b"x-server", b"raw")]
        assert ws.subprotocol is None
    assert errors == ["The client has closed the WebSocket"]


def test_websocket_receive_timeout() -> None:
    with TestClient(websocket_app, timeout=0.5) as client, client.websocket_connect("/ws") as ws:
        ws.receive_text()
        with pytest.raises(TimeoutError):
            ws.receive_text()


# -- the async client ---------------------------------------------------------------------------


def test_async_client() -> None:
    events: list[str] = []
    app = make_app()
    app.on_startup(lambda: events.append("startup"))
    app.on_shutdown(lambda: events.append("shutdown"))

    async def main() -> None:
        async with AsyncTestClient(app) as client:
            assert events == ["startup"]
            response = await client.post("/json", json={"x": 1})
            assert response.json() == {"json": {"x": 1}}
            await client.get("/set-cookie")
            assert (await client.get("/cookies")).json() == {"session": "abc", "plain": "xyz"}
            assert (await client.get("/boom")).status_code == 500

    run(main())
    assert events == ["startup", "shutdown"]


def test_async_client_stream_and_errors() -> None:
    stream_events: list[str] = []

    async def main() -> None:
        async with AsyncTestClient(endless_app(stream_events)) as client:
            async with client.stream("GET", "/") as response:
                async for chunk in response.aiter_raw():
                    assert chunk == b"0,"
                    break
            assert stream_events == ["stopped"]
        async with AsyncTestClient(failing_app) as client:
            with pytest.raises(RuntimeError, match="escaped"):
                await client.get("/")
        async with AsyncTestClient(silent_app) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/", timeout=0.1)

    run(main())


def test_async_websocket_session() -> None:
    async def main() -> None:
        async with AsyncTestClient(websocket_app) as client:
            async with client.websocket_connect("/chat") as ws:
                assert await ws.receive_text() == "/chat?"
                await ws.send_text("hello")
                assert await ws.receive_text() == "hello"
            with pytest.raises(WebSocketDenied):
                async with client.websocket_connect("/deny"):
                    pass

    run(main())
