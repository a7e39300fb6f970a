"""WebSockets: one :class:`WebSocket` API over ASGI and Granian's RSGI.

A handler registered with ``@app.websocket(path)`` is called with the
:class:`WebSocket` (the parameter annotated ``WebSocket``) and the route's
converted path parameters, by name. The user's guide is docs/websockets.md.

What RSGI (Granian ``--interface rsgi``) cannot express, and what happens
instead: it cannot send a subprotocol or handshake headers, so ``accept()``
with either raises RuntimeError rather than silently answer without them;
after accepting it closes without a code or reason (the client sees 1005),
and it never reports the client's close code (``WebSocketDisconnect.code``
is 1005). Over ASGI, a refused handshake carries its real HTTP status only
where the server offers the ``websocket.http.response`` extension; other
servers answer 403.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    MutableMapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from satchel.accesslog import log_access
from satchel.datastructures import Headers, QueryParams
from satchel.encoding import json_decode, json_encode
from satchel.errors import BadRequest, ConfigurationError, HTTPError
from satchel.headerchecks import check_header
from satchel.injection import Injector, close_exits, resolve
from satchel.params import Dependency
from satchel.paths import path_or_error
from satchel.requests import Request
from satchel.signatures import Special
from satchel.status import reason_phrase

if TYPE_CHECKING:
    from satchel.app import App

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WebSocket",
    "WebSocketCall",
    "WebSocketDisconnect",
    "compile_websocket_handler",
    "serve_asgi_websocket",
    "serve_rsgi_websocket",
]

logger = logging.getLogger("satchel.error")

T = TypeVar("T")

#: The largest incoming message a WebSocket accepts unless told otherwise (1 MiB).
DEFAULT_MAX_MESSAGE_SIZE = 1 << 20

# Close codes (RFC 6455, section 7.4.1).
_NORMAL = 1000
_UNSUPPORTED_DATA = 1003
_NO_STATUS = 1005
_ABNORMAL = 1006
_INVALID_DATA = 1007
_POLICY_VIOLATION = 1008
_TOO_BIG = 1009
_INTERNAL_ERROR = 1011

_CONNECTING, _OPEN, _CLOSED = 0, 1, 2


class WebSocketDisconnect(Exception):
    """The connection is closed: the client left, or the server closed it.

    Raised by the ``receive_*`` and ``send_*`` methods; the ``iter_*``
    methods end quietly instead. A handler may let it escape: the framework
    treats it as a normal end of the connection.

    Attributes:
        code: The close code (1005 when none is known).
        reason: The close reason, if the client sent one.
    """

    def __init__(self, code: int = _NORMAL, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class _Handshake(Request):
    """The handshake's HTTP request: reuses Request's lazy headers, query, cookies and proxies."""

    __slots__ = ("_header_pairs", "_peer_address", "_scheme_name", "_version")

    def __init__(
        self,
        app: App[Any],
        path: str,
        query_string: str,
        headers: list[tuple[str, str]],
        peer: str,
        scheme: str,
        http_version: str,
    ) -> None:
        super().__init__(app, app.request_config, "GET", path, query_string)
        self._header_pairs = headers
        self._peer_address = peer
        # Servers say ws/wss or http/https; Request speaks http/https.
        self._scheme_name = "https" if scheme in ("https", "wss") else "http"
        self._version = http_version

    def _raw_headers(self) -> list[tuple[str, str]]:
        return self._header_pairs

    def _receive(self) -> AsyncIterator[bytes]:
        raise RuntimeError("A WebSocket handshake has no body")

    @property
    def _peer(self) -> str:
        return self._peer_address

    @property
    def _server_scheme(self) -> str:
        return self._scheme_name

    @property
    def http_version(self) -> str:
        return self._version


class WebSocket:
    """A WebSocket connection, the same over ASGI and RSGI.

    Accept it, exchange messages, and close it (the framework closes it with
    1000 if the handler returns without doing so). Incoming messages larger
    than ``max_message_size`` bytes close the connection with 1009; a text
    frame where bytes are expected (or the other way round) closes it with
    1003; both raise :class:`WebSocketDisconnect`.

    Attributes:
        path_params: The route's path parameters, already converted.
        subprotocols: The subprotocols the client offered, in its order.
        max_message_size: The largest incoming message accepted, in bytes;
            set it before receiving to change it for this connection.
    """

    __slots__ = (
        "_close_code",
        "_handshake",
        "_http_status",
        "_state",
        "max_message_size",
        "path_params",
        "subprotocols",
    )

    def __init__(self, handshake: Request, subprotocols: list[str]) -> None:
        self._handshake = handshake
        self.subprotocols = subprotocols
        self.path_params: dict[str, Any] = {}
        self.max_message_size = DEFAULT_MAX_MESSAGE_SIZE
        self._state = _CONNECTING
        self._close_code = _NORMAL
        self._http_status = 403

    # -- what the protocol adapter provides -----------------------------------------------

    async def _accept(self, subprotocol: str | None, headers: list[tuple[str, str]]) -> None:
        raise NotImplementedError

    async def _receive(self) -> str | bytes:
        """Return the next message; raise ``self._gone(code)`` when the client has gone."""
        raise NotImplementedError

    async def _send(self, data: str | bytes) -> None:
        """Send one message; raise ``self._gone(code)`` when the client has gone."""
        raise NotImplementedError

    async def _close(self, code: int, reason: str) -> None:
        raise NotImplementedError

    async def _refuse(self, status: int) -> None:
        """Refuse the handshake, with HTTP ``status`` where the interface can say it."""
        raise NotImplementedError

    def _gone(self, code: int) -> WebSocketDisconnect:
        """Record that the client has gone; return the exception for the adapter to raise."""
        self._mark_closed(code)
        return WebSocketDisconnect(code)

    # -- the handshake ---------------------------------------------------------------------

    @property
    def app(self) -> App[Any]:
        """The application serving the connection."""
        return self._handshake.app

    @property
    def path(self) -> str:
        """The percent-decoded path, e.g. ``"/ws/lobby"``."""
        return self._handshake.path

    @property
    def headers(self) -> Headers:
        """The handshake request's headers."""
        return self._handshake.headers

    @property
    def query_params(self) -> QueryParams:
        """The query-string parameters; 400 (refusing the handshake) if malformed."""
        return self._handshake.query_params

    @property
    def cookies(self) -> dict[str, str]:
        """The handshake request's cookies."""
        return self._handshake.cookies

    @property
    def client(self) -> str:
        """The client's IP address, from X-Forwarded-For only via trusted proxies."""
        return self._handshake.client

    @property
    def state(self) -> dict[str, Any]:
        """Per-connection storage for the handler and its helpers."""
        return self._handshake.state

    # -- the conversation -------------------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Complete the handshake.

        Args:
            subprotocol: One of :attr:`subprotocols` to answer with (ASGI only).
            headers: Extra handshake response headers (ASGI only).

        Raises:
            RuntimeError: already accepted or closed, or the interface (RSGI)
                cannot send ``subprotocol`` or ``headers``.
            ValueError: ``subprotocol`` was not offered by the client.
        """
        if self._state != _CONNECTING:
            raise RuntimeError("The WebSocket is already accepted or closed")
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(f"The client did not offer subprotocol {subprotocol!r}")
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers or ())
        for name, value in pairs:
            check_header(name, value)
        await self._accept(subprotocol, pairs)
        self._state = _OPEN
        self._http_status = 101

    async def receive(self) -> str | bytes:
        """Return the next message: ``str`` for a text frame, ``bytes`` for a binary one.

        Raises:
            WebSocketDisconnect: the connection is closed, or the message was
                larger than :attr:`max_message_size` (closed with 1009).
            RuntimeError: called before :meth:`accept`.
        """
        self._check_open("receiving")
        message = await self._receive()
        if _size_exceeds(message, self.max_message_size):
            await self._fail(_TOO_BIG)
        return message

    async def receive_text(self) -> str:
        """Return the next text message; a binary one closes the connection with 1003."""
        message = await self.receive()
        if not isinstance(message, str):
            await self._fail(_UNSUPPORTED_DATA)
        return message

    async def receive_bytes(self) -> bytes:
        """Return the next binary message; a text one closes the connection with 1003."""
        message = await self.receive()
        if isinstance(message, str):
            await self._fail(_UNSUPPORTED_DATA)
        return message

    async def receive_json(self) -> Any:
        """Return the next message (text or binary) decoded as JSON.

        Malformed or too deeply nested JSON (the app's ``max_json_depth``)
        closes the connection with 1007 and raises WebSocketDisconnect; to
        answer bad input instead, use :meth:`receive_text` and decode it.
        """
        message = await self.receive()
        try:
            return json_decode(message, max_depth=self.app.request_config.max_json_depth)
        except BadRequest:
            await self._fail(_INVALID_DATA)

    def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the connection closes (then end quietly)."""
        return _until_closed(self.receive_text)

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield binary messages until the connection closes (then end quietly)."""
        return _until_closed(self.receive_bytes)

    def iter_json(self) -> AsyncIterator[Any]:
        """Yield decoded JSON messages until the connection closes (then end quietly)."""
        return _until_closed(self.receive_json)

    async def send_text(self, text: str) -> None:
        """Send a text message."""
        await self._transmit(text)

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self._transmit(data)

    async def send_json(self, value: Any) -> None:
        """Send ``value`` (dict, list, msgspec Struct, dataclass, ...) as a JSON text message."""
        await self._transmit(json_encode(value).decode())

    async def close(self, code: int = _NORMAL, reason: str = "") -> None:
        """Close the connection (a no-op once closed).

        Before :meth:`accept` this refuses the handshake instead (HTTP 403).
        """
        if self._state == _CONNECTING:
            await self._refuse_with(403)
        elif self._state == _OPEN:
            await self._close(code, reason)
            self._mark_closed(code)

    # -- internals --------------------------------------------------------------------------------

    async def _transmit(self, data: str | bytes) -> None:
        self._check_open("sending")
        await self._send(data)

    def _check_open(self, action: str) -> None:
        if self._state == _CONNECTING:
            raise RuntimeError(f"Call accept() before {action}")
        if self._state == _CLOSED:
            raise WebSocketDisconnect(self._close_code)

    async def _fail(self, code: int) -> NoReturn:
        await self.close(code)
        raise WebSocketDisconnect(code)

    async def _refuse_with(self, status: int) -> None:
        if self._state == _CONNECTING:
            self._http_status = status
            with contextlib.suppress(WebSocketDisconnect):  # gone already: refused anyway
                await self._refuse(status)
            self._mark_closed(_POLICY_VIOLATION)

    def _mark_closed(self, code: int) -> None:
        if self._state != _CLOSED:
            self._state = _CLOSED
            self._close_code = code

    def __repr__(self) -> str:
        return f"<WebSocket {self.path}>"


async def _until_closed(receive: Callable[[], Awaitable[T]]) -> AsyncIterator[T]:
    try:
        while True:
            yield await receive()
    except WebSocketDisconnect:
        return


def _size_exceeds(message: str | bytes, limit: int) -> bool:
    size = len(message)
    if size > limit:
        return True
    if type(message) is str and not message.isascii() and size * 4 > limit:
        # Characters undercount UTF-8 bytes; encode only when it could matter.
        return len(message.encode()) > limit
    return False


# -- running a handler ---------------------------------------------------------------------------

#: A compiled WebSocket handler; it reads the path parameters from ``ws.path_params``.
WebSocketCall = Callable[["WebSocket"], Awaitable[None]]


def compile_websocket_handler(
    handler: Callable[..., Any],
    path_names: Collection[str],
    injector: Injector | None = None,
    dependencies: Sequence[Dependency] = (),
) -> WebSocketCall:
    """Check ``handler``'s signature once, at startup, and return its call plan.

    The handler must be async and take one parameter annotated ``WebSocket``
    and the route's path parameters; it may also take query parameters,
    headers and cookies of the handshake, and dependencies (``Depends``), whose
    generator teardown runs when the handler returns. ``dependencies`` (the
    route's and its routers') run first, their values unused.

    Raises:
        ConfigurationError: the signature cannot be served, naming the handler.
    """
    where = f"WebSocket handler {getattr(handler, '__qualname__', handler)!r}"
    if not inspect.iscoroutinefunction(handler):
        raise ConfigurationError(f"{where} must be an async function")
    injector = injector if injector is not None else Injector({})
    plan = injector.plan(
        handler,
        connection="websocket",
        specials={WebSocket: "connection"},
        path_names=path_names,
        dependencies=dependencies,
    )
    if not any(
        isinstance(arg, Special) and arg.kind == "connection" for _, arg in plan.signature.arguments
    ):
        raise ConfigurationError(f"{where} has no parameter annotated WebSocket")

    async def call(ws: WebSocket) -> None:
        graph = plan.graph  # replaced when dependency overrides change
        exits: list[Any] = []
        values = await resolve(graph, ws, exits, {}, injector)
        try:
            await handler(**graph.kwargs(values))
        except BaseException as exc:
            await close_exits(exits, exc)
            raise
        await close_exits(exits, None)

    return call


async def _run(ws: WebSocket, call: WebSocketCall, params: dict[str, Any]) -> None:
    ws.path_params = params
    try:
        await call(ws)
    except WebSocketDisconnect:
        pass
    except Exception as exc:
        await _handle_error(ws, exc)
    if ws._state == _CONNECTING:
        await ws._refuse_with(403)
    elif ws._state == _OPEN:
        await ws.close(_NORMAL)


async def _handle_error(ws: WebSocket, exc: Exception) -> None:
    # An HTTPError below 500 is the handler refusing the client on purpose: no traceback.
    deliberate = isinstance(exc, HTTPError) and exc.status_code < 500
    if not deliberate:
        logger.error("Unhandled exception in WebSocket handler for %s", ws.path, exc_info=exc)
    if ws._state == _CONNECTING:
        await ws._refuse_with(exc.status_code if isinstance(exc, HTTPError) else 500)
    elif ws._state == _OPEN:
        await ws.close(_POLICY_VIOLATION if deliberate else _INTERNAL_ERROR)


async def _serve(ws: WebSocket, error: HTTPError | None) -> None:
    # Only the status is kept: holding the caught exception in a local would make a
    # cycle (its traceback holds this frame, which holds ws and the server's protocol
    # object), and Granian keeps a refused connection open until that object is freed,
    # that is until the next garbage collection (tests/security/test_websocket_origin).
    refusal = None if error is None else error.status_code
    if refusal is None:
        try:
            ws.app.check_host(ws._handshake)
            if ws.app.csrf is not None:  # cross-site protection covers WebSockets too
                ws.app.csrf.check_websocket(ws._handshake)
        except HTTPError as exc:
            refusal = exc.status_code
    if refusal is not None:
        await ws._refuse_with(refusal)
    else:
        found = ws.app.websocket_endpoint(ws.path)
        if found is None:
            await ws._refuse_with(404)
        else:
            await _run(ws, *found)
    if ws.app.settings.access_log:
        log_access(ws._handshake, ws._http_status)


# -- ASGI ----------------------------------------------------------------------------------------

_Message = MutableMapping[str, Any]


class _ASGIWebSocket(WebSocket):
    __slots__ = ("_asgi_receive", "_asgi_send", "_can_respond")

    def __init__(
        self,
        handshake: Request,
        scope: _Message,
        receive: Callable[[], Awaitable[_Message]],
        send: Callable[[_Message], Awaitable[None]],
    ) -> None:
        super().__init__(handshake, list(scope.get("subprotocols") or ()))
        self._asgi_receive = receive
        self._asgi_send = send
        self._can_respond = "websocket.http.response" in (scope.get("extensions") or {})

    async def _accept(self, subprotocol: str | None, headers: list[tuple[str, str]]) -> None:
        message: _Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            message["headers"] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        await self._deliver(message)

    async def _receive(self) -> str | bytes:
        message = await self._asgi_receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text: str | None = message.get("text")
            if text is not None:
                return text
            data: bytes | None = message.get("bytes")
            return data if data is not None else b""
        if kind == "websocket.disconnect":
            code: int = message.get("code", _NO_STATUS)
            self._mark_closed(code)
            raise WebSocketDisconnect(code, message.get("reason") or "")
        raise RuntimeError(f"Unexpected ASGI message {kind!r} on a WebSocket")

    async def _send(self, data: str | bytes) -> None:
        key = "text" if type(data) is str else "bytes"
        await self._deliver({"type": "websocket.send", key: data})

    async def _close(self, code: int, reason: str) -> None:
        # OSError: the client has gone already, so there is nothing left to close.
        with contextlib.suppress(OSError):
            await self._asgi_send({"type": "websocket.close", "code": code, "reason": reason})

    async def _refuse(self, status: int) -> None:
        if not self._can_respond:
            # Servers turn a close before accept into HTTP 403.
            await self._close(_POLICY_VIOLATION, "")
            return
        body = reason_phrase(status).encode()
        headers = [
            ("content-type", "text/plain; charset=utf-8"),
            ("content-length", str(len(body))),
            *self.app.default_headers,
        ]
        start = {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
        await self._deliver(start)
        await self._deliver({"type": "websocket.http.response.body", "body": body})

    async def _deliver(self, message: _Message) -> None:
        try:
            await self._asgi_send(message)
        except OSError:
            # ASGI servers raise an OSError subclass once the client is gone.
            raise self._gone(_ABNORMAL) from None


async def serve_asgi_websocket(
    app: App[Any],
    scope: _Message,
    receive: Callable[[], Awaitable[_Message]],
    send: Callable[[_Message], Awaitable[None]],
) -> None:
    """Serve one ASGI ``websocket`` scope with the app's WebSocket routes."""
    if (await receive())["type"] != "websocket.connect":
        return  # the client left before the handshake reached us
    path, error = path_or_error(scope.get("raw_path"), scope["path"])
    client = scope.get("client")
    handshake = _Handshake(
        app,
        path,
        scope.get("query_string", b"").decode("latin-1"),
        [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
        str(client[0]) if client else "",
        str(scope.get("scheme", "ws")),
        str(scope.get("http_version", "1.1")),
    )
    await _serve(_ASGIWebSocket(handshake, scope, receive, send), error)


# -- RSGI ----------------------------------------------------------------------------------------


class _RSGIWebSocket(WebSocket):
    # Granian raises RSGIProtocolClosed / RSGIProtocolError, both RuntimeError
    # subclasses; they are caught as RuntimeError so `import satchel` need not
    # load Granian's extension module.

    __slots__ = ("_proto", "_transport")

    def __init__(self, handshake: Request, proto: Any) -> None:
        offered = handshake.headers.getall("sec-websocket-protocol")
        super().__init__(handshake, [p.strip() for v in offered for p in v.split(",") if p.strip()])
        self._proto = proto
        self._transport: Any = None

    async def _accept(self, subprotocol: str | None, headers: list[tuple[str, str]]) -> None:
        if subprotocol is not None or headers:
            raise RuntimeError(
                "Granian's RSGI interface cannot send a subprotocol or handshake headers; "
                "accept without them or serve the app with --interface asgi"
            )
        try:
            self._transport = await self._proto.accept()
        except RuntimeError:
            raise self._gone(_ABNORMAL) from None

    async def _receive(self) -> str | bytes:
        try:
            message = await self._transport.receive()
        except RuntimeError:
            raise self._gone(_ABNORMAL) from None
        kind = message.kind
        if kind == 2:
            return str(message.data)
        if kind == 1:
            return bytes(message.data)
        raise self._gone(_NO_STATUS)

    async def _send(self, data: str | bytes) -> None:
        try:
            if type(data) is str:
                await self._transport.send_str(data)
            else:
                await self._transport.send_bytes(data)
        except RuntimeError:
            raise self._gone(_ABNORMAL) from None

    async def _close(self, code: int, reason: str) -> None:
        self._proto.close(code)

    async def _refuse(self, status: int) -> None:
        self._proto.close(status)


def serve_rsgi_websocket(app: App[Any], scope: Any, proto: Any) -> Awaitable[None]:
    """Serve one RSGI ``ws`` connection with the app's WebSocket routes."""
    return _serve_rsgi(app, scope, proto)


async def _serve_rsgi(app: App[Any], scope: Any, proto: Any) -> None:
    path, error = path_or_error(None, scope.path)
    client: str = scope.client
    peer = client.rsplit(":", 1)[0] if ":" in client else client
    handshake = _Handshake(
        app,
        path,
        scope.query_string,
        list(scope.headers.items()),
        peer.strip("[]"),
        scope.scheme,
        scope.http_version,
    )
    await _serve(_RSGIWebSocket(handshake, proto), error)
