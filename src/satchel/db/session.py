"""``DbSession`` and ``SyncDbSession``: sessions with the helpers handlers need.

404s, 409s, counts, offset and cursor pages. The helpers are written once, on
the sync session; the async one runs them on the sync session it drives, as
SQLAlchemy's ``AsyncSession.run_sync`` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from satchel.db.cursor import CursorPage, KeyArgument, cursor_page
from satchel.errors import BadRequest, Conflict, NotFound

__all__ = ["DbSession", "Page", "SyncDbSession", "conflict_from"]

T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")
P = ParamSpec("P")

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


class SyncDbSession(orm.Session):
    """A sync session with the helpers handlers need; ``DbSession`` runs these same helpers.

    Injected as ``db: SyncSession`` into sync handlers, made by
    ``Database.sync_session()`` and ``Database.sync_transaction()``.
    ``flush()`` and ``commit()`` raise ``Conflict`` (409) for a violated constraint.
    """

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        """Flush pending changes; a violated constraint raises ``Conflict``."""
        try:
            super().flush(objects)
        except IntegrityError as error:
            raise conflict_from(error) from error

    def commit(self) -> None:
        """Commit; a violated constraint raises ``Conflict``."""
        try:
            super().commit()
        except IntegrityError as error:
            raise conflict_from(error) from error

    def get_or_404(self, model: type[T], pk: Any) -> T:
        """The row with primary key ``pk``, or ``NotFound`` naming the model."""
        found = self.get(model, pk)
        if found is None:
            raise NotFound(f"{model.__name__} not found")
        return found

    def get_one_or_404(self, model: type[T], /, **filters: Any) -> T:
        """The one row whose columns equal ``filters`` (bound, never spliced into SQL), or 404.

        Raises:
            ValueError: A filter names no column of ``model``.
            sqlalchemy.exc.MultipleResultsFound: Several rows match.
        """
        return self.one_or_404(_filtered(model, filters))

    def first_or_404(self, statement: sa.Select[T]) -> T:
        """The first row ``statement`` selects, or ``NotFound``."""
        found = self.scalars(statement.limit(1)).first()
        if found is None:
            raise NotFound(f"{_entity_name(statement)} not found")
        return found

    def one_or_404(self, statement: sa.Select[T]) -> T:
        """The only row ``statement`` selects, or ``NotFound``.

        Raises:
            sqlalchemy.exc.MultipleResultsFound: Several rows match.
        """
        found = self.scalars(statement).one_or_none()
        if found is None:
            raise NotFound(f"{_entity_name(statement)} not found")
        return found

    def exists(self, query: sa.Select[Any] | type[Any], /, **filters: Any) -> bool:
        """Whether ``query`` (a select, or a model filtered by ``filters``) finds a row."""
        statement = _filtered(query, filters) if isinstance(query, type) else query
        return bool(self.scalar(sa.select(statement.exists())))

    def count(self, query: sa.Select[Any] | type[Any], /, **filters: Any) -> int:
        """How many rows ``query`` (a select, or a model filtered by ``filters``) finds."""
        statement = _filtered(query, filters) if isinstance(query, type) else query
        counted = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
        return int(self.scalar(counted) or 0)

    def paginate(
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
        total = self.count(statement)
        window = statement.limit(size).offset((page - 1) * size)
        items = list(self.scalars(window).all())
        return Page(items, page, size, total, math.ceil(total / size))

    def paginate_cursor(
        self,
        statement: sa.Select[T],
        *,
        order_by: Sequence[KeyArgument],
        cursor: str | None = None,
        size: int = 20,
        max_size: int = 100,
    ) -> CursorPage[T]:
        """The page of ``statement``'s rows after (or before) ``cursor``, ordered by ``order_by``.

        ``order_by`` replaces the statement's ordering: NOT NULL columns, each
        ascending or ``.desc()``, the last one unique (the primary key) so rows
        with equal keys are neither skipped nor repeated. ``cursor`` is a page's
        ``next_cursor`` or ``previous_cursor``; None asks for the first page.

        Raises:
            BadRequest: ``size`` is below 1, or ``cursor`` is malformed or was altered.
        """
        if size < 1:
            raise BadRequest("size must be at least 1")
        return cursor_page(self, statement, order_by, cursor, min(size, max_size))


class DbSession(AsyncSession):
    """The session ``Session`` injects; committed after a successful request.

    Its helpers are ``SyncDbSession``'s, awaited. ``flush()`` and ``commit()``
    raise ``Conflict`` (409) for a violated constraint; a handler that wants to
    react to a duplicate flushes before returning.
    """

    # The AsyncSession drives a session of this class: its flush and commit raise
    # Conflict here too, and its helpers run on it through run_sync.
    sync_session_class = SyncDbSession

    async def get_or_404(self, model: type[T], pk: Any) -> T:
        """The row with primary key ``pk``, or ``NotFound`` naming the model."""
        return await self._run(SyncDbSession.get_or_404, model, pk)

    async def get_one_or_404(self, model: type[T], /, **filters: Any) -> T:
        """The one row whose columns equal ``filters``, or ``NotFound``."""
        return await self._run(SyncDbSession.get_one_or_404, model, **filters)

    async def first_or_404(self, statement: sa.Select[T]) -> T:
        """The first row ``statement`` selects, or ``NotFound``."""
        return await self._run(SyncDbSession.first_or_404, statement)

    async def one_or_404(self, statement: sa.Select[T]) -> T:
        """The only row ``statement`` selects, or ``NotFound``."""
        return await self._run(SyncDbSession.one_or_404, statement)

    async def exists(self, query: sa.Select[Any] | type[Any], /, **filters: Any) -> bool:
        """Whether ``query`` (a select, or a model filtered by ``filters``) finds a row."""
        return await self._run(SyncDbSession.exists, query, **filters)

    async def count(self, query: sa.Select[Any] | type[Any], /, **filters: Any) -> int:
        """How many rows ``query`` (a select, or a model filtered by ``filters``) finds."""
        return await self._run(SyncDbSession.count, query, **filters)

    async def paginate(
        self, statement: sa.Select[T], *, page: int = 1, size: int = 20, max_size: int = 100
    ) -> Page[T]:
        """Page ``page`` (from 1) of ``statement``'s rows; see ``SyncDbSession.paginate``."""
        return await self._run(
            SyncDbSession.paginate, statement, page=page, size=size, max_size=max_size
        )

    async def paginate_cursor(
        self,
        statement: sa.Select[T],
        *,
        order_by: Sequence[KeyArgument],
        cursor: str | None = None,
        size: int = 20,
        max_size: int = 100,
    ) -> CursorPage[T]:
        """A keyset page of ``statement``'s rows; see ``SyncDbSession.paginate_cursor``."""
        return await self._run(
            SyncDbSession.paginate_cursor,
            statement,
            order_by=order_by,
            cursor=cursor,
            size=size,
            max_size=max_size,
        )

    async def _run(
        self,
        helper: Callable[Concatenate[SyncDbSession, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        # run_sync hands the helper this session's sync session, which is a SyncDbSession.
        # The arguments are bound here rather than passed through run_sync, whose own
        # parameters (fn, _require_await) would take a filter on a column of that name.
        def run(session: orm.Session) -> R:
            assert isinstance(session, SyncDbSession)
            return helper(session, *args, **kwargs)

        return await self.run_sync(run)


def _filtered(model: type[T], filters: dict[str, Any]) -> sa.Select[T]:
    columns = set(sa.inspect(model).columns.keys())
    unknown = sorted(set(filters) - columns)
    if unknown:
        raise ValueError(f"{model.__name__} has no column {', '.join(map(repr, unknown))}")
    return sa.select(model).filter_by(**filters)


def _entity_name(statement: sa.Select[Any]) -> str:
    descriptions: Iterable[dict[str, Any]] = statement.column_descriptions
    for description in descriptions:
        entity = description.get("entity")
        if isinstance(entity, type):
            return entity.__name__
    return "Row"
