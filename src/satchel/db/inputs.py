"""What a value from a client must be before it is bound to a column.

Values from query strings and cursors are validated against a column's type
*before* they reach the database, so a bad one is the client's 4xx, never a
driver error and a 500: PostgreSQL refuses a NUL in text, an integer beyond
the column's size, a naive datetime for a ``timestamptz`` (``UTCDateTime``
refuses it too), a label its enum type lacks.

>>> client_value_type(sa.SmallInteger())
typing.Annotated[int, msgspec.Meta(ge=-32768, le=32767)]
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa

__all__ = ["client_value_type"]

# PostgreSQL text cannot hold U+0000.
_TEXT = Annotated[str, msgspec.Meta(pattern="^[^\x00]*$")]


def _int_bits(sql_type: sa.types.TypeEngine[Any]) -> int:
    if isinstance(sql_type, sa.BigInteger):
        return 64
    return 16 if isinstance(sql_type, sa.SmallInteger) else 32


def client_value_type(sql_type: sa.types.TypeEngine[Any]) -> Any:
    """The type (with msgspec constraints) a client's value must have for ``sql_type``.

    Raises:
        TypeError: Values of ``sql_type`` have no Python type a client can send.
    """
    impl = sql_type.impl_instance if isinstance(sql_type, sa.TypeDecorator) else sql_type
    if isinstance(impl, sa.Enum) and impl.enum_class is None:
        return Literal[tuple(impl.enums)]
    try:
        python_type = sql_type.python_type
        if python_type is object:  # a TypeDecorator that does not say: its values are impl's
            python_type = impl.python_type
    except NotImplementedError:
        raise TypeError(f"{sql_type!r} has no Python type to check values against") from None
    if python_type is int:
        limit = 1 << (_int_bits(impl) - 1)
        return Annotated[int, msgspec.Meta(ge=-limit, le=limit - 1)]
    if python_type is str:
        return _TEXT
    if python_type is datetime.datetime:
        return Annotated[datetime.datetime, msgspec.Meta(tz=bool(getattr(impl, "timezone", False)))]
    if python_type in (dict, list, bytes):
        raise TypeError(f"{sql_type!r} values cannot come from a query string or a cursor")
    return python_type
