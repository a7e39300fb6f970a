"""One readable line per difference Alembic's autogenerate finds between database and models.

``+`` is in the models but not the database, ``-`` in the database but not the
models, ``~`` differs (database value, then the models').
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

__all__ = ["describe"]


def describe(difference: Any) -> list[str]:
    """Lines for one item of ``alembic.autogenerate.compare_metadata``'s result.

    Changes to one column come grouped in a list; each gets its own line.

    >>> table = sa.Table("post", sa.MetaData(), sa.Column("id", sa.Integer))
    >>> describe(("add_table", table))
    ['+ table post']
    >>> describe([("modify_nullable", None, "post", "title", {}, True, False)])
    ['~ column post.title: NULL -> NOT NULL']
    """
    if isinstance(difference, list):
        return [line for part in difference for line in describe(part)]
    kind, *args = difference
    sign = {"add": "+", "remove": "-"}.get(kind.split("_")[0], "~")
    what = _DESCRIBERS.get(kind.partition("_")[2])
    text = what(*args) if what is not None else f"{kind} {args!r}"
    return [f"{sign} {text}"]


def _table(table: sa.Table) -> str:
    return f"table {_qualified(table.schema, table.name)}"


def _column(schema: str | None, table: str, column: sa.Column[Any]) -> str:
    return f"column {_qualified(schema, table)}.{column.name} ({column.type})"


def _index(index: sa.Index) -> str:
    unique = "unique " if index.unique else ""
    return f"{unique}index {_name(index)} on {_on(index.table, index.columns)}"


def _constraint(constraint: sa.Constraint) -> str:
    kind = {
        sa.UniqueConstraint: "unique constraint",
        sa.CheckConstraint: "check constraint",
        sa.PrimaryKeyConstraint: "primary key",
    }.get(type(constraint), "constraint")
    columns = getattr(constraint, "columns", ())
    return f"{kind} {_name(constraint)} on {_on(constraint.table, columns)}"


def _foreign_key(constraint: sa.ForeignKeyConstraint) -> str:
    referred = ", ".join(element.target_fullname for element in constraint.elements)
    on = _on(constraint.table, constraint.columns)
    return f"foreign key {_name(constraint)} on {on} -> {referred}"


def _column_change(label: Callable[[Any], str]) -> Callable[..., str]:
    def change(
        schema: str | None, table: str, column: str, existing: Any, old: Any, new: Any
    ) -> str:
        return f"column {_qualified(schema, table)}.{column}: {label(old)} -> {label(new)}"

    return change


def _table_comment(table: sa.Table, *_: Any) -> str:
    return f"comment on {_table(table)}"


def _nullability(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def _default(default: Any) -> str:
    text = getattr(default, "arg", default)
    return f"default {getattr(text, 'text', text)!s}" if default else "no default"


def _comment(comment: str | None) -> str:
    return f"comment {comment!r}" if comment else "no comment"


def _qualified(schema: str | None, name: str) -> str:
    return f"{schema}.{name}" if schema else name


def _name(item: sa.Index | sa.Constraint) -> str:
    return str(item.name) if item.name else "(unnamed)"


def _on(table: Any, columns: Any) -> str:
    names = ", ".join(column.name for column in columns)
    return f"{table.name} ({names})"


_DESCRIBERS: dict[str, Callable[..., str]] = {
    "table": _table,
    "column": _column,
    "index": _index,
    "constraint": _constraint,
    "fk": _foreign_key,
    "type": _column_change(str),
    "nullable": _column_change(_nullability),
    "default": _column_change(_default),
    "comment": _column_change(_comment),
    "table_comment": _table_comment,
}
