"""The ASGI 3 adapter: http, websocket and lifespan scopes.

A streamed or file response watches ``receive()`` for ``http.disconnect`` while it
sends, and stops when the client leaves: many servers silently drop what is sent
after that, so without the watch an endless stream would run forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, cast

from satchel.accesslog import log_access
from satchel.bodies import (
    close_content,
    iterate_chunks,
    read_file_chunks,
    stream_until_disconnect,
)
from satchel.errors import PayloadTooLarge
from satchel.paths import path_or_error
from satchel.requests import ClientDisconnected, Request
from satchel.responses import FileResponseBase, Response, StreamingResponse
from satchel.websockets import serve_asgi_websocket

if TYPE_CHECKING:
    from satchel.app import App

__all__ = ["ASGIApp", "ASGIRequest", "serve_asgi"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("satchel.error")

# How far the body reader has got; the disconnect watch shares receive() with it.
_UNREAD, _READING, _FINISHED = 0, 1, 2
_BODY_DROPPED = "satchel.body.dropped"  # stands in for a body the watch had to discard


class ASGIRequest(Request):
    """A request arriving through ASGI."""

    # _body_phase and _watch are set on first use only (read with getattr), so that a
    # request whose body nobody reads and whose response is not streamed pays nothing.
    __slots__ = ("_asgi_receive", "_body_phase", "_scope", "_watch")
    _body_phase: int
    _watch: _DisconnectWatch | None

    def __init__(self, app: App[Any], scope: Scope, receive: Receive, path: str) -> None:
        query = scope.get("query_string", b"")
        super().__init__(app, app.request_config, scope["method"], path, query.decode("latin-1"))
        self._scope = scope
        self._asgi_receive = receive

    def _raw_headers(self) -> list[tuple[str, str]]:
        return [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self._scope["headers"]
        ]

    async def _receive(self) -> AsyncIterator[bytes]:
        self._body_phase = _READING
        watch = getattr(self, "_watch", None)
        receive = self._asgi_receive if watch is None else watch.next_message
        try:
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "http.disconnect":
                    raise ClientDisconnected()
                if kind == _BODY_DROPPED:
                    raise PayloadTooLarge("The unread body was too large to keep")
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    return
        finally:
            # Complete, failed or abandoned: receive() is the watch's from now on.
            self._body_phase = _FINISHED
            watch = getattr(self, "_watch", None)
            if watch is not None:
                watch.body_finished()

    @property
    def _peer(self) -> str:
        client = self._scope.get("client")
        return str(client[0]) if client else ""

    @property
    def _server_scheme(self) -> str:
        return str(self._scope.get("scheme", "http"))

    @property
    def http_version(self) -> str:
        return str(self._scope.get("http_version", "1.1"))


class _DisconnectWatch:
    """Waits for ``http.disconnect`` while a response streams, sharing ``receive()``.

    ASGI allows one ``receive()`` call at a time, and the body reader may still need
    it: the streamed content can read the request body itself. So the watch calls
    ``receive()`` only while no reader is active: before the body is read (keeping
    what arrives for a reader that may come, up to the body size limit) and once the
    reader has finished (discarding what is left of a body it abandoned). A reader
    that starts while the watch is inside ``receive()`` takes that call's message.
    """

    __slots__ = ("_claimed", "_kept", "_kept_size", "_pending", "_reader_done", "_request")

    def __init__(self, request: ASGIRequest) -> None:
        self._request = request
        self._kept: deque[Message] = deque()  # messages read ahead for the body reader
        self._kept_size = 0
        self._pending: asyncio.Future[Message] | None = None  # the watch's receive() call
        self._claimed = False  # the body reader takes the pending call's message
        self._reader_done = asyncio.Event()

    async def wait(self) -> None:
        """Return once the client has disconnected."""
        request = self._request
        while True:
            self._reader_done.clear()
            phase = getattr(request, "_body_phase", _UNREAD)
            if phase == _READING:
                await self._reader_done.wait()
                continue
            message = await self._pull()
            if message is None:  # the body reader took it
                continue
            kind = message["type"]
            if kind == "http.disconnect":
                self._kept.append(message)  # a reader that comes later learns it too
                return
            if kind == "http.request" and getattr(request, "_body_phase", _UNREAD) == _UNREAD:
                self._keep(message)

    def _keep(self, message: Message) -> None:
        self._kept_size += len(message.get("body", b""))
        if self._kept_size <= self._request.config.max_body_size:
            self._kept.append(message)
            return
        self._kept.clear()
        self._kept.append({"type": _BODY_DROPPED})
        self._request._body_phase = _FINISHED  # discard the rest as it arrives

    async def _pull(self) -> Message | None:
        """The next message, or None if the body reader took it."""
        pending = asyncio.ensure_future(self._request._asgi_receive())
        self._pending, self._claimed = pending, False
        try:
            await asyncio.wait((pending,))
        except asyncio.CancelledError:
            if not self._claimed:
                pending.cancel()
            raise
        finally:
            if self._pending is pending:
                self._pending = None
        return None if self._claimed else pending.result()

    async def next_message(self) -> Message:
        """The body reader's ``receive()``: kept messages first, then the real one."""
        if self._kept:
            message = self._kept.popleft()
            self._kept_size -= len(message.get("body", b""))
            return message
        pending = self._pending
        if pending is None:  # the watch waits for this reader to finish
            return await self._request._asgi_receive()
        self._pending, self._claimed = None, True
        await asyncio.wait((pending,))
        return pending.result()

    def body_finished(self) -> None:
        """Called by the body reader when it stops reading, for whatever reason."""
        self._reader_done.set()


