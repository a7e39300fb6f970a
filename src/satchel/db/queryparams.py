"""Sorting and filtering by query parameters, limited to the columns a route declares.

``sort_param(Article, "title", "created_at")`` and ``filter_params(Article,
"status")`` make dependencies: a client names columns, the route decides which
ones it may name, and the values are bound parameters. Only declared names
reach the query, as the model's own column attributes, so no client text is
ever spliced into SQL. A route using both (docs/database.md runs a full example)::

    article_sort = sort_param(Article, "title", "created_at", default="-created_at")
    article_filters = filter_params(Article, "status", "author_id")

    @app.get("/articles")
    async def articles(
        db: Session,
        sort: Annotated[Sort, Depends(article_sort)],
        filters: Annotated[Filters, Depends(article_filters)],
    ) -> list[ArticleOut]:
        rows = await db.scalars(filters.apply(sort.apply(select(Article))))
        return [to_out(row) for row in rows]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm

from satchel.db.inputs import client_value_type
from satchel.errors import BadRequest, ConfigurationError
from satchel.params import Query

__all__ = ["Filters", "Sort", "filter_params", "sort_param"]

T = TypeVar("T")
R = TypeVar("R")

# How much of a refused value an error message repeats.
_SHOWN = 40


@dataclass(frozen=True, slots=True)
class Sort:
    """The order a request asked for, in declared column names.

    Attributes:
        model: The model whose columns are named.
        keys: ``(name, descending)`` pairs, most significant first.
    """

    model: type[Any]
    keys: tuple[tuple[str, bool], ...]

    def apply(self, statement: sa.Select[T]) -> sa.Select[T]:
        """``statement`` ordered by the keys, then by the primary key, so ties keep one order."""
        mapper = orm.class_mapper(self.model)
        named = {name for name, _ in self.keys}
        clauses = [
            getattr(self.model, name).desc() if descending else getattr(self.model, name).asc()
            for name, descending in self.keys
        ]
        ties = [
            column
            for column in mapper.primary_key
            if mapper.get_property_by_column(column).key not in named
        ]
        return statement.order_by(*clauses, *ties)


@dataclass(frozen=True, slots=True)
class Filters:
    """The filters a request gave: each declared column that was asked for, and its values.

    Attributes:
        model: The model whose columns are named.
        values: Column name to the values a row's column may equal (any of them).
    """

    model: type[Any]
    values: Mapping[str, list[Any]]

    def apply(self, statement: sa.Select[T]) -> sa.Select[T]:
        """``statement`` keeping the rows whose columns equal one of the values given."""
        for name, values in self.values.items():
            column = getattr(self.model, name)
            statement = statement.where(
                column == values[0] if len(values) == 1 else column.in_(values)
            )
        return statement


def sort_param(
    model: type[Any], *fields: str, default: str = "", name: str = "sort"
) -> Callable[..., Sort]:
    """A dependency reading how to sort ``model``'s rows from the query parameter ``name``.

    ``?sort=-created_at,title`` sorts by ``created_at`` descending, then
    ``title``; repeating the parameter (``?sort=-created_at&sort=title``) says
    the same. Absent or empty, ``default`` (same syntax) applies. Anything but
    ``fields``, optionally prefixed with ``-``, each once, is a 400 naming them.

    Raises:
        ConfigurationError: ``fields`` is empty, or it or ``default`` names no column.
    """
    allowed = _columns(model, fields, "sort")
    choices = ", ".join(allowed)

    def parse(values: Iterable[str]) -> tuple[tuple[str, bool], ...]:
        keys: dict[str, bool] = {}
        for value in values:
            for token in filter(None, (part.strip() for part in value.split(","))):
                field = token.removeprefix("-")
                if field not in allowed:
                    raise BadRequest(
                        f"Cannot sort by {token[:_SHOWN]!r}: {name} takes {choices}, "
                        "comma-separated, each prefixed with - for descending order"
                    )
                if field in keys:
                    raise BadRequest(f"{name} names {field!r} more than once")
                keys[field] = token.startswith("-")
        return tuple(keys.items())

    try:
        default_keys = parse([default])
    except BadRequest as exc:
        raise ConfigurationError(f"sort_param default {default!r}: {exc.detail}") from None

    def provide(sort: list[str] | None) -> Sort:
        return Sort(model, parse(sort or ()) or default_keys)

    shown_default = f" Default: {default}." if default else ""
    description = (
        f"Sort by {choices}: comma-separated, each prefixed with - for descending order."
        f"{shown_default}"
    )
    return _dependency(
        provide, {"sort": Annotated[list[str] | None, Query(alias=name, description=description)]}
    )


def filter_params(model: type[Any], *fields: str) -> Callable[..., Filters]:
    """A dependency reading filters on ``model``'s ``fields``, one query parameter each.

    ``?status=draft`` keeps rows whose ``status`` is ``draft``;
    ``?status=draft&status=review`` those whose status is either. Values are
    validated against the column's type like any typed query parameter (a 422
    names each bad one) and documented so in OpenAPI.

    Raises:
        ConfigurationError: ``fields`` is empty, names no column, or a column whose
            values cannot come from a query string (JSON, binary).
    """
    parameters: dict[str, Any] = {}
    for field, column in _columns(model, fields, "filter by").items():
        try:
            value_type = client_value_type(column.type)
        except TypeError as exc:
            raise ConfigurationError(f"filter_params({model.__name__}): {exc}") from None
        description = f"Keep rows whose {field} is one of these values."
        parameters[field] = Annotated[list[value_type] | None, Query(description=description)]  # type: ignore[valid-type]

    def provide(**values: list[Any] | None) -> Filters:
        return Filters(model, {field: given for field, given in values.items() if given})

    return _dependency(provide, parameters)


def _columns(model: type[Any], fields: tuple[str, ...], purpose: str) -> dict[str, sa.Column[Any]]:
    if not fields:
        raise ConfigurationError(f"name the columns of {model.__name__} clients may {purpose}")
    columns = orm.class_mapper(model).columns
    unknown = [field for field in fields if field not in columns]
    if unknown:
        raise ConfigurationError(f"{model.__name__} has no column {', '.join(map(repr, unknown))}")
    return {field: columns[field] for field in fields}


def _dependency(provide: Callable[..., R], parameters: dict[str, Any]) -> Callable[..., R]:
    # The parameters depend on the model and fields, so the signature the injector
    # reads (names, annotations, defaults) is written here rather than in the source.
    signature = inspect.Signature(
        [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=hint)
            for key, hint in parameters.items()
        ]
    )
    provide.__signature__ = signature  # type: ignore[attr-defined]
    provide.__annotations__ = dict(parameters)
    return provide
