"""A hand-written ASGI 3 app: the ASGI floor, same logic as ``raw_rsgi``.

Routing is a dict lookup, the path parameter is parsed by hand and JSON is encoded per
request with msgspec, as the frameworks do; only the constant plaintext body is prebuilt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

import msgspec

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_encode = msgspec.json.encode
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]
_HELLO = b"Hello, World!"
_NOT_FOUND = b"Not Found"
_USERS_PREFIX = "/users/"


def _plaintext(query_string: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return 200, _TEXT, _HELLO


def _json(query_string: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return 200, _JSON, _encode({"message": "Hello, World!"})


def _query(query_string: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    name = None
    for pair in query_string.decode("latin-1").split("&"):
        key, _, value = pair.partition("=")
        if unquote_plus(key) == "name":
            name = unquote_plus(value)
            break
    return 200, _JSON, _encode({"name": name})


_ROUTES = {"/plaintext": _plaintext, "/json": _json, "/query": _query}


def _route(path: str, query_string: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    handler = _ROUTES.get(path)
    if handler is not None:
        return handler(query_string)
    if path.startswith(_USERS_PREFIX):
        raw_id = path[len(_USERS_PREFIX) :]
        if raw_id.isascii() and raw_id.isdigit():
            return 200, _JSON, _encode({"id": int(raw_id)})
    return 404, _TEXT, _NOT_FOUND


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    """Serve one HTTP request or the lifespan (ASGI 3 callable)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    status, headers, body = _route(scope["path"], scope["query_string"])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
