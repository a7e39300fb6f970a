"""The httpx transports that carry one HTTP request and its response to the app over ASGI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import httpx

from satchel.testing._connection import (
    Connection,
    Message,
    app_error,
    build_scope,
    end_task,
    next_message,
    start_app,
)
from satchel.testing._portal import Portal

__all__ = ["AsyncTransport", "HTTPExchange", "SyncTransport"]

T = TypeVar("T")
_CHUNK_SIZE = 64 * 1024  # what a server typically reads from a socket at once
_QUEUE_SIZE = 16  # response messages buffered before the app's send() waits, like a socket


def _split(chunk: bytes) -> Iterator[bytes]:
    """``chunk`` in pieces of at most 64 KiB, as a server would read it from a socket."""
    for start in range(0, len(chunk), _CHUNK_SIZE):
        yield chunk[start : start + _CHUNK_SIZE]


async def _request_chunks(
    stream: httpx.SyncByteStream | httpx.AsyncByteStream,
) -> AsyncGenerator[bytes]:
    """The request body in pieces of at most 64 KiB, as a server would read it."""
    if isinstance(stream, httpx.AsyncByteStream):
        async for chunk in stream:
            for piece in _split(chunk):
                yield piece
    else:
        for chunk in stream:
            for piece in _split(chunk):
                yield piece


class HTTPExchange:
    """One request and its response between httpx and the app, run on the app's loop."""

    def __init__(self, conn: Connection, request: httpx.Request) -> None:
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
        scope = build_scope("http", self._request, self._conn)
        self._task = start_app(self._conn.app, scope, self._receive, self._send)
        message = await next_message(self._messages, self._task)
        if message is not None:
            return int(message["status"]), [
                (bytes(k), bytes(v)) for k, v in message.get("headers", ())
            ]
        self._ended = True
        error = app_error(self._task)
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
        message = await next_message(self._messages, self._task)
        if message is None or not message.get("more_body", False):
            self._ended = True
            self._closed.set()
            # Let the app return (it may await http.disconnect) and surface its errors.
            await asyncio.wait((self._task,))
            error = app_error(self._task)
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
            await end_task(self._task, 0, self.timeout)
            app_error(self._task)
            if self._task.done():
                await self._body.aclose()


class _AsyncResponseBody(httpx.AsyncByteStream):
    def __init__(self, exchange: HTTPExchange) -> None:
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._exchange.next_chunk()) is not None:
            if chunk:
                yield chunk

    async def aclose(self) -> None:
        await self._exchange.aclose()


class AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = HTTPExchange(self._conn, request)
        status, headers = await exchange.start()
        return httpx.Response(status, headers=headers, stream=_AsyncResponseBody(exchange))


class _SyncResponseBody(httpx.SyncByteStream):
    def __init__(self, exchange: HTTPExchange, portal: Portal) -> None:
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


class SyncTransport(httpx.BaseTransport):
    def __init__(self, conn: Connection, portal: Portal) -> None:
        self._conn = conn
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange = HTTPExchange(self._conn, request)
        status, headers = self._portal.call(exchange.start(), exchange.timeout)
        return httpx.Response(
            status, headers=headers, stream=_SyncResponseBody(exchange, self._portal)
        )

    def close(self) -> None:
        self._portal.stop()
