"""Questions about type annotations, asked once at startup by handler compilation.

Which kind of type is this (a scalar for a query string, a model for a body,
a list of either), which fields does a model have, is ``None`` allowed.
Pydantic is consulted only when the application has already imported it.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import sys
import types
import typing
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

__all__ = [
    "ModelField",
    "is_model",
    "is_pydantic",
    "is_scalar",
    "model_fields",
    "sequence_item",
    "split_annotated",
    "split_optional",
]

_SCALARS: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    decimal.Decimal,
    uuid.UUID,
    datetime.date,
    datetime.datetime,
    datetime.time,
    datetime.timedelta,
    enum.Enum,
)
_SEQUENCES = (list, tuple, set, frozenset)


@dataclass(frozen=True, slots=True)
class ModelField:
    """One field of a model: its attribute name, wire name, type and whether it is required."""

    name: str
    key: str
    type: Any
    required: bool


def split_annotated(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """Return the bare type and the ``Annotated`` metadata (empty when not annotated)."""
    if get_origin(tp) is Annotated:
        args = get_args(tp)
        return args[0], tuple(args[1:])
    return tp, ()


def split_optional(tp: Any) -> tuple[Any, bool]:
    """Return the type without ``None`` and whether ``None`` was allowed.

    >>> split_optional(int | None)
    (<class 'int'>, True)
    """
    if get_origin(tp) in (Union, types.UnionType):
        args = get_args(tp)
        rest = tuple(a for a in args if a is not type(None))
        if len(rest) < len(args):
            inner = rest[0] if len(rest) == 1 else Union[rest]  # noqa: UP007
            return inner, True
    return tp, False


def sequence_item(tp: Any) -> Any | None:
    """The item type of ``list[X]``, ``tuple[X, ...]``, ``set[X]`` (None for other types)."""
    bare, _ = split_annotated(tp)
    origin = get_origin(bare) or bare
    if origin not in _SEQUENCES:
        return None
    args = get_args(bare)
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return None
    return args[0] if args else Any


def is_scalar(tp: Any) -> bool:
    """Whether a single string (a query value, a header) can hold a value of ``tp``."""
    bare, _ = split_annotated(tp)
    bare, _ = split_optional(bare)
    bare, _ = split_annotated(bare)  # Optional[Annotated[str, Meta(...)]]
    if get_origin(bare) is Literal:
        return True
    if get_origin(bare) in (Union, types.UnionType):
        return all(is_scalar(a) for a in get_args(bare))
    return isinstance(bare, type) and issubclass(bare, _SCALARS)


def is_pydantic(tp: Any) -> bool:
    """Whether ``tp`` is (or contains) a pydantic model; False when pydantic was never imported."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return False
    bare, _ = split_annotated(tp)
    if isinstance(bare, type) and issubclass(bare, pydantic.BaseModel):
        return True
    return any(is_pydantic(arg) for arg in get_args(bare) if arg is not Ellipsis)


def is_model(tp: Any) -> bool:
    """Whether ``tp`` is a msgspec Struct, a dataclass, a TypedDict or a pydantic model."""
    bare, _ = split_annotated(tp)
    bare, _ = split_optional(bare)
    if not isinstance(bare, type):
        return False
    return (
        issubclass(bare, msgspec.Struct)
        or dataclasses.is_dataclass(bare)
        or typing.is_typeddict(bare)
        or is_pydantic(bare)
    )


def model_fields(tp: Any) -> list[ModelField] | None:
    """The fields of a model type, or None when ``tp`` is not a model.

    >>> class Page(msgspec.Struct):
    ...     number: int = 1
    >>> model_fields(Page)
    [ModelField(name='number', key='number', type=<class 'int'>, required=False)]
    """
    bare, _ = split_annotated(tp)
    bare, _ = split_optional(bare)
    if not is_model(bare):
        return None
    if issubclass(bare, msgspec.Struct):
        return [
            ModelField(f.name, f.encode_name, f.type, f.required)
            for f in msgspec.structs.fields(bare)
        ]
    hints = typing.get_type_hints(bare, include_extras=True)
    if dataclasses.is_dataclass(bare):
        return [
            ModelField(
                f.name,
                f.name,
                hints[f.name],
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            )
            for f in dataclasses.fields(bare)
            if f.init
        ]
    if typing.is_typeddict(bare):
        required = bare.__required_keys__
        return [ModelField(name, name, hint, name in required) for name, hint in hints.items()]
    return [
        ModelField(name, info.alias or name, info.annotation, info.is_required())
        for name, info in bare.model_fields.items()
    ]
