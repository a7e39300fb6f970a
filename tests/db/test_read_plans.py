"""What fast reads keep of the statements they run: the compiled shapes, bounded.

On real SQLite and PostgreSQL: the statements are run, then looked for after a
garbage collection through weak references (what the application would leak).
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa

from satchel.db import Database, Reader, select
from satchel.db.plans import MAX_PLANS
from tests.db.models import Book


class Shouting(sa.TypeDecorator[str]):
    """A type SQLAlchemy may not cache statements of (as one lacking ``cache_ok``)."""

    impl = sa.String
    cache_ok = False  # False, not unset: unset warns, and the tests turn warnings into errors

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else value.upper()


def read_with(database: Database, scenario: Callable[[Reader], Awaitable[None]]) -> None:
    """Run ``scenario`` on one event loop, disposing of the Database's pools after."""

    async def main() -> None:
        try:
            async with database.transaction() as db:
                db.add_all([Book(id=n, isbn=f"isbn-{n}", title=f"Book {n}") for n in (1, 2)])
            await scenario(database.reader)
        finally:
            await database.dispose()

    asyncio.run(main())


def alive(references: list[weakref.ref[Any]]) -> int:
    gc.collect()
    return sum(reference() is not None for reference in references)


def test_statements_of_ever_new_shapes_are_not_kept_beyond_the_plan_cache(
    database: Database,
) -> None:
    by_id = select(Book.title).where(Book.id == sa.bindparam("id"))  # kept, as at module level

    async def scenario(reader: Reader) -> None:
        assert await reader.scalar(by_id, {"id": 1}) == "Book 1"
        references = []
        for number in range(MAX_PLANS + 100):
            # Each a shape of its own: its label is part of SQLAlchemy's cache key.
            statement = select(Book.id.label(f"n{number}")).where(Book.id == 2)
            references.append(weakref.ref(statement))
            assert await reader.scalar(statement) == 2
            del statement
        # A compiled plan keeps the statement it was compiled from; nothing else does.
        assert alive(references) <= MAX_PLANS
        # The kept statement's plan was dropped among the others: it is compiled again.
        assert await reader.scalar(by_id, {"id": 2}) == "Book 2"

    read_with(database, scenario)


def test_statements_of_one_shape_are_not_kept(database: Database) -> None:
    async def scenario(reader: Reader) -> None:
        references = []
        for number in (1, 2, 1, 2):
            statement = select(Book.title).where(Book.id == number)
            references.append(weakref.ref(statement))
            assert await reader.scalar(statement) == f"Book {number}"
            del statement
        assert alive(references) <= 1  # the first, compiled into the shape's plan

    read_with(database, scenario)


def test_statements_sqlalchemy_cannot_cache_are_run_and_kept_by_nothing(
    database: Database,
) -> None:
    async def scenario(reader: Reader) -> None:
        references = []
        for number in (1, 2, 1):
            shouted = sa.type_coerce(Book.title, Shouting())
            statement = select(shouted).where(Book.id == number)
            # SQLAlchemy's own verdict, so that this test runs the uncacheable path.
            assert statement._generate_cache_key() is None
            references.append(weakref.ref(statement))
            assert await reader.scalar(statement) == f"BOOK {number}"  # its type's processor
            assert await reader.scalar(statement) == f"BOOK {number}"  # and again
            del statement, shouted
        assert alive(references) == 0

    read_with(database, scenario)
