"""What a model's columns say about the fields derived from them (see ``ModelSchema``).

- The Python type is the ``Mapped[...]`` annotation when there is one, else the
  column type's ``python_type``, else ``Any``; a nullable column adds ``None``.
- Input fields carry what the column enforces: ``String(n)`` becomes
  ``max_length=n``, a string ``Enum("a", "b")`` a ``Literal``, a timezone-aware
  ``DateTime`` (``UTCDateTime``) a datetime that must carry its zone.
- A column is *generated*, never written by clients, when the database or the ORM
  sets it: an autoincrement or defaulted primary key, a server default
  (``timestamps``), an ``onupdate``, a SQL expression default, ``Computed``,
  ``Identity``, or a ``column_property`` expression.
- Left out of a create body, a column gets its scalar default, ``None`` when it is
  nullable, or stays ``UNSET`` when a Python callable computes its default.
"""

from __future__ import annotations

import datetime
import inspect
import sys
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Mapper

from satchel.typeforms import split_annotated, split_optional

if sys.version_info >= (3, 14):
    import annotationlib

__all__ = ["ColumnInfo", "column_attribute_names", "model_columns"]

# Scalar defaults that cannot be a struct field's default: msgspec only copies empty ones.
_MUTABLE = (list, dict, set, bytearray)


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One column attribute of a model, as the fields derived from it need it."""

    read_type: Any
    input_type: Any
    writable: bool
    primary_key: bool
    deferred: bool
    default: Any


def model_columns(model: type[Any]) -> dict[str, ColumnInfo]:
    """The column attributes of a mapped class, by attribute name, in mapping order.

    Raises:
        TypeError: ``model`` is not a mapped class.
    """
    mapper = _mapper(model)
    found = {}
    for prop in mapper.column_attrs:
        expression = prop.columns[0]
        column = expression if isinstance(expression, sa.Column) else None
        if column is not None and not any(column.table is table for table in mapper.tables):
            column = None  # a column of another table, read through a column_property
        base, optional = split_optional(_python_type(model, prop.key, expression))
        nullable = optional or (column is not None and bool(column.nullable))
        input_type = _constrained(base, expression.type)
        writable = column is not None and not _generated(column)
        default = msgspec.UNSET
        if column is not None and writable:
            default = _create_default(column, nullable)
        found[prop.key] = ColumnInfo(
            read_type=base | None if nullable else base,
            input_type=input_type | None if nullable else input_type,
            writable=writable,
            primary_key=column is not None and column.primary_key,
            deferred=bool(prop.deferred),
            default=default,
        )
    return found


def column_attribute_names(model: type[Any]) -> frozenset[str]:
    """The names of a model's column attributes (what ``to_model`` may set)."""
    return frozenset(prop.key for prop in _mapper(model).column_attrs)


def _mapper(model: type[Any]) -> Mapper[Any]:
    mapper = sa.inspect(model, raiseerr=False)
    if not isinstance(mapper, Mapper):
        raise TypeError(f"{model.__qualname__} is not a mapped SQLAlchemy model")
    return mapper


def _python_type(model: type[Any], key: str, column: Any) -> Any:
    annotation = _mapped_annotation(model, key)
    if annotation is not None:
        return annotation
    try:
        return column.type.python_type
    except NotImplementedError:
        return Any


def _mapped_annotation(model: type[Any], key: str) -> Any | None:
    """``X`` of the ``key: Mapped[X]`` annotation nearest in the model's classes."""
    for cls in model.__mro__:
        own = _own_annotations(cls)
        if key not in own:
            continue
        annotation = own[key]
        if isinstance(annotation, str):
            # In the module's names only: the class's own names are its columns, and a column
            # called ``date`` must not stand for the ``date`` type in ``Mapped[date]``.
            module = sys.modules.get(cls.__module__)
            holder = types.SimpleNamespace(__annotations__={key: annotation})
            names = vars(module) if module else {}
            try:
                hints = typing.get_type_hints(holder, globalns=names, include_extras=True)
            except Exception:  # a name only the model's registry knows: use the column type
                return None
            annotation = hints[key]
        if typing.get_origin(annotation) is not Mapped:
            return None
        return _without_foreign_metadata(typing.get_args(annotation)[0])
    return None


def _own_annotations(cls: type[Any]) -> dict[str, Any]:
    """The annotations written in ``cls``'s body (unevaluated where they are strings)."""
    if sys.version_info >= (3, 14):
        # Evaluated lazily there: a name that is not defined (yet) stays a reference.
        return annotationlib.get_annotations(cls, format=annotationlib.Format.FORWARDREF)
    return inspect.get_annotations(cls)


def _without_foreign_metadata(tp: Any) -> Any:
    """``tp`` without ``Annotated`` metadata meant for SQLAlchemy (a ``mapped_column``)."""
    bare, metadata = split_annotated(tp)
    kept = tuple(item for item in metadata if isinstance(item, msgspec.Meta))
    return Annotated[(bare, *kept)] if kept else bare


def _constrained(base: Any, column_type: Any) -> Any:
    """The input type: ``base`` with the limits the column type enforces."""
    column_type = getattr(column_type, "impl_instance", column_type)  # a TypeDecorator's
    bare, metadata = split_annotated(base)
    if bare is str and isinstance(column_type, sa.Enum) and column_type.enum_class is None:
        return Literal[tuple(column_type.enums)]
    if bare is datetime.datetime and isinstance(column_type, sa.DateTime):
        # A naive value would be refused at flush (UTCDateTime) or read as the server's
        # local time (asyncpg): the client is told to send the zone instead.
        if column_type.timezone and not any(
            isinstance(m, msgspec.Meta) and m.tz is not None for m in metadata
        ):
            return Annotated[base, msgspec.Meta(tz=True)]
        return base
    length = getattr(column_type, "length", None)
    if bare not in (str, bytes) or not isinstance(length, int):
        return base
    if any(isinstance(m, msgspec.Meta) and m.max_length is not None for m in metadata):
        return base  # the annotation's own limit wins
    return Annotated[base, msgspec.Meta(max_length=length)]


def _generated(column: sa.Column[Any]) -> bool:
    """Whether the database or the ORM sets the column, not the client."""
    default = column.default
    if (
        column.server_default is not None
        or column.server_onupdate is not None
        or column.onupdate is not None
        or column.computed is not None
        or column.identity is not None
    ):
        return True
    if default is not None and (default.is_clause_element or default.is_sequence):
        return True
    return column.primary_key and (
        default is not None or column is column.table.autoincrement_column
    )


def _create_default(column: sa.Column[Any], nullable: bool) -> Any:
    """A create field's default: NODEFAULT (required), a value, or UNSET (the model's default)."""
    default = column.default
    if default is None:
        return None if nullable else msgspec.NODEFAULT
    if default.is_scalar:
        value = default.arg  # type: ignore[attr-defined]
        return msgspec.UNSET if isinstance(value, _MUTABLE) else value
    return msgspec.UNSET
