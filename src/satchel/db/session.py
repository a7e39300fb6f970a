"""``DbSession``: an ``AsyncSession`` with the helpers handlers need (404s, 409s, counts, pages)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

import msgspec

from satchel.errors import BadRequest, Conflict, MissingDependencyError, NotFound

try:
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.ext.asyncio import AsyncSession
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "db") from exc

__all__ = ["DbSession", "Page", "conflict_from"]

T = TypeVar("T")
U = TypeVar("U")

# SQLite names the failed constraint by its columns: "UNIQUE constraint failed: article.slug".
_SQLITE_CONSTRAINT = re.compile(r"constraint failed: (\S+)")


class Page(msgspec.Struct, Generic[T]):
    """One page of results, serializable as the response of a handler.

    ``items`` are what the query selected; ``page.map(to_out)`` turns ORM objects
    into structs before returning them.
    """

    items: list[T]
    page: int
    size: int
    total: int
    pages: int

    def map(self, func: Callable[[T], U]) -> Page[U]:
        """The same page with ``func`` applied to each item."""
        return Page(
            [func(item) for item in self.items], self.page, self.size, self.total, self.pages
        )


def conflict_from(error: IntegrityError) -> Conflict:
    """The 409 for a violated constraint, naming it when the database says which."""
    name = None
    # asyncpg's exception, wrapped by SQLAlchemy's adapter, carries the constraint's name.
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        name = name or getattr(candidate, "constraint_name", None)
    if name is None and (match := _SQLITE_CONSTRAINT.search(str(error.orig))):
        name = match.group(1)
    detail = "The request conflicts with existing data"
    return Conflict(f"{detail} ({name})" if name else detail)


def _model_name(model: type[Any]) -> str:
    return model.__name__


class DbSession(AsyncSession):
    """The session ``Session`` injects; committed after a successful request.

    ``flush()`` and ``commit()`` raise ``Conflict`` (409) for a violated constraint;
    a handler that wants to react to a duplicate flushes before returning.
    """

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        """Flush pending changes; a violated constraint raises ``Conflict``."""
        try:
            await super().flush(objects)
        except IntegrityError as error:
            raise conflict_from(error) from error

    async def commit(self) -> None:
        """Commit; a violated constraint raises ``Conflict``."""
        try:
            await super().commit()
        except IntegrityError as error:
            raise conflict_from(error) from error

    async def get_or_404(self, model: type[T], pk: Any) -> T:
        """The row with primary key ``pk``, or ``NotFound`` naming the model."""
        found = await self.get(model, pk)
        if found is None:
            raise NotFound(f"{_model_name(model)} not found")
        return found

    async def get_one_or_404(self, model: type[T], **filters: Any) -> T:
        """The one row whose columns equal ``filters``, or ``NotFound``.

        Raises:
            ValueError: A filter names no column of ``model``.
            sqlalchemy.exc.MultipleResultsFound: Several rows match.
        """
        return await self.one_or_404(_filtered(model, filters))

    async def first_or_404(self, statement: sa.Select[T]) -> T:
        """The first row ``statement`` selects, or ``NotFound``."""
        found = (await self.scalars(statement.limit(1))).first()
        if found is None:
            raise NotFound(f"{_entity_name(statement)} not found")
        return found

    async def one_or_404(self, statement: sa.Select[T]) -> T:
        """The only row ``statement`` selects, or ``NotFound``.

        Raises:
            sqlalchemy.exc.MultipleResultsFound: Several rows match.
        """
        found = (await self.scalars(statement)).one_or_none()
        if found is None:
            raise NotFound(f"{_entity_name(statement)} not found")
        return found

    async def exists(self, query: sa.Select[Any] | type[Any], /, **filters: Any) -> bool:
        """Whether ``query`` (a select, or a model filtered by ``filters``) finds a row."""
        statement = _filtered(query, filters) if isinstance(query, type) else query
        return bool(await self.scalar(sa.select(statement.exists())))

    async def count(self, query: sa.Select[Any] | type[Any], /, **filters: Any) -> int:
        """How many rows ``query`` (a select, or a model filtered by ``filters``) finds."""
        statement = _filtered(query, filters) if isinstance(query, type) else query
        return await self._count(statement)

    async def paginate(
        self, statement: sa.Select[T], *, page: int = 1, size: int = 20, max_size: int = 100
    ) -> Page[T]:
        """Page ``page`` (from 1) of ``statement``'s rows, ``size`` per page (at most ``max_size``).

        Order ``statement`` (``order_by``) so pages do not overlap.

        Raises:
            BadRequest: ``page`` or ``size`` is below 1 (they usually come from the query string).
        """
        if page < 1 or size < 1:
            raise BadRequest("page and size must be at least 1")
        size = min(size, max_size)
        total = await self._count(statement)
        window = statement.limit(size).offset((page - 1) * size)
        items = list((await self.scalars(window)).all())
        return Page(items, page, size, total, math.ceil(total / size))

    async def _count(self, statement: sa.Select[Any]) -> int:
        counted = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
        return int(await self.scalar(counted) or 0)


def _filtered(model: type[T], filters: dict[str, Any]) -> sa.Select[T]:
    columns = set(sa.inspect(model).columns.keys())
    unknown = sorted(set(filters) - columns)
    if unknown:
        raise ValueError(f"{_model_name(model)} has no column {', '.join(map(repr, unknown))}")
    return sa.select(model).filter_by(**filters)


def _entity_name(statement: sa.Select[Any]) -> str:
    descriptions: Iterable[dict[str, Any]] = statement.column_descriptions
    for description in descriptions:
        entity = description.get("entity")
        if isinstance(entity, type):
            return _model_name(entity)
    return "Row"
