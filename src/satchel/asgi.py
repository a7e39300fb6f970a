"""The ASGI 3 adapter: http, websocket and lifespan scopes.

Streamed and file responses are sent by :mod:`satchel.asgistreaming`, which
watches for the client leaving while they stream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, cast

from satchel.accesslog import log_access
from satchel.asgibody import BODY_DROPPED, FINISHED, READING, Message, Receive, Send
from satchel.errors import BadRequest, PayloadTooLarge
from satchel.paths import path_or_error
from satchel.requests import ClientDisconnected, Request, check_length
from satchel.responses import FileResponseBase, Response

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.asgistreaming import DisconnectWatch

__all__ = ["ASGIApp", "ASGIRequest", "serve_asgi"]

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("satchel.error")


class ASGIRequest(Request):
    """A request arriving through ASGI."""

    # _body_phase and _watch are set on first use only (read with getattr), so that a
    # request whose body nobody reads and whose response is not streamed pays nothing.
    __slots__ = ("_asgi_receive", "_body_phase", "_scope", "_watch")
    _body_phase: int
    _watch: DisconnectWatch | None

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
        self._body_phase = READING
        watch = getattr(self, "_watch", None)
        receive = self._asgi_receive if watch is None else watch.next_message
        try:
            while True:
                message = await receive()
                yield _body_chunk(message)
                if not message.get("more_body", False):
                    return
        finally:
            # Complete, failed or abandoned: receive() is the watch's from now on.
            self._body_phase = FINISHED
            watch = getattr(self, "_watch", None)
            if watch is not None:
                watch.body_finished()

    def _host_header(self) -> str | None:
        found: bytes | None = None
        for name, value in self._scope["headers"]:
            if len(name) == 4 and name.lower() == b"host":
                if found is not None and value != found:
                    raise BadRequest("Conflicting host headers")
                found = value
        return None if found is None else found.decode("latin-1")

    async def _read_limited(self, limit: int) -> bytes:
        if self._stream_used or getattr(self, "_watch", None) is not None:
            return await super()._read_limited(limit)
        # The common case, read with receive() directly rather than through the
        # stream() and _receive() generators.
        length = self._declared_length(limit)
        self._stream_used = True
        self._body_phase = READING
        receive = self._asgi_receive
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                message = await receive()
                chunk = _body_chunk(message)
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"Body larger than {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        finally:
            self._body_phase = FINISHED
        check_length(size, length)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

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


def _body_chunk(message: Message) -> bytes:
    """The body in a ``receive()`` message; raise if the client left or the body was dropped."""
    kind = message["type"]
    if kind == "http.disconnect":
        raise ClientDisconnected()
    if kind == BODY_DROPPED:
        raise PayloadTooLarge("The unread body was too large to keep")
    body: bytes = message.get("body", b"")
    return body


def serve_asgi(app: App[Any]) -> ASGIApp:
    """Return the ASGI callable serving ``app``."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await _serve_http(app, scope, receive, send)
        elif kind == "websocket":
            from satchel.websockets import serve_asgi_websocket

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
    if kind != "bytes":
        # Loaded on the first streamed or file response: it brings asyncio's task
        # machinery, which a plain app (or `import satchel`) does not need.
        from satchel import asgistreaming as streaming

    if kind == "file":
        plan = await cast(FileResponseBase, response).prepare(request)
        if plan is not None:
            await streaming.send_file(app, request, response, send, plan)
            return
    elif kind == "stream":
        await streaming.send_stream(app, request, response, send)
        return
    body = response.body
    status = response.status_code
    headers = app.asgi_response_headers(request, response)
    if status >= 200 and status not in (204, 304):  # RFC 9110 8.6: no length on these
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if request.method == "HEAD":
        body = b""
    await send({"type": "http.response.body", "body": body})


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
