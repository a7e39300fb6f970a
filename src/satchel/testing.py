"""Test clients that call an ASGI app in process: :class:`TestClient` and :class:`AsyncTestClient`.

Both are real :class:`httpx.Client` / :class:`httpx.AsyncClient` subclasses whose transport
speaks ASGI to the app, so a test gets the whole httpx API (cookie jar, ``stream()``, auth,
event hooks). Request bodies reach the app in chunks and response bodies come back as the app
sends them; entering the client runs the app's lifespan; ``websocket_connect`` opens a
WebSocket session.

>>> from satchel import App, Settings
>>> app = App(settings=Settings())
>>> @app.get("/")
... async def index() -> str:
...     return "Hello"
>>> with TestClient(app) as client:
...     client.get("/").text
'Hello'
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import threading
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("satchel.testing needs httpx: pip install 'satchel[testing]'") from exc

__all__ = [
    "AsyncTestClient",
    "AsyncWebSocketSession",
    "LifespanFailed",
    "TestClient",
    "WebSocketClosed",
    "WebSocketDenied",
    "WebSocketSession",
]

T = TypeVar("T")
Message = MutableMapping[str, Any]
# Any ASGI 3 callable: typed loosely so apps with their own Scope/Receive aliases fit.
ASGICallable = Callable[[Any, Any, Any], Awaitable[None]]

_ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
_CHUNK_SIZE = 64 * 1024  # what a server typically reads from a socket at once
_QUEUE_SIZE = 16  # response messages buffered before the app's send() waits, like a socket
_STOP_TIMEOUT = 5.0
# What the app may send in each phase of a WebSocket connection.
_WEBSOCKET_ALLOWED = {
    "connecting": ("websocket.accept", "websocket.close", "websocket.http.response.start"),
    "responding": ("websocket.http.response.body",),
    "open": ("websocket.send", "websocket.close"),
    "closed": (),
}


class WebSocketDenied(Exception):
    """The app refused the WebSocket handshake.

    Attributes:
        response: The HTTP response the client got: the app's own, sent through the
            ``websocket.http.response`` extension; else 403 when the app closed or
            returned before accepting, 500 when it failed.
        status_code: The status of ``response``.
        code: The close code, when the app refused by closing (else None).
        reason: The close reason, when the app refused by closing.
    """

    def __init__(self, response: httpx.Response, code: int | None = None, reason: str = "") -> None:
        super().__init__(response.status_code, code, reason)
        self.response = response
        self.status_code = response.status_code
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        closed = "" if self.code is None else f", close code {self.code} {self.reason}".rstrip()
        return f"WebSocket handshake refused with HTTP {self.status_code}{closed}"


class WebSocketClosed(Exception):
    """The WebSocket is closed: by the app, by the client, or because the app returned.

    Attributes:
        code: The close code (1006 if the app returned without closing, 1011 if it failed).
        reason: The close reason.
    """

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"WebSocket closed with code {self.code}" + (
            f": {self.reason}" if self.reason else ""
        )


class LifespanFailed(RuntimeError):
    """The app answered ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``."""


@dataclass
class _Connection:
    """What every exchange with one app shares."""

    app: ASGICallable
    client: tuple[str, int]
    raise_server_exceptions: bool
    state: dict[str, Any] = field(default_factory=dict)  # the lifespan scope's state


def _scope(kind: str, request: httpx.Request, conn: _Connection) -> Message:
    url = request.url
    scheme = url.scheme
    if kind == "websocket":
        scheme = "wss" if scheme == "https" else "ws"
    return {
        "type": kind,
        "asgi": dict(_ASGI_VERSION),
        "http_version": "1.1",
        "method": request.method,
        "scheme": scheme,
        "path": url.path,
        "raw_path": url.raw_path.partition(b"?")[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "client": conn.client,
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        "state": dict(conn.state),  # each request gets a shallow copy, as servers do
    }


def _websocket_scope(
    request: httpx.Request, conn: _Connection, subprotocols: Sequence[str] | None
) -> Message:
    scope = _scope("websocket", request, conn)
    del scope["method"]
    headers = [(k, v) for k, v in scope["headers"] if k != b"connection"]
    key = base64.b64encode(os.urandom(16))
    headers += [
        (b"connection", b"upgrade"),
        (b"upgrade", b"websocket"),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-key", key),
    ]
    if subprotocols:
        headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
    scope["headers"] = headers
    scope["subprotocols"] = list(subprotocols or ())
    scope["extensions"] = {"websocket.http.response": {}}  # lets the app deny with a response
    return scope


# -- running the app ----------------------------------------------------------------------------


def _start_app(app: ASGICallable, scope: Message, receive: Any, send: Any) -> asyncio.Task[None]:
    async def run() -> None:
        await app(scope, receive, send)

    return asyncio.create_task(run())


def _app_error(task: asyncio.Task[None]) -> BaseException | None:
    """The exception the app raised, if it has ended with one (marks it retrieved)."""
    if not task.done() or task.cancelled():
        return None
    return task.exception()


async def _end_task(task: asyncio.Task[None], grace: float | None, limit: float | None) -> None:
    """Give ``task`` ``grace`` seconds to return, then cancel it (waiting at most ``limit``)."""
    if grace != 0:
        await asyncio.wait((task,), timeout=grace)
    if not task.done():
        task.cancel()
        await asyncio.wait((task,), timeout=limit)


async def _next_message(queue: asyncio.Queue[Message], task: asyncio.Task[None]) -> Message | None:
    """The app's next message, or None once the app has returned without sending more."""
    if queue.empty() and not task.done():
        getter = asyncio.ensure_future(queue.get())
        try:
            await asyncio.wait((getter, task), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not getter.done():
                getter.cancel()  # the item, if any, stays in the queue
        if getter.done():
            return getter.result()
    return None if queue.empty() else queue.get_nowait()


async def _request_chunks(
    stream: httpx.SyncByteStream | httpx.AsyncByteStream,
) -> AsyncGenerator[bytes]:
    """The request body in pieces of at most 64 KiB, as a server would read it."""
    if isinstance(stream, httpx.AsyncByteStream):
        async for chunk in stream:
            for start in range(0, len(chunk), _CHUNK_SIZE):
                yield chunk[start : start + _CHUNK_SIZE]
    else:
        for chunk in stream:
            for start in range(0, len(chunk), _CHUNK_SIZE):
                yield chunk[start : start + _CHUNK_SIZE]


class _HTTPExchange:
    """One request and its response between httpx and the app, run on the app's loop."""

    def __init__(self, conn: _Connection, request: httpx.Request) -> None:
        self._conn = conn
        self._request = request
        self._body = _request_chunks(request.stream)
        self._body_done = False
        self._messages: asyncio.Queue[Message] = asyncio.Queue(_QUEUE_SIZE)
        self._closed = asyncio.Event()  # the response is complete or the client closed it
        self._expect = "http.response.start"
        self._ended = False
        self._task: asyncio.Task[None] | None = None
        self.timeout: float | None = request.extensions.get("timeout", {}).get("read")

    async def _receive(self) -> Message:
        if self._body_done or self._closed.is_set():
            await self._closed.wait()
            return {"type": "http.disconnect"}
        chunk = await anext(self._body, None)
        if chunk is None:
            self._body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind != self._expect:
            raise RuntimeError(f"Unexpected ASGI message {kind!r}, expected {self._expect!r}")
        more = kind == "http.response.start" or message.get("more_body", False)
        self._expect = "http.response.body" if more else "nothing after the response"
        await self._messages.put(message)

    async def start(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Run the app until it starts the response; return the status and headers."""
        return await self._bounded(self._start())

    async def _start(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        scope = _scope("http", self._request, self._conn)
        self._task = _start_app(self._conn.app, scope, self._receive, self._send)
        message = await _next_message(self._messages, self._task)
        if message is not None:
            return int(message["status"]), [
                (bytes(k), bytes(v)) for k, v in message.get("headers", ())
            ]
        self._ended = True
        error = _app_error(self._task)
        if error is None:
            raise RuntimeError("The app returned without sending a response")
        if self._conn.raise_server_exceptions:
            raise error
        return 500, [(b"content-type", b"text/plain; charset=utf-8")]

    async def next_chunk(self) -> bytes | None:
        """The next piece of the response body, or None at its end."""
        if self._ended:
            return None
        return await self._bounded(self._next_chunk())

    async def _next_chunk(self) -> bytes | None:
        assert self._task is not None
        message = await _next_message(self._messages, self._task)
        if message is None or not message.get("more_body", False):
            self._ended = True
            self._closed.set()
            # Let the app return (it may await http.disconnect) and surface its errors.
            await asyncio.wait((self._task,))
            error = _app_error(self._task)
            if error is not None and self._conn.raise_server_exceptions:
                raise error
        return None if message is None else bytes(message.get("body", b""))

    async def _bounded(self, work: Coroutine[Any, Any, T]) -> T:
        deadline = asyncio.timeout(self.timeout)
        try:
            async with deadline:
                return await work
        except TimeoutError:
            if not deadline.expired():
                raise
            await self.aclose()
            message = f"The app did not answer within {self.timeout} seconds"
            raise httpx.ReadTimeout(message, request=self._request) from None

    async def aclose(self) -> None:
        """Close the response: the app sees ``http.disconnect`` and is cancelled if running."""
        self._ended = True
        self._closed.set()
        if self._task is not None:
            await _end_task(self._task, 0, self.timeout)
            _app_error(self._task)
            if self._task.done():
                await self._body.aclose()


class _AsyncResponseBody(httpx.AsyncByteStream):
    def __init__(self, exchange: _HTTPExchange) -> None:
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._exchange.next_chunk()) is not None:
            if chunk:
                yield chunk

    async def aclose(self) -> None:
        await self._exchange.aclose()


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, conn: _Connection) -> None:
        self._conn = conn

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = _HTTPExchange(self._conn, request)
        status, headers = await exchange.start()
        return httpx.Response(status, headers=headers, stream=_AsyncResponseBody(exchange))


# -- the event loop of a sync client ------------------------------------------------------------


async def _drain_loop() -> None:
    """Cancel what the app left running; close its async generators and worker threads."""
    loop = asyncio.get_running_loop()
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=_STOP_TIMEOUT)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()  # joins asyncio.to_thread workers


class _Portal:
    """An event loop on a daemon thread that runs the app for a sync client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def running(self) -> bool:
        return self._loop is not None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._stopped:
                raise RuntimeError("The test client has been closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="satchel-testclient", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def call(self, work: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``work`` on the loop and return its result.

        ``work`` enforces ``timeout`` itself; the wait here is a backstop for a loop that
        sync code in the app blocks, where no asyncio timeout can fire.
        """
        if threading.current_thread() is self._thread:
            work.close()
            raise RuntimeError("A TestClient cannot call its own app from inside it")
        try:
            loop = self._start()
        except BaseException:
            work.close()
            raise
        future = asyncio.run_coroutine_threadsafe(work, loop)
        try:
            return future.result(None if timeout is None else 2 * timeout + 1)
        except TimeoutError:
            if future.done():
                raise
            future.cancel()
            raise TimeoutError(
                f"The app's event loop did not answer within {timeout} seconds; "
                "is sync code blocking it?"
            ) from None
        except BaseException:
            future.cancel()
            raise

    def stop(self) -> None:
        """Cancel leftover tasks, stop the loop and join its thread (idempotent)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._stopped = True
        if loop is None or thread is None:
            return
        if threading.current_thread() is thread:  # garbage collected on the loop itself
            loop.stop()
            return
        cleanup = asyncio.run_coroutine_threadsafe(_drain_loop(), loop)
        with contextlib.suppress(Exception):
            cleanup.result(_STOP_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_STOP_TIMEOUT)
        if not thread.is_alive():
            loop.close()


class _SyncResponseBody(httpx.SyncByteStream):
    def __init__(self, exchange: _HTTPExchange, portal: _Portal) -> None:
        self._exchange = exchange
        self._portal = portal

    def __iter__(self) -> Iterator[bytes]:
        exchange = self._exchange
        while (chunk := self._portal.call(exchange.next_chunk(), exchange.timeout)) is not None:
            if chunk:
                yield chunk

    def close(self) -> None:
        if self._portal.running:
            self._portal.call(self._exchange.aclose(), self._exchange.timeout)


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, conn: _Connection, portal: _Portal) -> None:
        self._conn = conn
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange = _HTTPExchange(self._conn, request)
        status, headers = self._portal.call(exchange.start(), exchange.timeout)
        return httpx.Response(
            status, headers=headers, stream=_SyncResponseBody(exchange, self._portal)
        )

    def close(self) -> None:
        self._portal.stop()


# -- lifespan -----------------------------------------------------------------------------------


class _Lifespan:
    """Speaks the ASGI lifespan protocol to the app for one client."""

    def __init__(self, conn: _Connection, timeout: float | None) -> None:
        self._conn = conn
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._listened = False  # the app has read a lifespan message

    async def _receive(self) -> Message:
        message = await self._to_app.get()
        self._listened = True
        return message

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": dict(_ASGI_VERSION), "state": self._conn.state}
        self._task = _start_app(self._conn.app, scope, self._receive, self._from_app.put)
        await self._step("startup")

    async def shutdown(self) -> None:
        if self._task is not None:
            try:
                await self._step("shutdown")
            finally:
                if self._task is not None:
                    await _end_task(self._task, self._timeout, self._timeout)

    async def _step(self, phase: str) -> None:
        task = self._task
        assert task is not None
        await self._to_app.put({"type": f"lifespan.{phase}"})
        try:
            async with asyncio.timeout(self._timeout):
                message = await _next_message(self._from_app, task)
        except TimeoutError:
            raise TimeoutError(f"The app did not finish {phase} in {self._timeout} s") from None
        if message is None:
            self._task = None
            error = _app_error(task)
            # As the ASGI spec asks of servers, an app that returns or raises before it
            # reads a lifespan message does not speak the protocol: carry on without it.
            if error is not None and self._listened and self._conn.raise_server_exceptions:
                raise error
            return
        kind = message["type"]
        if kind == f"lifespan.{phase}.failed":
            self._task = None
            await _end_task(task, self._timeout, self._timeout)
            raise LifespanFailed(message.get("message") or f"Application {phase} failed")
        if kind != f"lifespan.{phase}.complete":
            raise RuntimeError(f"Unexpected ASGI lifespan message {kind!r}")


# -- WebSockets ---------------------------------------------------------------------------------


class AsyncWebSocketSession:
    """A WebSocket connection to the app, opened by ``AsyncTestClient.websocket_connect``.

    Use it with ``async with``: entering sends ``websocket.connect`` and waits for the app
    to accept (:class:`WebSocketDenied` if it closes instead); leaving closes the
    connection with code 1000 and waits for the app to return.

    Attributes:
        subprotocol: The subprotocol the app accepted, if any.
        headers: The extra headers the app sent with its accept.
    """

    def __init__(self, conn: _Connection, scope: Message, timeout: float | None) -> None:
        self._conn = conn
        self._scope = scope
        self.timeout = timeout
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._phase = "connecting"
        self._close: tuple[int, str] | None = None  # code and reason, once either side closed
        self._client_closed = False
        self.subprotocol: str | None = None
        self.headers: list[tuple[bytes, bytes]] = []

    # The app's side of the connection.

    async def _app_receive(self) -> Message:
        if self._close is not None and self._to_app.empty():
            return {"type": "websocket.disconnect", "code": self._close[0]}
        return await self._to_app.get()

    async def _app_send(self, message: Message) -> None:
        kind = message["type"]
        if self._client_closed:
            if kind == "websocket.close":
                return  # closing twice is harmless
            raise OSError("The client has closed the WebSocket")
        if kind not in _WEBSOCKET_ALLOWED[self._phase]:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} ({self._phase})")
        if kind == "websocket.accept":
            self._phase = "open"
        elif kind == "websocket.http.response.start":
            self._phase = "responding"
        elif kind == "websocket.close" or (
            kind == "websocket.http.response.body" and not message.get("more_body", False)
        ):
            self._phase = "closed"
            self._close = (int(message.get("code", 1000)), message.get("reason") or "")
            self._to_app.put_nowait({"type": "websocket.disconnect", "code": self._close[0]})
        await self._from_app.put(message)

    # The client's side.

    async def __aenter__(self) -> Self:
        self._task = _start_app(self._conn.app, self._scope, self._app_receive, self._app_send)
        await self._to_app.put({"type": "websocket.connect"})
        message = await self._next()
        if message is not None and message["type"] == "websocket.accept":
            self.subprotocol = message.get("subprotocol")
            self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
            return self
        raise await self._refusal(message)

    async def _refusal(self, message: Message | None) -> BaseException:
        status, headers, body, code, reason = 403, [], b"", None, ""
        if message is not None and message["type"] == "websocket.close":
            code, reason = int(message.get("code", 1000)), message.get("reason") or ""
        elif message is not None:  # websocket.http.response.start
            status, headers = int(message["status"]), message.get("headers", [])
            chunks: list[bytes] = []
            while (part := await self._next()) is not None:
                chunks.append(part.get("body", b""))
                if not part.get("more_body", False):
                    break
            body = b"".join(chunks)
        assert self._task is not None
        await _end_task(self._task, self.timeout, self.timeout)
        error = _app_error(self._task)
        if error is not None:
            if self._conn.raise_server_exceptions:
                return error
            status = 500
        return WebSocketDenied(httpx.Response(status, headers=headers, content=body), code, reason)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
        if self._task is None:
            return
        await _end_task(self._task, self.timeout, self.timeout)
        error = _app_error(self._task)
        if error is not None and exc_type is None and self._conn.raise_server_exceptions:
            raise error

    async def _next(self) -> Message | None:
        assert self._task is not None, "use the session in an 'async with' block"
        try:
            async with asyncio.timeout(self.timeout):
                return await _next_message(self._from_app, self._task)
        except TimeoutError:
            raise TimeoutError(f"The app sent nothing within {self.timeout} seconds") from None

    async def _send(self, message: Message) -> None:
        if self._close is not None:
            raise WebSocketClosed(*self._close)
        await self._to_app.put(message)

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self._send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self._send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any, *, binary: bool = False) -> None:
        """Send ``data`` encoded as JSON, in a text message (or a binary one)."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        await (self.send_bytes(text.encode()) if binary else self.send_text(text))

    async def receive(self) -> Message:
        """Return the app's next ``websocket.send`` message.

        Raises:
            WebSocketClosed: the connection is closed, or the app closed it.
            TimeoutError: the app sent nothing within the client's read timeout.
        """
        if self._close is not None and (self._client_closed or self._from_app.empty()):
            raise WebSocketClosed(*self._close)
        message = await self._next()
        if message is None:
            assert self._task is not None
            error = _app_error(self._task)
            if error is not None and self._conn.raise_server_exceptions:
                raise error
            self._close = (1011, "The app failed") if error else (1006, "The app returned")
            raise WebSocketClosed(*self._close)
        if message["type"] == "websocket.close":
            raise WebSocketClosed(*(self._close or (1000, "")))
        return message

    async def receive_text(self) -> str:
        """Return the next message, which must be a text message (else ``TypeError``)."""
        message = await self.receive()
        if message.get("text") is None:
            raise TypeError("Expected a text message, got a binary one")
        return str(message["text"])

    async def receive_bytes(self) -> bytes:
        """Return the next message, which must be a binary message (else ``TypeError``)."""
        message = await self.receive()
        if message.get("bytes") is None:
            raise TypeError("Expected a binary message, got a text one")
        return bytes(message["bytes"])

    async def receive_json(self) -> Any:
        """Return the next message (text or binary) decoded from JSON."""
        message = await self.receive()
        text = message.get("text")
        return json.loads(text if text is not None else message.get("bytes") or b"")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection; the app receives ``websocket.disconnect`` with ``code``."""
        if self._close is not None or self._task is None:
            return
        self._close = (code, reason)
        self._client_closed = True
        await self._to_app.put({"type": "websocket.disconnect", "code": code, "reason": reason})


