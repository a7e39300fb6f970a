"""The native RSGI adapter for Granian (faster than ASGI on the same server).

A streamed response stops as soon as Granian reports the client gone
(``proto.client_disconnect()``), and its content iterator is closed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, cast

from satchel.accesslog import log_access
from satchel.errors import BadRequest
from satchel.paths import path_or_error
from satchel.requests import ClientDisconnected, Request, check_length
from satchel.responses import FileResponseBase, Response, StreamingResponse

if TYPE_CHECKING:
    from satchel.app import App

__all__ = ["RSGIRequest", "RSGIServer"]

logger = logging.getLogger("satchel.error")


class RSGIRequest(Request):
    """A request arriving through RSGI."""

    __slots__ = ("_proto", "_scope")

    def __init__(self, app: App[Any], scope: Any, proto: Any, path: str) -> None:
        super().__init__(app, app.request_config, scope.method, path, scope.query_string)
        self._scope = scope
        self._proto = proto

    def _raw_headers(self) -> list[tuple[str, str]]:
        # Granian gives lower-case names already.
        return cast(list[tuple[str, str]], self._scope.headers.items())

    def _host_header(self) -> str | None:
        values: list[str] = self._scope.headers.get_all("host")
        if not values:
            return None
        if len(values) > 1 and any(v != values[0] for v in values):
            raise BadRequest("Conflicting host headers")
        return values[0]

    async def _receive(self) -> AsyncIterator[bytes]:
        # Granian's body iterator ends a complete body with one b"", but yields b"" for
        # a chunk it could not read (a chunked body cut short or malformed) and then b""
        # again: an empty chunk followed by another means the body broke. Passing it on
        # as complete would let a truncated form or upload be processed as if whole
        # (only a declared Content-Length caught that; tests/security/test_request_smuggling).
        ended = False
        async for chunk in self._proto:
            if ended:
                raise ClientDisconnected()
            if chunk:
                yield chunk
            else:
                ended = True

    async def _read_limited(self, limit: int) -> bytes:
        length = self._declared_length(limit)
        if length is None or self._stream_used:
            return await super()._read_limited(limit)
        # A declared, allowed length: Granian hands the whole body over in one call
        # (its framing stops at Content-Length), skipping a chunk-by-chunk generator.
        self._stream_used = True
        try:
            body: bytes = await self._proto()
        except Exception as exc:  # Granian's RSGIProtocolClosed: the client left mid-body
            raise ClientDisconnected() from exc
        check_length(len(body), length)
        return body

    @property
    def _peer(self) -> str:
        client: str = self._scope.client
        host = client.rsplit(":", 1)[0] if ":" in client else client
        return host.strip("[]")

    @property
    def _server_scheme(self) -> str:
        return cast(str, self._scope.scheme)

    @property
    def http_version(self) -> str:
        return cast(str, self._scope.http_version)


class RSGIServer:
    """Serves an App over RSGI: ``__rsgi__`` delegates here."""

    __slots__ = ("_app",)

    def __init__(self, app: App[Any]) -> None:
        self._app = app

    def __call__(self, scope: Any, proto: Any) -> Awaitable[None]:
        if scope.proto == "http":
            return self._http(scope, proto)
        from satchel.websockets import serve_rsgi_websocket

        return serve_rsgi_websocket(self._app, scope, proto)

    async def _http(self, scope: Any, proto: Any) -> None:
        app = self._app
        path, error = path_or_error(None, scope.path)
        request = RSGIRequest(app, scope, proto, path)
        try:
            if error is None:
                response = await app.handle(request)
            else:
                response = await app.error_response(request, error)
            if response.body_kind == "bytes" and request.method != "HEAD":  # the common case
                proto.response_bytes(
                    response.status_code, app.response_headers(request, response), response.body
                )
            else:
                await _send(app, request, response, proto)
        finally:
            if request.holds_resources:
                await request.close()
        if app.settings.access_log:
            log_access(request, response.status_code)


async def _send(app: App[Any], request: Request, response: Response, proto: Any) -> None:
    kind = response.body_kind
    status = response.status_code
    if kind == "bytes":  # only HEAD gets here: other bytes responses are sent inline
        headers = app.response_headers(request, response)
        if status >= 200 and status not in (204, 304):  # RFC 9110 8.6: no length on these
            headers = [*headers, ("content-length", str(len(response.body)))]
        proto.response_empty(status, headers)
    elif kind == "stream":
        await _send_stream(app, request, response, proto)
    else:
        plan = await cast(FileResponseBase, response).prepare(request)
        headers = app.response_headers(request, response)
        if plan is None:
            proto.response_bytes(response.status_code, headers, response.body)
        elif request.method == "HEAD":
            length = str(plan[2] - plan[1])
            proto.response_empty(response.status_code, [*headers, ("content-length", length)])
        else:
            path, start, end = plan
            # Granian's end is exclusive, like ours (tests/test_files.py checks it); without
            # a Content-Length it would send the file chunked.
            sized = [*headers, ("content-length", str(end - start))]
            proto.response_file_range(response.status_code, sized, path, start, end)


async def _send_stream(app: App[Any], request: Request, response: Response, proto: Any) -> None:
    # Loaded on the first streamed response: it brings asyncio's task machinery.
    from satchel.bodies import close_content, iterate_chunks, stream_until_disconnect

    content = cast(StreamingResponse, response).content
    transport = proto.response_stream(response.status_code, app.response_headers(request, response))
    if request.method == "HEAD":
        await close_content(content)
        return
    chunks = iterate_chunks(content)
    await stream_until_disconnect(_send_chunks(transport, chunks), proto.client_disconnect())


async def _send_chunks(transport: Any, chunks: AsyncGenerator[bytes, None]) -> None:
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            try:
                await transport.send_bytes(chunk)
            except RuntimeError as exc:
                # Granian raises RSGIProtocolClosed once the client has gone (matched by
                # name: importing Granian here would load it with satchel).
                if type(exc).__name__ != "RSGIProtocolClosed":
                    raise
                logger.debug("The client disconnected; the streamed response was stopped")
                return
