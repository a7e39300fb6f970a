"""WebSocket sessions with the app: the async one and its sync face."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from satchel.testing._connection import (
    Connection,
    Message,
    app_error,
    end_task,
    next_message,
    start_app,
)
from satchel.testing._portal import Portal

__all__ = ["AsyncWebSocketSession", "WebSocketClosed", "WebSocketDenied", "WebSocketSession"]

T = TypeVar("T")
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


class AsyncWebSocketSession:
    """A WebSocket connection to the app, opened by ``AsyncTestClient.websocket_connect``.

    Use it with ``async with``: entering sends ``websocket.connect`` and waits for the app
    to accept (:class:`WebSocketDenied` if it closes instead); leaving closes the
    connection with code 1000 and waits for the app to return.

    Attributes:
        subprotocol: The subprotocol the app accepted, if any.
        headers: The extra headers the app sent with its accept.
    """

    def __init__(self, conn: Connection, scope: Message, timeout: float | None) -> None:
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
        self._task = start_app(self._conn.app, self._scope, self._app_receive, self._app_send)
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
        await end_task(self._task, self.timeout, self.timeout)
        error = app_error(self._task)
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
        await end_task(self._task, self.timeout, self.timeout)
        error = app_error(self._task)
        if error is not None and exc_type is None and self._conn.raise_server_exceptions:
            raise error

    async def _next(self) -> Message | None:
        assert self._task is not None, "use the session in an 'async with' block"
        try:
            async with asyncio.timeout(self.timeout):
                return await next_message(self._from_app, self._task)
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
            error = app_error(self._task)
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

    def __init__(self, session: AsyncWebSocketSession, portal: Portal) -> None:
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
