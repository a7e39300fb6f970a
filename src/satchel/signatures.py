"""Reading a handler's (or a provider's) signature into what it needs from a request.

Done once per function at startup. Each parameter becomes an :class:`Input`
(a value read from the path, query, headers, cookies, body or form, with its
validator), a :class:`Special` (the request, the WebSocket, the app) or a
:class:`Needs` (a dependency). Anything else is a configuration error that names
the function and the parameter.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec

from satchel.errors import ConfigurationError
from satchel.params import Dependency, Location, Param
from satchel.typeforms import (
    ModelField,
    is_model,
    is_pydantic,
    is_scalar,
    model_fields,
    sequence_item,
    split_annotated,
    split_optional,
)
from satchel.validation import MsgspecValidator, Validator

__all__ = [
    "NO_HINT",
    "Connection",
    "Input",
    "Needs",
    "Signature",
    "Special",
    "SpecialKind",
    "describe",
    "read_signature",
    "type_hints",
    "validator_for",
]

#: What a plan is built for: an HTTP request, a WebSocket, or no connection (CLI, jobs).
Connection = Literal["http", "websocket", "none"]
#: ``connection``: the Request or WebSocket; ``app``: the App; ``given``: passed by the caller.
SpecialKind = Literal["connection", "app", "given"]

NO_HINT: Any = inspect.Signature.empty
_BODY_METHODS_REFUSED = frozenset({"GET", "HEAD"})
_LAX: frozenset[Location] = frozenset({"path", "query", "header", "cookie", "form"})


@dataclass(frozen=True, slots=True)
class Input:
    """One value read from the request.

    Attributes:
        name: The Python parameter name.
        location: Where the value is read.
        key: Its name there (a header name is lower case).
        type: The declared type, with the marker's constraints folded in.
        required: Whether a request without it is refused.
        default: The value when absent and not required.
        param: The marker (documentation options), or a default one.
        multiple: Read every value of a repeated key (``?tag=a&tag=b``).
        fields: For a model gathering several query/header/cookie/form fields.
        is_file: An ``UploadFile`` (or a list of them) from a multipart form.
    """

    name: str
    location: Location
    key: str
    type: Any
    required: bool
    default: Any
    param: Param
    multiple: bool = False
    fields: tuple[ModelField, ...] | None = None
    is_file: bool = False
    validator: Validator | None = field(default=None, compare=False, repr=False)

    @property
    def converter_checks_all(self) -> bool:
        """A path parameter with no constraints: its route converter alone checks it."""
        return self.location == "path" and (self.type is Any or isinstance(self.type, type))


@dataclass(frozen=True, slots=True)
class Special:
    """A value the framework supplies: the connection, the app, or a caller-given value.

    Attributes:
        default: For a caller-given value, the parameter's default (``msgspec.NODEFAULT``: none).
    """

    kind: SpecialKind
    name: str
    default: Any = msgspec.NODEFAULT


@dataclass(frozen=True, slots=True)
class Needs:
    """A dependency: the value its provider returns or yields."""

    dependency: Dependency
    provider: Callable[..., Any]


Argument = Input | Special | Needs
Kind = Literal["function", "coroutine", "generator", "asyncgen"]


@dataclass(frozen=True, slots=True)
class Signature:
    """What calling ``func`` takes, read once."""

    func: Callable[..., Any]
    where: str
    kind: Kind
    arguments: tuple[tuple[str, Argument], ...]
    return_type: Any


def describe(func: Callable[..., Any]) -> str:
    """``module.qualname`` of a function, for error messages."""
    if isinstance(func, functools.partial):
        return f"partial({describe(func.func)})"
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{getattr(func, '__module__', '?')}.{name}"


def read_signature(
    func: Callable[..., Any],
    *,
    connection: Connection,
    specials: Mapping[type, SpecialKind],
    path_names: Collection[str] = (),
    methods: Collection[str] = (),
    role: str = "handler",
) -> Signature:
    """Read ``func``'s parameters into Inputs, Specials and Needs.

    Args:
        func: A handler or provider (function, class, or callable object).
        connection: What the values come from.
        specials: Types supplied by the framework (``Request``, ``App``...).
        path_names: The route's path parameters.
        methods: The route's methods (a body on GET or HEAD is refused).
        role: "handler" or "provider", for messages.

    Raises:
        ConfigurationError: naming the function and the parameter at fault.
    """
    where = f"{role} {describe(func)}"
    try:
        hints = type_hints(func)
        # Keywords a partial binds are given already: never request inputs.
        bound = func.keywords if isinstance(func, functools.partial) else {}
        parameters = [p for p in inspect.signature(func).parameters.values() if p.name not in bound]
    except Exception as exc:
        raise ConfigurationError(f"Cannot read the signature of {where}: {exc}") from exc
    reader = _Reader(where, connection, specials, path_names, methods)
    arguments = tuple(
        (param.name, reader.argument(param, hints.get(param.name, NO_HINT))) for param in parameters
    )
    return Signature(
        func, where, _kind(_call_target(func)), arguments, hints.get("return", NO_HINT)
    )


def type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The resolved type hints of what calling ``func`` runs.

    A function's own; a class's ``__init__`` (a Struct's fields); a callable
    object's ``__call__``; the function inside a ``functools.partial``.

    Raises:
        Exception: whatever ``typing.get_type_hints`` raises for unresolvable hints.
    """
    while isinstance(func, functools.partial):
        func = func.func
    hints = typing.get_type_hints(_call_target(func), include_extras=True)
    if inspect.isclass(func) and is_model(func):
        # A Struct's __init__ carries no annotations: its fields do.
        hints = {**typing.get_type_hints(func, include_extras=True), **hints}
    return hints


