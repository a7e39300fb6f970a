"""Per-input extractors: small closures, built at startup, that read and validate one value.

An extractor is called as ``extract(connection, payload)`` where ``payload`` is
the request's JSON body bytes or parsed form (read once for all inputs), and
returns the value or raises :class:`~satchel.validation.Invalid`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from satchel.signatures import Input
from satchel.typeforms import sequence_item, split_optional
from satchel.validation import FieldError, Invalid

__all__ = ["EMPTY_BODY", "Extractor", "make_extractor"]

Extractor = Callable[[Any, Any], Any]

#: The payload of a request whose body is empty (required bodies answer 422).
EMPTY_BODY = b""

_PLAIN_STRINGS = (str, Any)


def make_extractor(inp: Input) -> Extractor:
    """Build the extractor for ``inp``."""
    if inp.location == "body":
        return _body(inp)
    if inp.is_file:
        return _files(inp)
    if inp.fields is not None:
        return _gathered(inp)
    if inp.location == "path":
        return _path(inp)
    return _single(inp)


def _default(inp: Input) -> Callable[[], Any]:
    """Return a function giving the default (a fresh copy when it is mutable)."""
    name, location = inp.key, inp.location
    if inp.required:

        def missing() -> Any:
            raise Invalid([FieldError(location, name, "Field required")])

        return missing
    default = inp.default
    if isinstance(default, list | dict | set):
        return lambda: copy.deepcopy(default)
    return lambda: default


def _path(inp: Input) -> Extractor:
    key = inp.key
    if inp.param.meta is None:
        return lambda conn, payload: conn.path_params[key]
    convert = inp.validator.convert  # type: ignore[union-attr]
    return lambda conn, payload: convert(conn.path_params[key])


def _source(inp: Input) -> Callable[[Any, Any], Any]:
    """Return ``source(conn, payload)``: the mapping the input's values live in."""
    location = inp.location
    if location == "query":
        return lambda conn, payload: conn.query_params
    if location == "header":
        return lambda conn, payload: conn.headers
    if location == "cookie":
        return lambda conn, payload: conn.cookies
    return lambda conn, payload: payload  # form


def _single(inp: Input) -> Extractor:
    key, default, source = inp.key, _default(inp), _source(inp)
    convert = inp.validator.convert  # type: ignore[union-attr]
    if inp.multiple:
        if inp.location == "cookie":  # one value per cookie name
            return lambda conn, payload: _many_cookie(source(conn, payload), key, default, convert)

        def extract_all(conn: Any, payload: Any) -> Any:
            values = source(conn, payload).getall(key)
            return convert(_strings(values, inp)) if values else default()

        return extract_all
    plain = inp.type in _PLAIN_STRINGS and inp.location != "form"

    def extract(conn: Any, payload: Any) -> Any:
        value = source(conn, payload).get(key)
        if value is None:
            return default()
        return value if plain else convert(_string(value, inp))

    return extract


def _many_cookie(cookies: Any, key: str, default: Callable[[], Any], convert: Any) -> Any:
    value = cookies.get(key)
    return default() if value is None else convert([value])


def _string(value: Any, inp: Input) -> Any:
    # Form values are text or UploadFile; uploads stay unimported until a form is parsed.
    if not isinstance(value, str):
        raise Invalid([FieldError(inp.location, inp.key, "Expected a text field, got a file")])
    return value


def _strings(values: list[Any], inp: Input) -> list[Any]:
    return [_string(v, inp) for v in values]


def _gathered(inp: Input) -> Extractor:
    """A model whose fields are separate query parameters, headers, cookies or form fields."""
    source, convert = _source(inp), inp.validator.convert  # type: ignore[union-attr]
    fields = inp.fields or ()
    many = {f.key for f in fields if sequence_item(f.type) is not None}
    keys = [f.key for f in fields]
    cookies = inp.location == "cookie"

    def extract(conn: Any, payload: Any) -> Any:
        values = source(conn, payload)
        data: dict[str, Any] = {}
        for key in keys:
            if key in many and not cookies:
                found = values.getall(key)
                if found:
                    data[key] = _strings(found, inp)
            else:
                value = values.get(key)
                if value is not None:
                    data[key] = [value] if key in many else _string(value, inp)
        return convert(data)

    return extract


def _body(inp: Input) -> Extractor:
    default, decode = _default(inp), inp.validator.decode_json  # type: ignore[union-attr]

    def extract(conn: Any, payload: bytes) -> Any:
        if not payload:
            if inp.required:
                raise Invalid([FieldError("body", "", "A JSON body is required")])
            return default()
        return decode(payload)

    return extract


def _files(inp: Input) -> Extractor:
    key, default = inp.key, _default(inp)
    many = sequence_item(split_optional(inp.type)[0]) is not None

    def extract(conn: Any, payload: Any) -> Any:
        found = payload.getall(key)
        if not found:
            return default()
        if any(isinstance(v, str) for v in found):
            raise Invalid([FieldError("form", key, "Expected a file upload")])
        if many:
            return found
        return found[0]

    return extract
