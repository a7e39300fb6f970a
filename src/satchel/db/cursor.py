"""Cursor (keyset) pagination: pages that stay fast and stable however deep they go.

An offset page makes the database walk past every row before it, and shifts
when rows are added; a cursor page asks for the rows *after* the last one
shown (``WHERE (created_at, id) < (:last_created_at, :last_id)``), which an
index on the keys finds directly. The cursor is that last row's key values,
JSON in URL-safe base64: opaque to clients, checked against the keys' column
types when it comes back, so a malformed or edited one is a 400.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.sql import operators

from satchel.db.inputs import client_value_type
from satchel.errors import BadRequest

__all__ = ["CursorPage", "KeyArgument", "cursor_page"]

T = TypeVar("T")
U = TypeVar("U")

#: An ``order_by`` key: a column (ascending) or ``column.desc()`` / ``column.asc()``.
KeyArgument = sa.ColumnElement[Any] | orm.QueryableAttribute[Any]

# Cursors are short; a long one is refused before it is decoded.
_MAX_CURSOR_LENGTH = 2048
_INVALID = "Invalid cursor: ask for the first page again, without one"
_Direction = Literal["next", "previous"]


class CursorPage(msgspec.Struct, Generic[T]):
    """One page of a keyset pagination, serializable as the response of a handler.

    Attributes:
        items: The rows of this page, in the order asked for.
        size: The most rows a page holds.
        next_cursor: Pass it back as ``cursor`` for the rows after these (None: no more).
        previous_cursor: The same for the rows before these (None: this is the first page).
    """

    items: list[T]
    size: int
    next_cursor: str | None
    previous_cursor: str | None

    def map(self, func: Callable[[T], U]) -> CursorPage[U]:
        """The same page with ``func`` applied to each item."""
        items = [func(item) for item in self.items]
        return CursorPage(items, self.size, self.next_cursor, self.previous_cursor)


@dataclass(frozen=True, slots=True)
class _Key:
    expression: sa.ColumnElement[Any]
    descending: bool


class _Keyset:
    """The keys a page is ordered by, and the cursors that point between rows."""

    def __init__(self, order_by: Sequence[KeyArgument]) -> None:
        if not order_by:
            raise ValueError("cursor pagination needs order_by keys, ending with a unique one")
        self.keys = tuple(_key(item) for item in order_by)
        try:
            types = tuple(client_value_type(key.expression.type) for key in self.keys)
        except TypeError as exc:
            raise ValueError(f"cannot paginate by this key: {exc}") from None
        shape: Any = tuple  # a tuple type built at run time: (direction, *key values)
        self._decoder = msgspec.json.Decoder(shape[(_Direction, *types)])

    def select(
        self, statement: sa.Select[Any], values: tuple[Any, ...] | None, backward: bool
    ) -> sa.Select[Any]:
        """``statement`` ordered by the keys, from after ``values``, with the keys' values."""
        if values is not None:
            statement = statement.where(self._beyond(values, backward))
        clauses = [
            key.expression.desc() if key.descending != backward else key.expression.asc()
            for key in self.keys
        ]
        keys = (key.expression for key in self.keys)
        return statement.order_by(None).order_by(*clauses).add_columns(*keys)

    def _beyond(self, values: tuple[Any, ...], backward: bool) -> sa.ColumnElement[bool]:
        bound = [
            sa.literal(value, key.expression.type)
            for key, value in zip(self.keys, values, strict=True)
        ]
        descending = {key.descending != backward for key in self.keys}
        if len(descending) == 1:
            # One direction: a row comparison, which an index on the keys serves directly.
            row = sa.tuple_(*(key.expression for key in self.keys))
            return row < sa.tuple_(*bound) if descending.pop() else row > sa.tuple_(*bound)
        # Mixed directions: the first key beyond, or equal and the second beyond, ...
        beyond = []
        for i, key in enumerate(self.keys):
            ties = [k.expression == value for k, value in zip(self.keys[:i], bound, strict=False)]
            if key.descending != backward:
                beyond.append(sa.and_(*ties, key.expression < bound[i]))
            else:
                beyond.append(sa.and_(*ties, key.expression > bound[i]))
        return sa.or_(*beyond)

    def encode(self, direction: _Direction, values: Sequence[Any]) -> str:
        if any(value is None for value in values):
            raise ValueError("cursor keys must not be NULL: paginate by NOT NULL columns")
        data = msgspec.json.encode((direction, *values))
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def decode(self, cursor: str) -> tuple[bool, tuple[Any, ...]]:
        """Whether the cursor points backward, and the key values it holds.

        Raises:
            BadRequest: The cursor was not made by these keys, or was altered.
        """
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise BadRequest(_INVALID)
        try:
            data = base64.b64decode(cursor + "=" * (-len(cursor) % 4), b"-_", validate=True)
            direction, *values = self._decoder.decode(data)
        except (binascii.Error, ValueError, msgspec.ValidationError):
            raise BadRequest(_INVALID) from None
        return direction == "previous", tuple(values)


def _key(item: KeyArgument) -> _Key:
    expression: Any = item.expression if isinstance(item, orm.QueryableAttribute) else item
    if isinstance(expression, sa.UnaryExpression):
        if expression.modifier not in (operators.asc_op, operators.desc_op):
            raise ValueError("cursor keys are plain columns, ascending or descending")
        return _Key(expression.element, expression.modifier is operators.desc_op)
    return _Key(expression, False)


def cursor_page(
    session: orm.Session,
    statement: sa.Select[Any],
    order_by: Sequence[KeyArgument],
    cursor: str | None,
    size: int,
) -> CursorPage[Any]:
    """The page of ``statement``'s rows that ``cursor`` points to (the first when None)."""
    keyset = _Keyset(order_by)
    backward, values = keyset.decode(cursor) if cursor else (False, None)
    rows = list(session.execute(keyset.select(statement, values, backward).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
    if not rows:
        return CursorPage([], size, None, None)
    count = len(keyset.keys)
    first, last = tuple(rows[0])[-count:], tuple(rows[-1])[-count:]
    # Going forward there is more before whenever a cursor was followed; going back,
    # there is more after.
    after = more if not backward else True
    before = more if backward else cursor is not None
    return CursorPage(
        [row[0] for row in rows],
        size,
        keyset.encode("next", last) if after else None,
        keyset.encode("previous", first) if before else None,
    )
