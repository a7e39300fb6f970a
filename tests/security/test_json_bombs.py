"""Deep or huge JSON: nesting bombs, number bombs, and bodies past the size limit.

JSON is decoded with a depth limit (64 levels by default), every body with a size
limit, and validation reports a bounded number of errors.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from satchel import App, Settings
from tests.security.helpers import answers_quickly, assert_refused, in_chunks
from tests.security.served_app import MAX_BODY, build_app
from tests.support import RawResponse, Receiver, call_asgi

JSON = (b"content-type", b"application/json")
LIMIT = 1 << 20


class Order(msgspec.Struct):
    items: list[int]
    note: object = None


def typed_app() -> App[Any]:
    app = App(settings=Settings(max_body_size=LIMIT, access_log=False))

    @app.post("/order")
    async def order(body: Order) -> int:
        return len(body.items)

    return app


def post(
    app: App[Any], path: str, body: bytes, *headers: tuple[bytes, bytes]
) -> tuple[RawResponse, Receiver]:
    """POST ``body`` as JSON in 64 KiB chunks; return the answer and what was read."""
    receive = Receiver(in_chunks(body))
    result = call_asgi(app, method="POST", path=path, headers=[JSON, *headers], receive=receive)
    return result, receive


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/json", b"[" * 30_000 + b"]" * 30_000),
        ("/json", b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
        ("/order", b'{"items":[],"note":' + b"[" * 400_000 + b"]" * 400_000 + b"}"),
        ("/order", b'{"items":' + b"[" * 400_000 + b"]" * 400_000 + b"}"),
        ("/order", b'{"items":[],"note":' + b'[{"x":' * 100_000),
    ],
    ids=["arrays", "objects", "typed-any", "typed-list", "unterminated"],
)
def test_deeply_nested_json_is_400(path: str, payload: bytes) -> None:
    """orjson CVE-2024-27454 (unbounded recursion crashed the process), jackson-databind
    CVE-2020-36518; Python's ``json`` raises RecursionError, an unhandled 500.
    """
    app = build_app() if path == "/json" else typed_app()
    with answers_quickly():
        result, _ = post(app, path, payload)
    body = assert_refused(result, 400)
    assert "nested deeper than" in body["detail"]


@pytest.mark.parametrize(
    "payload",
    [b"1" + b"0" * 60_000, b"1e" + b"9" * 60_000, b"-" + b"9" * 60_000, b"0." + b"1" * 60_000],
    ids=["integer", "exponent", "negative", "fraction"],
)
def test_number_bombs_are_cheap(payload: bytes) -> None:
    """CPython CVE-2020-10735: converting a huge decimal integer is quadratic."""
    with answers_quickly():
        result, _ = post(build_app(), "/json", payload)
    if payload.startswith(b"0."):
        assert result.status == 200
    else:
        assert_refused(result, 400)


def test_countless_invalid_items_give_a_bounded_error_list() -> None:
    """Validation reports a bounded number of errors, whatever the body holds."""
    payload = b'{"items":[' + b",".join([b'"x"'] * 100_000) + b"]}"
    with answers_quickly():
        result, _ = post(typed_app(), "/order", payload)
    body = assert_refused(result, 422)
    assert len(body["errors"]) <= 50


def test_declared_huge_json_is_413_before_reading() -> None:
    """A ``Content-Length`` over the limit is refused without reading one byte."""
    length = (b"content-length", str(MAX_BODY + 1).encode())
    result, receive = post(build_app(), "/json", b"[" + b"1," * MAX_BODY + b"1]", length)
    assert_refused(result, 413)
    assert receive.handed_out == 0


def test_huge_json_without_length_stops_at_the_limit() -> None:
    """Chunked (no ``Content-Length``): reading stops at the first chunk past the limit."""
    payload = b"[" + b"1," * (4 * MAX_BODY) + b"1]"
    with answers_quickly():
        result, receive = post(build_app(), "/json", payload)
    assert_refused(result, 413)
    assert receive.handed_out <= MAX_BODY // 65536 + 2
