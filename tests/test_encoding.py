"""Tests for JSON encoding and bounded decoding."""

from __future__ import annotations

import dataclasses
import datetime
import time
import uuid

import msgspec
import pytest

from satchel import BadRequest
from satchel.encoding import json_decode, json_encode


def test_encode_common_types() -> None:
    class Point(msgspec.Struct):
        x: int
        y: int

    @dataclasses.dataclass
    class Named:
        name: str
        when: datetime.date

    assert json_encode({"id": 1, "ok": True, "none": None}) == b'{"id":1,"ok":true,"none":null}'
    assert json_encode([Point(1, 2)]) == b'[{"x":1,"y":2}]'
    assert json_encode(Named("a", datetime.date(2024, 1, 2))) == b'{"name":"a","when":"2024-01-02"}'
    assert json_encode(uuid.UUID(int=1)) == b'"00000000-0000-0000-0000-000000000001"'
    assert json_encode("caf\u00e9 <\u2028>") == '"caf\u00e9 <\u2028>"'.encode()
    with pytest.raises(TypeError):
        json_encode(object())


def test_decode() -> None:
    assert json_decode(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert json_decode('"text"') == "text"
    assert json_decode(b"  7 ") == 7


@pytest.mark.parametrize("data", [b"", b"{", b"[1,]", b"{'a': 1}", b"NaN", b"1 2", b"\xff"])
def test_decode_malformed_is_400(data: bytes) -> None:
    with pytest.raises(BadRequest, match="Malformed JSON"):
        json_decode(data)


def test_depth_limit() -> None:
    assert json_decode(b"[[1]]", max_depth=2) == [[1]]
    assert json_decode(b'[{"a": 1}, {"b": [2]}]', max_depth=3) == [{"a": 1}, {"b": [2]}]
    with pytest.raises(BadRequest, match="nested deeper than 2 levels"):
        json_decode(b"[[[1]]]", max_depth=2)
    with pytest.raises(BadRequest, match="nested deeper than 2 levels"):
        json_decode(b'{"a": {"b": {"c": 1}}}', max_depth=2)


def test_depth_counts_only_brackets_outside_strings() -> None:
    data = b'["[[[[", "\\"[[[[", {"k]]": "{{{{"}]'
    assert json_decode(data, max_depth=2) == ["[[[[", '"[[[[', {"k]]": "{{{{"}]


def test_siblings_do_not_add_depth() -> None:
    data = b"[" + b"[1]," * 500 + b"[1]]"
    assert len(json_decode(data, max_depth=2)) == 501


def test_hostile_depth_is_refused_before_decoding() -> None:
    with pytest.raises(BadRequest, match="nested deeper"):
        json_decode(b"[" * 1_000_000, max_depth=64)


def test_depth_scan_is_linear_for_unclosed_strings() -> None:
    # Each '\\"' used to restart the string pattern: 64 KB took ~9 s on the event loop.
    body = b'"' + b'\\"' * 200_000 + b"[" * 65
    started = time.perf_counter()
    with pytest.raises(BadRequest):
        json_decode(body)
    assert time.perf_counter() - started < 2.0  # generous: linear is milliseconds


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b'"\xff"', "not valid UTF-8"), (b"1e999", "Number out of range")],
)
def test_undecodable_json_is_a_400(body: bytes, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        json_decode(body)