class WebSocketSession:
    """The sync face of :class:`AsyncWebSocketSession`, from ``TestClient.websocket_connect``.

    Every method runs the async one on the client's event loop and waits for it.
    """

    def __init__(self, session: AsyncWebSocketSession, portal: _Portal) -> None:
        self._session = session
        self._portal = portal

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return self._portal.call(work, self._session.timeout)

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the app accepted, if any."""
        return self._session.subprotocol

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The extra headers the app sent with its accept."""
        return self._session.headers

    def __enter__(self) -> Self:
        self._call(self._session.__aenter__())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._call(self._session.__aexit__(exc_type, exc_value, traceback))

    def send_text(self, data: str) -> None:
        """Send a text message."""
        self._call(self._session.send_text(data))

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self._call(self._session.send_bytes(data))

    def send_json(self, data: Any, *, binary: bool = False) -> None:
        """Send ``data`` encoded as JSON, in a text message (or a binary one)."""
        self._call(self._session.send_json(data, binary=binary))

    def receive(self) -> Message:
        """Return the app's next ``websocket.send`` message (see the async version)."""
        return self._call(self._session.receive())

    def receive_text(self) -> str:
        """Return the next message, which must be a text message."""
        return self._call(self._session.receive_text())

    def receive_bytes(self) -> bytes:
        """Return the next message, which must be a binary message."""
        return self._call(self._session.receive_bytes())

    def receive_json(self) -> Any:
        """Return the next message decoded from JSON."""
        return self._call(self._session.receive_json())

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection; the app receives ``websocket.disconnect`` with ``code``."""
        self._call(self._session.close(code, reason))


# -- the clients --------------------------------------------------------------------------------


class TestClient(httpx.Client):
    """A sync httpx client that calls ``app`` in process through ASGI.

    The app runs on an event loop in a background thread, started on entering the client
    (or on the first request) and stopped, with its thread joined, on ``close()``.
    Entering the client with ``with`` also runs the app's lifespan (startup hooks on enter,
    shutdown on exit); without ``with`` plain requests still work but nothing starts up.

    Args:
        app: Any ASGI 3 application (a Satchel ``App`` or another).
        base_url: Prefix of relative URLs. ``https`` by default so that Secure cookies,
            Satchel's default, are kept and sent back.
        raise_server_exceptions: Re-raise in the test an exception that escapes the app,
            instead of answering 500. Errors the app turns into responses itself (as Satchel
            does for handler errors) are responses either way.
        client: The ``(host, port)`` the app sees as the peer address.
        headers: Headers sent with every request.
        cookies: Cookies to start the jar with.
        follow_redirects: Follow redirects (off by default: tests usually check them).
        timeout: Seconds to wait for the app at each step (response start, each body
            chunk, lifespan, WebSocket message); ``None`` waits forever.
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        app: ASGICallable,
        *,
        base_url: str = "https://testserver",
        raise_server_exceptions: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        cookies: httpx.Cookies | dict[str, str] | None = None,
        follow_redirects: bool = False,
        timeout: float | httpx.Timeout | None = 30.0,
    ) -> None:
        self._connection = _Connection(app, client, raise_server_exceptions)
        self._portal = _Portal()
        super().__init__(
            base_url=base_url,
            headers=headers,
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=_SyncTransport(self._connection, self._portal),
        )
        self.app = app
        self._lifespan: _Lifespan | None = None
        # A client never closed still stops its thread when collected or at exit.
        weakref.finalize(self, self._portal.stop)

    def __enter__(self) -> Self:
        super().__enter__()
        lifespan = _Lifespan(self._connection, self.timeout.read)
        try:
            self._portal.call(lifespan.startup(), self.timeout.read)
        except BaseException:
            super().__exit__(None, None, None)
            raise
        self._lifespan = lifespan
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                self._portal.call(lifespan.shutdown(), self.timeout.read)
        finally:
            super().__exit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> WebSocketSession:
        """Return a WebSocket session to ``url``; use it with ``with``.

        The handshake carries the client's default headers and cookies plus ``headers``.
        """
        request = self.build_request("GET", url, headers=headers)
        scope = _websocket_scope(request, self._connection, subprotocols)
        session = AsyncWebSocketSession(self._connection, scope, self.timeout.read)
        return WebSocketSession(session, self._portal)


