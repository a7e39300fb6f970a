"""Turning a handler's return value into a response, as its return annotation says.

``-> Item`` means the body is an ``Item``: a value of exactly that type is
encoded as is, anything else (a subclass with more fields, a dict, an ORM row)
is converted to ``Item`` first, which drops undeclared fields, so a handler
cannot leak a field its signature does not promise. A value that cannot become
an ``Item`` is a server bug: 500, logged.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any

import msgspec

from satchel.encoding import json_encode
from satchel.errors import ConfigurationError
from satchel.responses import JSONResponse, PlainTextResponse, Response
from satchel.typeforms import is_pydantic, model_fields, split_annotated

__all__ = [
    "ResponseValidationError",
    "Serializer",
    "response_type",
    "serializer_for",
    "to_response",
]

Serializer = Callable[[Any], Response]

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"
_OCTETS = "application/octet-stream"
# Annotations that keep the plain conversion rules of ``to_response``.
_UNTYPED: tuple[Any, ...] = (Any, object, str, bytes, type(None), None, inspect.Signature.empty)


class ResponseValidationError(Exception):
    """A handler returned a value that does not match its return annotation (a 500)."""


def response_type(annotation: Any) -> Any | None:
    """The type a handler's body is documented and filtered as, or None for untyped returns."""
    bare, _ = split_annotated(annotation)
    if bare in _UNTYPED or bare is typing.NoReturn:
        return None
    if isinstance(bare, type) and issubclass(bare, Response):
        return None
    origin = typing.get_origin(bare)
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(bare)
        values = [a for a in members if not (isinstance(a, type) and issubclass(a, Response))]
        if len(values) < len(members):
            # ``-> User | RedirectResponse``: a Response passes through as it is, but any
            # other value is still filtered to the other members, or a row would leak.
            return response_type(typing.Union[tuple(values)]) if values else None  # noqa: UP007
    if (
        origin is not None
        and isinstance(origin, type)
        and issubclass(origin, AsyncIterable | Iterable)
        and not issubclass(origin, list | tuple | set | frozenset | dict)
    ):
        return None
    return annotation


def serializer_for(annotation: Any, status_code: int, where: str) -> Serializer:
    """Build the function that turns return values into responses.

    Raises:
        ConfigurationError: the annotation names a type that cannot be encoded.
    """
    tp = response_type(annotation)
    if tp is None:
        if status_code == 200:
            return to_response
        return functools.partial(to_response, status_code=status_code)
    if is_pydantic(tp):
        # Loaded only for apps that use pydantic models.
        from satchel.pydantic_validation import PydanticSerializer

        return _typed(_naming(PydanticSerializer(tp), where, annotation), status_code)
    try:
        msgspec.json.Decoder(tp)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{where}: the return annotation {annotation!r} cannot be serialized: {exc}"
        ) from None
    exact = _direct_type(tp)
    nested = _nested_models(tp)
    generic = _generic_models(tp)
    encode = msgspec.json.Encoder().encode

    def dump(value: Any) -> bytes:
        # A value of exactly the declared type is encoded as is unless a model inside it
        # has a subclass somewhere in the program: only then could a nested field hold
        # an instance with undeclared fields (checked per call: subclasses appear late).
        if type(value) is exact and (not nested or not any(c.__subclasses__() for c in nested)):
            return encode(value)
        try:
            if generic:
                value = _opened(value, generic)
            checked = msgspec.convert(value, tp, from_attributes=True)
            if nested:
                # convert keeps a value of the exact declared type as it is, so a subclass
                # instance nested in it would keep its extra fields; builtins drop them.
                builtins = msgspec.to_builtins(checked, builtin_types=(msgspec.Raw,))
                checked = msgspec.convert(builtins, tp)
            return encode(checked)
        except msgspec.ValidationError as exc:
            raise ResponseValidationError(
                f"{where} returned a value that is not a {annotation!r}: {exc}"
            ) from None

    return _typed(dump, status_code)


def _naming(dump: Callable[[Any], bytes], where: str, annotation: Any) -> Callable[[Any], bytes]:
    """Report ``dump``'s failures (pydantic's are ValueErrors) as ResponseValidationError."""

    def named(value: Any) -> bytes:
        try:
            return dump(value)
        except ValueError as exc:
            raise ResponseValidationError(
                f"{where} returned a value that is not a {annotation!r}: {exc}"
            ) from None

    return named


