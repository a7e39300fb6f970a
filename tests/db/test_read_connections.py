"""The read pools' connections: set up as SQLAlchemy's dialect sets up its own."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from satchel.db import Database, select
from tests.db.models import Book
from tests.services import POSTGRES_URL, require_service


def test_sql_functions_the_dialect_provides_work_in_reads(database: Database) -> None:
    # On SQLite, REGEXP and floor() exist only as SQLAlchemy registers them on connect.
    statements = [
        select(Book.title).where(Book.title.regexp_match("^Book [13]$")).order_by(Book.id),
        select(Book.title).where(Book.title.regexp_match("(?i)^BOOK 2")),
        select(sa.func.floor(Book.pages / 2)).order_by(Book.id),
    ]

    async def main() -> None:
        try:
            async with database.transaction() as db:
                db.add_all(Book(id=n, isbn=str(n), title=f"Book {n}", pages=n) for n in (1, 2, 3))
            for statement in statements:
                async with database.session() as db:
                    expected = list((await db.scalars(statement)).all())
                assert expected  # each statement selects something
                assert await database.reader.scalars(statement) == expected
        finally:
            await database.dispose()

    asyncio.run(main())


@pytest.mark.parametrize("cache_size", [0, 100])
def test_postgresql_reads_leave_no_statement_prepared_beyond_asyncpgs_cache(
    cache_size: int,
) -> None:
    # A statement cache of 0 is PgBouncer's transaction mode: no named statement may
    # stay on a server connection. Describing a new statement shape uses none either.
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    settings = {"prepared_statement_cache_size": cache_size}
    database = Database(POSTGRES_URL, pool_size=1, engine_options={"connect_args": settings})
    prepared = select(sa.func.count()).select_from(sa.table("pg_prepared_statements"))

    async def main() -> tuple[list[int | None], int | None]:
        try:
            numbers = [
                await database.reader.scalar(select(sa.literal(n, sa.Integer).label(f"n{n}")))
                for n in range(3)
            ]
            return numbers, await database.reader.scalar(prepared)
        finally:
            await database.dispose()

    numbers, left = asyncio.run(main())
    assert numbers == [0, 1, 2]
    # With a cache, asyncpg keeps each statement it ran prepared: the four run, no more.
    assert left == (0 if cache_size == 0 else 4)