class AsyncTestClient(httpx.AsyncClient):
    """An async httpx client that calls ``app`` in process through ASGI.

    The app runs on the caller's event loop (asyncio). Entering the client with
    ``async with`` runs the app's lifespan. Takes the same arguments as :class:`TestClient`.
    """

    __test__ = False

    def __init__(
        self,
        app: ASGICallable,
        *,
        base_url: str = "https://testserver",
        raise_server_exceptions: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        cookies: httpx.Cookies | dict[str, str] | None = None,
        follow_redirects: bool = False,
        timeout: float | httpx.Timeout | None = 30.0,
    ) -> None:
        self._connection = _Connection(app, client, raise_server_exceptions)
        super().__init__(
            base_url=base_url,
            headers=headers,
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=_AsyncTransport(self._connection),
        )
        self.app = app
        self._lifespan: _Lifespan | None = None

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        lifespan = _Lifespan(self._connection, self.timeout.read)
        try:
            await lifespan.startup()
        except BaseException:
            await super().__aexit__(None, None, None)
            raise
        self._lifespan = lifespan
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                await lifespan.shutdown()
        finally:
            await super().__aexit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncWebSocketSession:
        """Return a WebSocket session to ``url``; use it with ``async with``."""
        request = self.build_request("GET", url, headers=headers)
        scope = _websocket_scope(request, self._connection, subprotocols)
        return AsyncWebSocketSession(self._connection, scope, self.timeout.read)
