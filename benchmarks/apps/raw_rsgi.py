"""A hand-written RSGI app: the floor every framework is compared against.

Routing is a dict lookup, the path parameter is parsed by hand and JSON is encoded per
request with msgspec, as the frameworks do; only the constant plaintext body is prebuilt.
The validation suite's endpoints validate with msgspec alone, into the same Structs the
msgspec-based frameworks use: the least any of them can do for the same answer.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote_plus

import msgspec

from benchmarks.apps.customers import Customer, SearchPage, SortOrder, storefront

_encode = msgspec.json.encode
_TEXT = [("content-type", "text/plain; charset=utf-8")]
_JSON = [("content-type", "application/json")]
_HELLO = b"Hello, World!"
_NOT_FOUND = b"Not Found"
_USERS_PREFIX = "/users/"
_decode_customer = msgspec.json.Decoder(Customer).decode


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


class _SearchQuery(msgspec.Struct):
    q: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    order: SortOrder = "relevance"


def _invalid(protocol: Any, exc: msgspec.MsgspecError) -> None:
    protocol.response_bytes(422, _JSON, _encode({"detail": str(exc)}))


async def _validate(scope: Any, protocol: Any) -> None:
    try:
        customer = _decode_customer(await protocol())
    except msgspec.MsgspecError as exc:
        _invalid(protocol, exc)
        return
    protocol.response_bytes(200, _JSON, _encode(customer))


async def _search(scope: Any, protocol: Any) -> None:
    try:
        # Query values are strings: lax conversion turns "20" into 20, as frameworks do.
        params = msgspec.convert(dict(parse_qsl(scope.query_string)), _SearchQuery, strict=False)
    except msgspec.ValidationError as exc:
        _invalid(protocol, exc)
        return
    store = await storefront()
    page = SearchPage(params.q, params.limit, params.order, store.name, store.currency)
    protocol.response_bytes(200, _JSON, _encode(page))


# Looked up after the throughput suite's routes so that its numbers do not change.
_VALIDATION_ROUTES = {"/validate": _validate, "/search": _search}


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
    validation = _VALIDATION_ROUTES.get(path)
    if validation is not None:
        await validation(scope, protocol)
        return
    protocol.response_bytes(404, _TEXT, _NOT_FOUND)
