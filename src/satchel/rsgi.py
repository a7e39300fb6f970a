"""The native RSGI adapter for Granian (faster than ASGI on the same server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, cast

from satchel.accesslog import log_access
from satchel.bodies import iterate_chunks
from satchel.errors import ConfigurationError, HTTPError
from satchel.paths import check_path
from satchel.requests import Request
from satchel.responses import FileResponseBase, Response, StreamingResponse
from satchel.websockets import serve_rsgi_websocket

if TYPE_CHECKING:
    from satchel.app import App

__all__ = ["RSGIRequest", "RSGIServer"]


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

    async def _receive(self) -> AsyncIterator[bytes]:
        async for chunk in self._proto:
            yield chunk

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

    def check_supported(self) -> None:
        """Refuse to start if the app relies on ASGI-only middleware."""
        if self._app.has_asgi_wrappers:
            raise ConfigurationError(
                "This app wraps its ASGI entry in ASGI middleware, which RSGI cannot run; "
                "serve it with --interface asgi"
            )

    def __call__(self, scope: Any, proto: Any) -> Awaitable[None]:
        if scope.proto == "http":
            return self._http(scope, proto)
        return serve_rsgi_websocket(self._app, scope, proto)

    async def _http(self, scope: Any, proto: Any) -> None:
        app = self._app
        if not app._built:
            app.build()
        error: HTTPError | None = None
        try:
            path = check_path(scope.path)
        except HTTPError as exc:
            path, error = "/", exc
        request = RSGIRequest(app, scope, proto, path)
        try:
            if error is None:
                response = await app.handle(request)
            else:
                response = await app.error_response(request, error)
            await _send(app, request, response, proto)
        finally:
            await request.close()
        if app.settings.access_log:
            log_access(request, response.status_code)


async def _send(app: App[Any], request: Request, response: Response, proto: Any) -> None:
    kind = response.body_kind
    status = response.status_code
    if kind == "bytes":
        headers = app.response_headers(response)
        if request.method == "HEAD":
            proto.response_empty(status, [*headers, ("content-length", str(len(response.body)))])
        else:
            proto.response_bytes(status, headers, response.body)
    elif kind == "stream":
        headers = app.response_headers(response)
        transport = proto.response_stream(status, headers)
        if request.method != "HEAD":
            async for chunk in iterate_chunks(cast(StreamingResponse, response).content):
                await transport.send_bytes(chunk)
    else:
        plan = await cast(FileResponseBase, response).prepare(request)
        headers = app.response_headers(response)
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