def serve_asgi(app: App[Any]) -> ASGIApp:
    """Return the ASGI callable serving ``app``."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await _serve_http(app, scope, receive, send)
        elif kind == "websocket":
            await serve_asgi_websocket(app, scope, receive, send)
        elif kind == "lifespan":
            await _serve_lifespan(app, receive, send)

    return asgi


async def _serve_http(app: App[Any], scope: Scope, receive: Receive, send: Send) -> None:
    path, error = path_or_error(scope.get("raw_path"), scope["path"])
    request = ASGIRequest(app, scope, receive, path)
    try:
        if error is None:
            response = await app.handle(request)
        else:
            response = await app.error_response(request, error)
        await _send_response(app, request, response, send)
    finally:
        if request.holds_resources:
            await request.close()
    if app.settings.access_log:
        log_access(request, response.status_code)


async def _send_response(
    app: App[Any], request: ASGIRequest, response: Response, send: Send
) -> None:
    kind = response.body_kind
    if kind == "file":
        plan = await cast(FileResponseBase, response).prepare(request)
        if plan is not None:
            await _send_file(app, request, response, send, plan)
            return
    elif kind == "stream":
        await _send_stream(app, request, response, send)
        return
    body = response.body
    status = response.status_code
    headers = app.asgi_response_headers(response)
    if status >= 200 and status not in (204, 304):  # RFC 9110 8.6: no length on these
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if request.method == "HEAD":
        body = b""
    await send({"type": "http.response.body", "body": body})


async def _send_stream(app: App[Any], request: ASGIRequest, response: Response, send: Send) -> None:
    content = cast(StreamingResponse, response).content
    headers = app.asgi_response_headers(response)
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    if request.method == "HEAD":
        await close_content(content)
        await send({"type": "http.response.body", "body": b""})
    else:
        await _send_body_watched(request, send, iterate_chunks(content))


async def _send_file(
    app: App[Any],
    request: ASGIRequest,
    response: Response,
    send: Send,
    plan: tuple[str, int, int],
) -> None:
    path, start, end = plan
    headers = app.asgi_response_headers(response)
    headers.append((b"content-length", str(end - start).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    if request.method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
    else:
        await _send_body_watched(request, send, read_file_chunks(path, start, end))


async def _send_body_watched(
    request: ASGIRequest, send: Send, chunks: AsyncGenerator[bytes, None]
) -> None:
    """Send ``chunks`` as the response body until they end or the client disconnects."""
    watch = request._watch = _DisconnectWatch(request)
    try:
        await stream_until_disconnect(_send_body(send, chunks), watch.wait())
    finally:
        request._watch = None  # no cycle to keep the request alive


async def _send_body(send: Send, chunks: AsyncGenerator[bytes, None]) -> None:
    async with contextlib.aclosing(chunks):
        try:
            async for chunk in chunks:
                message = {"type": "http.response.body", "body": chunk, "more_body": True}
                await _send_or_disconnected(send, message)
            await _send_or_disconnected(send, {"type": "http.response.body", "body": b""})
        except ClientDisconnected:  # from a send, or from content reading the request body
            logger.debug("The client disconnected; the streamed response was stopped")


async def _send_or_disconnected(send: Send, message: Message) -> None:
    try:
        await send(message)
    except OSError as exc:  # what ASGI 2.4 servers raise for a client that has gone
        raise ClientDisconnected() from exc


async def _serve_lifespan(app: App[Any], receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await app.startup()
            except Exception as exc:
                logger.exception("Application startup failed")
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await app.shutdown()
            except Exception as exc:
                logger.exception("Application shutdown failed")
                await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.shutdown.complete"})
            return
