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
from satchel.typeforms import model_fields, sequence_item, split_annotated, split_optional
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
    if inp.type in _PLAIN_STRINGS:
        return lambda conn, payload: conn.path_params[key]
    # Converted by the route's converter, which the handler's annotation chose; a
    # dependency reading the same parameter may want another type.
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


def _string(value: Any, inp: Input, key: str | None = None) -> Any:
    # Form values are text or UploadFile; uploads stay unimported until a form is parsed.
    if not isinstance(value, str):
        name = inp.key if key is None else key
        raise Invalid([FieldError(inp.location, name, "Expected a text field, got a file")])
    return value


def _strings(values: list[Any], inp: Input, key: str | None = None) -> list[Any]:
    return [_string(v, inp, key) for v in values]


def _gathered(inp: Input) -> Extractor:
    """A model whose fields are separate query parameters, headers, cookies or form fields."""
    source, convert = _source(inp), inp.validator.convert  # type: ignore[union-attr]
    fields = inp.fields or ()
    many = {f.key for f in fields if _is_sequence(f.type)}
    # Wire names (``x-request-id``) differ from the model's keys (``x_request_id``) for headers.
    model_keys = {f.key: m.key for f, m in zip(fields, model_fields(inp.type) or (), strict=True)}
    wire_names = {m: w for w, m in model_keys.items() if m != w}
    cookies = inp.location == "cookie"
    absent = None if inp.required else _default(inp)

    def extract(conn: Any, payload: Any) -> Any:
        values = source(conn, payload)
        data: dict[str, Any] = {}
        for key, model_key in model_keys.items():
            if key in many and not cookies:
                found = values.getall(key)
                if found:
                    data[model_key] = _strings(found, inp, key)
            else:
                value = values.get(key)
                if value is not None:
                    data[model_key] = [value] if key in many else _string(value, inp, key)
        if not data and absent is not None:
            # None of the model's fields was sent: the parameter's own default applies.
            return absent()
        if not wire_names:
            return convert(data)
        try:
            return convert(data)
        except Invalid as exc:
            raise Invalid([_on_wire(error, wire_names) for error in exc.errors]) from None

    return extract


def _is_sequence(tp: Any) -> bool:
    return sequence_item(split_optional(split_annotated(tp)[0])[0]) is not None


def _on_wire(error: FieldError, wire_names: dict[str, str]) -> FieldError:
    """Name ``error`` by the header it came from (``x_tags[0]`` -> ``x-tags[0]``)."""
    head = error.name.partition("[")[0]
    wire = wire_names.get(head)
    if wire is None:
        return error
    return FieldError(error.location, wire + error.name[len(head) :], error.message)


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
    many = _is_sequence(inp.type)

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