def _call_target(func: Callable[..., Any]) -> Callable[..., Any]:
    if isinstance(func, functools.partial):
        return _call_target(func.func)
    if inspect.isclass(func):
        return func.__init__
    if inspect.isfunction(func) or inspect.ismethod(func):
        return func
    call = getattr(func, "__call__", None)  # noqa: B004 - a callable object's method
    return call if call is not None else func


def _kind(target: Callable[..., Any]) -> Kind:
    if inspect.isasyncgenfunction(target):
        return "asyncgen"
    if inspect.isgeneratorfunction(target):
        return "generator"
    if inspect.iscoroutinefunction(target):
        return "coroutine"
    return "function"


class _Reader:
    def __init__(
        self,
        where: str,
        connection: Connection,
        specials: Mapping[type, SpecialKind],
        path_names: Collection[str],
        methods: Collection[str],
    ) -> None:
        self.where = where
        self.connection = connection
        self.specials = specials
        self.path_names = path_names
        self.methods = methods
        self.seen_keys: dict[tuple[str, str], str] = {}

    def fail(self, name: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"{self.where}, parameter {name!r}: {message}")

    def argument(self, param: inspect.Parameter, hint: Any) -> Argument:
        name = param.name
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise self.fail(name, "*args, **kwargs and positional-only are not supported")
        bare, metadata = split_annotated(hint)
        markers = [m for m in (*metadata, param.default) if isinstance(m, Param | Dependency)]
        if len(markers) > 1:
            raise self.fail(name, "has more than one marker (Query, Header, Depends, ...)")
        marker = markers[0] if markers else None
        if isinstance(marker, Dependency):
            return self._needs(name, marker, bare)
        special = self._special(bare)
        if special is not None:
            if marker is not None:
                raise self.fail(name, f"a {special} cannot take {marker.location} options")
            return Special(special, name)
        # A marker used as the default carries the default; one in Annotated does not.
        default = param.default
        if marker is not None and marker is default:
            default = marker.default
        if default is inspect.Parameter.empty:
            default = msgspec.NODEFAULT
        if self.connection == "none":
            return Special("given", name, default)
        return self._input(name, bare, metadata, marker, default)

    def _needs(self, name: str, marker: Dependency, bare: Any) -> Needs:
        provider = marker.provider if marker.provider is not None else bare
        implicit_ok = inspect.isclass(bare) and bare is not Any and bare is not NO_HINT
        if not callable(provider) or (marker.provider is None and not implicit_ok):
            raise self.fail(name, "Depends() without a provider needs a class annotation")
        return Needs(marker, provider)

    def _special(self, bare: Any) -> SpecialKind | None:
        # In a union the first special member counts: a provider taking
        # ``Request | WebSocket`` gets the connection on both kinds of route.
        union = typing.get_origin(bare) in (typing.Union, types.UnionType)
        members = typing.get_args(bare) if union else (bare,)
        for member in members:
            member = typing.get_origin(member) or member  # App[MyState] is an App
            if not isinstance(member, type):
                continue
            for cls, kind in self.specials.items():
                if issubclass(member, cls):
                    return kind
        return None

    def _input(
        self, name: str, bare: Any, metadata: tuple[Any, ...], marker: Param | None, default: Any
    ) -> Input:
        location = self._location(name, bare, marker)
        param = marker if marker is not None else Param(location)
        key = self._key(name, location, param)
        previous = self.seen_keys.setdefault((location, key), name)
        if previous != name:
            raise self.fail(name, f"reads {location} {key!r}, which {previous!r} reads already")
        if location in ("body", "form"):
            if self.connection != "http":
                raise self.fail(name, f"a {self.connection} handler has no {location}")
            refused = _BODY_METHODS_REFUSED.intersection(self.methods)
            if refused:
                raise self.fail(name, f"reads the {location}, but {sorted(refused)} has no body")
        if bare is NO_HINT:
            if location != "path":
                raise self.fail(name, "has no type annotation")
            bare = Any
        required = default is msgspec.NODEFAULT
        if location == "form" and _is_file_type(bare):
            return Input(name, location, key, bare, required, default, param, is_file=True)
        # Constraints written as msgspec.Meta in the Annotated count as much as the marker's.
        metas = [m for m in (*metadata, param.meta) if isinstance(m, msgspec.Meta)]
        tp = _constrained(bare, metas)
        fields = self._gathered_fields(name, bare, location)
        if fields is None and location not in ("body", "path") and not _is_text_type(bare):
            raise self.fail(
                name, f"a {location} value is text: {bare!r} must be a scalar or a list of them"
            )
        multiple = fields is None and _is_scalar_sequence(bare) and location != "body"
        try:
            # Errors inside a body or a gathering model are named by the field's path.
            base = "" if fields or location == "body" else key
            validator = validator_for(tp, location, base, lax=location in _LAX)
        except (TypeError, ValueError) as exc:
            raise self.fail(name, f"type {bare!r} cannot be validated: {exc}") from None
        return Input(
            name, location, key, tp, required, default, param, multiple, fields, False, validator
        )

    def _location(self, name: str, bare: Any, marker: Param | None) -> Location:
        if name in self.path_names:
            if marker is not None and marker.location != "path":
                raise self.fail(
                    name, f"is a path parameter; it cannot be read from the {marker.location}"
                )
            return "path"
        if marker is not None:
            if marker.location == "path":
                raise self.fail(name, "is marked Path() but the route has no such parameter")
            return marker.location
        if _is_file_type(bare):
            return "form"
        if is_scalar(bare) or _is_scalar_sequence(bare):
            return "query"
        if bare is not NO_HINT and (is_model(bare) or _is_body_container(bare)):
            return "body"
        if bare is NO_HINT:
            raise self.fail(name, "has no type annotation and is not a path parameter")
        raise self.fail(
            name,
            f"cannot tell where {bare!r} comes from; annotate it with Query(), Header(), "
            "Cookie(), Body(), Form() or Depends()",
        )

    def _key(self, name: str, location: Location, param: Param) -> str:
        key = param.options.get("alias", name)
        if location == "header":
            if "alias" not in param.options and param.convert_underscores:
                key = key.replace("_", "-")
            key = key.lower()
        return key

    def _gathered_fields(
        self, name: str, bare: Any, location: Location
    ) -> tuple[ModelField, ...] | None:
        if location in ("body", "path") or not is_model(bare):
            return None
        fields = model_fields(bare) or []
        for f in fields:
            if not (is_scalar(f.type) or _is_scalar_sequence(f.type)):
                raise self.fail(
                    name,
                    f"field {f.name!r} of a {location} model must be a scalar or a list of them",
                )
        if location == "header":
            return tuple(
                ModelField(f.name, f.key.replace("_", "-").lower(), f.type, f.required)
                for f in fields
            )
        return tuple(fields)


