"""A hand-written RSGI app: the floor every framework is compared against.

Routing is a dict lookup, the path parameter is parsed by hand and JSON is encoded per
request with msgspec, as the frameworks do; only the constant plaintext body is prebuilt.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

import msgspec

_encode = msgspec.json.encode
_TEXT = [("content-type", "text/plain; charset=utf-8")]
_JSON = [("content-type", "application/json")]
_HELLO = b"Hello, World!"
_NOT_FOUND = b"Not Found"
_USERS_PREFIX = "/users/"


def _plaintext(protocol: Any, query_string: str) -> None:
    protocol.response_bytes(200, _TEXT, _HELLO)


def _json(protocol: Any, query_string: str) -> None:
    protocol.response_bytes(200, _JSON, _encode({"message": "Hello, World!"}))


def _query(protocol: Any, query_string: str) -> None:
    name = None
    for pair in query_string.split("&"):
        key, _, value = pair.partition("=")
        if unquote_plus(key) == "name":
            name = unquote_plus(value)
            break
    protocol.response_bytes(200, _JSON, _encode({"name": name}))


_ROUTES = {"/plaintext": _plaintext, "/json": _json, "/query": _query}


async def app(scope: Any, protocol: Any) -> None:
    """Serve one HTTP request (RSGI callable)."""
    path: str = scope.path
    handler = _ROUTES.get(path)
    if handler is not None:
        handler(protocol, scope.query_string)
        return
    if path.startswith(_USERS_PREFIX):
        raw_id = path[len(_USERS_PREFIX) :]
        if raw_id.isascii() and raw_id.isdigit():
            protocol.response_bytes(200, _JSON, _encode({"id": int(raw_id)}))
            return
    protocol.response_bytes(404, _TEXT, _NOT_FOUND)
