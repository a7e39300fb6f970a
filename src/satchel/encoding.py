"""JSON encoding and bounded decoding (msgspec underneath)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from satchel.defaults import MAX_JSON_DEPTH
from satchel.errors import BadRequest

__all__ = ["check_json_depth", "json_decode", "json_encode"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()

# Brackets outside strings; a string token is consumed whole so brackets inside
# it never count.
# An unclosed string matches to the end of the body (the closing quote is
# optional), so a body of unbalanced quotes is still scanned once, not once per quote.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def json_encode(value: Any) -> bytes:
    """Encode ``value`` (dicts, lists, msgspec Structs, dataclasses, ...) to JSON bytes.

    >>> json_encode({"id": 1})
    b'{"id":1}'
    """
    return _encoder.encode(value)


def json_decode(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode JSON, refusing malformed or too deeply nested documents with 400.

    >>> json_decode(b'{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> json_decode(b"[[[1]]]", max_depth=2)
    Traceback (most recent call last):
    ...
    satchel.errors.BadRequest: 400: JSON nested deeper than 2 levels
    """
    raw = data.encode() if isinstance(data, str) else data
    check_json_depth(raw, max_depth)
    try:
        return _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"Malformed JSON: {exc}") from None
    except msgspec.ValidationError as exc:  # a number too large even for a float
        raise BadRequest(f"Unreadable JSON: {exc}") from None
    except UnicodeDecodeError:
        raise BadRequest("Malformed JSON: a string is not valid UTF-8") from None


def check_json_depth(raw: bytes, max_depth: int) -> None:
    """Refuse, with 400, a JSON document nested deeper than ``max_depth`` (one linear scan)."""
    if _may_exceed_depth(raw, max_depth) and _exceeds_depth(raw, max_depth):
        raise BadRequest(f"JSON nested deeper than {max_depth} levels")


def _may_exceed_depth(raw: bytes, max_depth: int) -> bool:
    # Cheap pre-check: a document with no more openers than the limit cannot
    # nest deeper, so the common small body skips the scan.
    return raw.count(b"[") + raw.count(b"{") > max_depth


def _exceeds_depth(raw: bytes, max_depth: int) -> bool:
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False