def _constrained(bare: Any, metas: list[msgspec.Meta]) -> Any:
    if not metas:
        return bare
    # Inside the Optional: msgspec refuses ``ge`` on ``int | None`` itself.
    inner, optional = split_optional(bare)
    constrained: Any = Annotated[(inner, *metas)]
    return constrained | None if optional else constrained


def _is_file_type(tp: Any) -> bool:
    # A handler annotated with UploadFile has imported satchel.uploads; others never load it.
    uploads = sys.modules.get("satchel.uploads")
    if uploads is None:
        return False
    bare, _ = split_optional(split_annotated(tp)[0])
    item = sequence_item(bare)
    candidate = item if item is not None else bare
    return isinstance(candidate, type) and issubclass(candidate, uploads.UploadFile)


def _is_scalar_sequence(tp: Any) -> bool:
    bare, _ = split_optional(split_annotated(tp)[0])
    item = sequence_item(bare)
    return item is not None and is_scalar(item)


def _is_text_type(tp: Any) -> bool:
    """Whether values of ``tp`` can come from a query parameter, header, cookie or form field."""
    return tp is Any or is_scalar(tp) or _is_scalar_sequence(tp)


def _is_body_container(tp: Any) -> bool:
    bare, _ = split_optional(split_annotated(tp)[0])
    origin = typing.get_origin(bare) or bare
    return origin in (dict, list, tuple, set, frozenset) or typing.get_origin(bare) is Mapping


def validator_for(tp: Any, location: Location, name: str, *, lax: bool) -> Validator:
    """Build the validator for values of ``tp`` found at ``location`` under ``name``.

    Args:
        tp: The type, with its ``Annotated`` constraints.
        location: Where the value comes from, for error reports.
        name: The value's name there (``""`` for a whole JSON body).
        lax: Accept strings for numbers, booleans and dates (query, headers, forms).

    Raises:
        TypeError: msgspec (or pydantic) cannot validate this type.
    """
    if is_pydantic(tp):
        # Loaded only for apps that use pydantic models.
        from satchel.pydantic_validation import PydanticValidator

        return PydanticValidator(tp, location, name)
    return MsgspecValidator(tp, location, name, lax=lax)
