"""What every exchange with the app shares: the connection, ASGI scopes, the app's task."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = [
    "ASGI_VERSION",
    "ASGICallable",
    "Connection",
    "Message",
    "app_error",
    "build_scope",
    "end_task",
    "next_message",
    "start_app",
    "websocket_scope",
]

Message = MutableMapping[str, Any]
# Any ASGI 3 callable: typed loosely so apps with their own Scope/Receive aliases fit.
ASGICallable = Callable[[Any, Any, Any], Awaitable[None]]

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


@dataclass
class Connection:
    """What every exchange with one app shares."""

    app: ASGICallable
    client: tuple[str, int]
    raise_server_exceptions: bool
    state: dict[str, Any] = field(default_factory=dict)  # the lifespan scope's state


def build_scope(kind: str, request: httpx.Request, conn: Connection) -> Message:
    """The ASGI scope a server would build for ``request`` (``kind``: http or websocket)."""
    url = request.url
    scheme = url.scheme
    if kind == "websocket":
        scheme = "wss" if scheme == "https" else "ws"
    return {
        "type": kind,
        "asgi": dict(ASGI_VERSION),
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


def websocket_scope(
    request: httpx.Request, conn: Connection, subprotocols: Sequence[str] | None
) -> Message:
    """The scope of a WebSocket handshake for ``request``, offering ``subprotocols``."""
    scope = build_scope("websocket", request, conn)
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


def start_app(app: ASGICallable, scope: Message, receive: Any, send: Any) -> asyncio.Task[None]:
    """Run ``app`` for ``scope`` in a task of the running loop."""

    async def run() -> None:
        await app(scope, receive, send)

    return asyncio.create_task(run())


def app_error(task: asyncio.Task[None]) -> BaseException | None:
    """The exception the app raised, if it has ended with one (marks it retrieved)."""
    if not task.done() or task.cancelled():
        return None
    return task.exception()


async def end_task(task: asyncio.Task[None], grace: float | None, limit: float | None) -> None:
    """Give ``task`` ``grace`` seconds to return, then cancel it (waiting at most ``limit``)."""
    if grace != 0:
        await asyncio.wait((task,), timeout=grace)
    if not task.done():
        task.cancel()
        await asyncio.wait((task,), timeout=limit)


async def next_message(queue: asyncio.Queue[Message], task: asyncio.Task[None]) -> Message | None:
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