def _direct_type(tp: Any) -> type | None:
    """The type whose values are encoded without conversion: the declared class itself,
    or the container of a model-free annotation (``dict[str, int]``), where converting
    could only re-check types, never drop an undeclared field."""
    bare = split_annotated(tp)[0]
    if isinstance(bare, type):
        return bare
    origin = typing.get_origin(bare)
    if origin in (dict, list, tuple, set, frozenset) and not _contains_models(bare):
        return typing.cast(type, origin)
    return None


def _contains_models(tp: Any) -> bool:
    bare = split_annotated(tp)[0]
    if model_fields(bare) is not None:
        return True
    return any(_contains_models(arg) for arg in typing.get_args(bare) if arg is not ...)


def _nested_models(tp: Any) -> tuple[type, ...]:
    """The model classes that fields of models within ``tp`` can hold."""
    seen: set[Any] = set()
    nested: list[type] = []

    def visit(t: Any, in_model: bool) -> None:
        bare = split_annotated(t)[0]
        fields = model_fields(bare)
        if fields is None:
            for arg in typing.get_args(bare):
                if arg is not ...:
                    visit(arg, in_model)
            return
        if in_model and bare not in nested:
            nested.append(bare)
        if bare in seen:
            return
        seen.add(bare)
        for f in fields:
            visit(f.type, True)

    visit(tp, False)
    return tuple(nested)


def _generic_models(tp: Any) -> tuple[type, ...]:
    """The generic model classes ``tp`` declares with parameters (``Page`` of ``Page[Item]``)."""
    found: list[type] = []

    def visit(t: Any) -> None:
        bare = split_annotated(t)[0]
        origin = typing.get_origin(bare)
        if isinstance(origin, type) and model_fields(origin) is not None and origin not in found:
            found.append(origin)
        for arg in typing.get_args(bare):
            if arg is not ...:
                visit(arg)

    visit(tp)
    return tuple(found)


def _opened(value: Any, generic: tuple[type, ...]) -> Any:
    """``value`` with each instance of a ``generic`` class turned into a plain namespace.

    ``convert`` keeps an instance of the declared class as it is without looking at its
    type parameters, so a ``Page`` of ORM rows or of subclasses with undeclared fields
    declared ``Page[Item]`` would be encoded unfiltered; a namespace is converted field
    by field instead.
    """
    if isinstance(value, generic):
        fields = model_fields(type(value)) or ()
        return types.SimpleNamespace(
            **{f.name: _opened(getattr(value, f.name), generic) for f in fields}
        )
    if type(value) in (list, tuple):
        return type(value)(_opened(item, generic) for item in value)
    if type(value) is dict:
        return {key: _opened(item, generic) for key, item in value.items()}
    return value


def _typed(dump: Callable[[Any], bytes], status_code: int) -> Serializer:
    def serialize(value: Any) -> Response:
        if isinstance(value, Response):
            return value
        return JSONResponse.make(dump(value), status_code, _JSON)

    return serialize


def to_response(value: Any, status_code: int = 200) -> Response:
    """Turn a handler's return value into a Response.

    ``str`` becomes text/plain, ``bytes`` application/octet-stream, ``None``
    an empty 204 (or ``status_code`` if set), a Response passes through, and
    anything else (dict, list, msgspec Struct, dataclass, ...) is JSON.

    >>> to_response({"id": 1}).body, to_response("hi").headers["content-type"]
    (b'{"id":1}', 'text/plain; charset=utf-8')
    """
    kind = type(value)
    if kind is str:
        return PlainTextResponse.make(value.encode(), status_code, _TEXT)
    if isinstance(value, Response):
        return value
    if kind is bytes:
        return Response.make(value, status_code, _OCTETS)
    if value is None:
        return Response.make(b"", 204 if status_code == 200 else status_code, None)
    if isinstance(value, str):  # str subclasses (enums, slugs, ...)
        return PlainTextResponse.make(str(value).encode(), status_code, _TEXT)
    if isinstance(value, bytes | bytearray | memoryview):
        return Response.make(bytes(value), status_code, _OCTETS)
    return JSONResponse.make(json_encode(value), status_code, _JSON)
