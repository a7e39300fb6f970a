"""The ASGI 3 adapter: http, websocket and lifespan scopes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, cast

from satchel.accesslog import log_access
from satchel.bodies import iterate_chunks, read_file_chunks
from satchel.errors import HTTPError
from satchel.paths import check_path, decode_path
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


class ASGIRequest(Request):
    """A request arriving through ASGI."""

    __slots__ = ("_asgi_receive", "_scope")

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
        while True:
            message = await self._asgi_receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected()
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return

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


def serve_asgi(app: App[Any]) -> ASGIApp:
    """Return the ASGI callable serving ``app``."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await _serve_http(app, scope, receive, send)
        elif kind == "websocket":
            app.build()
            await serve_asgi_websocket(app, scope, receive, send)
        elif kind == "lifespan":
            await _serve_lifespan(app, receive, send)

    return asgi


async def _serve_http(app: App[Any], scope: Scope, receive: Receive, send: Send) -> None:
    if not app._built:
        app.build()
    error: HTTPError | None = None
    try:
        raw = scope.get("raw_path")
        path = decode_path(raw) if raw else check_path(scope["path"])
    except HTTPError as exc:
        path, error = "/", exc
    request = ASGIRequest(app, scope, receive, path)
    try:
        if error is None:
            response = await app.handle(request)
        else:
            response = await app.error_response(request, error)
        await _send_response(app, request, response, send)
    finally:
        await request.close()
    if app.settings.access_log:
        log_access(request, response.status_code)


async def _send_response(app: App[Any], request: Request, response: Response, send: Send) -> None:
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
    headers = _encode_headers(app.response_headers(response))
    if status >= 200 and status != 204:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if request.method == "HEAD":
        body = b""
    await send({"type": "http.response.body", "body": body})


async def _send_stream(app: App[Any], request: Request, response: Response, send: Send) -> None:
    headers = _encode_headers(app.response_headers(response))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    if request.method != "HEAD":
        async for chunk in iterate_chunks(cast(StreamingResponse, response).content):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _send_file(
    app: App[Any],
    request: Request,
    response: Response,
    send: Send,
    plan: tuple[str, int, int],
) -> None:
    path, start, end = plan
    headers = _encode_headers(app.response_headers(response))
    headers.append((b"content-length", str(end - start).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    if request.method != "HEAD":
        async for chunk in read_file_chunks(path, start, end):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def _encode_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


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
