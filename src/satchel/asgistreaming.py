"""Streamed and file bodies over ASGI, stopped when the client disconnects.

Many ASGI servers silently drop what is sent after the client has gone, so while
a body streams, ``receive()`` is watched for ``http.disconnect``. Loaded by
:mod:`satchel.asgi` on the first streamed or file response.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, cast

from satchel.asgibody import BODY_DROPPED, FINISHED, READING, UNREAD, Message, Send
from satchel.bodies import close_content, iterate_chunks, read_file_chunks, stream_until_disconnect
from satchel.requests import ClientDisconnected
from satchel.responses import Response, StreamingResponse

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.asgi import ASGIRequest

__all__ = ["DisconnectWatch", "send_file", "send_stream"]

logger = logging.getLogger("satchel.error")


class DisconnectWatch:
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
            phase = getattr(request, "_body_phase", UNREAD)
            if phase == READING:
                await self._reader_done.wait()
                continue
            message = await self._pull()
            if message is None:  # the body reader took it
                continue
            kind = message["type"]
            if kind == "http.disconnect":
                self._kept.append(message)  # a reader that comes later learns it too
                return
            if kind == "http.request" and getattr(request, "_body_phase", UNREAD) == UNREAD:
                self._keep(message)

    def _keep(self, message: Message) -> None:
        self._kept_size += len(message.get("body", b""))
        if self._kept_size <= self._request.config.max_body_size:
            self._kept.append(message)
            return
        self._kept.clear()
        self._kept.append({"type": BODY_DROPPED})
        self._request._body_phase = FINISHED  # discard the rest as it arrives

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


async def send_stream(app: App[Any], request: ASGIRequest, response: Response, send: Send) -> None:
    content = cast(StreamingResponse, response).content
    headers = app.asgi_response_headers(request, response)
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    if request.method == "HEAD":
        await close_content(content)
        await send({"type": "http.response.body", "body": b""})
    else:
        await _send_body_watched(request, send, iterate_chunks(content))


async def send_file(
    app: App[Any],
    request: ASGIRequest,
    response: Response,
    send: Send,
    plan: tuple[str, int, int],
) -> None:
    path, start, end = plan
    headers = app.asgi_response_headers(request, response)
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
    watch = request._watch = DisconnectWatch(request)
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
