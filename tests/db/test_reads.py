"""Fast reads (``Reads`` / ``Database.reader``) on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, aliased, joinedload, mapped_column

from satchel import App, Settings
from satchel.db import Database, Reader, Reads, Session, select
from satchel.db.errors import UNSTORABLE_DETAIL
from satchel.errors import BadRequest, NotFound
from satchel.testing import TestClient
from tests.db.models import Book, Entry, Genre, Review


class Documents(DeclarativeBase):
    """Tables of these tests only: created inside each test (rolled back on PostgreSQL)."""


class Document(Documents):
    __tablename__ = "reads_document"

    owner: Mapped[str] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


def read_with(database: Database, scenario: Callable[[Reader], Awaitable[None]]) -> None:
    """Run ``scenario`` on one event loop, with the tests' tables, disposing after."""

    async def main() -> None:
        try:
            async with database.transaction() as db:
                await db.run_sync(lambda s: Documents.metadata.create_all(s.connection()))
            await scenario(database.reader)
        finally:
            await database.dispose()

    asyncio.run(main())


async def add(database: Database, *rows: Any) -> None:
    async with database.transaction() as db:
        db.add_all(rows)


def book(number: int, **fields: Any) -> Book:
    return Book(id=number, isbn=f"isbn-{number}", title=f"Book {number}", **fields)


def test_models_come_back_as_detached_typed_instances(database: Database) -> None:
    async def scenario(reader: Reader) -> None:
        await add(database, book(1, price=Decimal("12.50")), book(2))
        found: Book | None = await reader.get(Book, 1)
        assert found is not None
        assert (found.id, found.title, found.price, found.subtitle) == (
            1,
            "Book 1",
            Decimal("12.50"),
            None,
        )
        assert found.genre is Genre.NOVEL  # the Enum column's processor ran
        assert sa.inspect(found).detached
        with pytest.raises(sa.orm.exc.DetachedInstanceError):
            _ = found.reviews  # nothing loads relationships outside a session
        assert await reader.get(Book, 99) is None
        books: list[Book] = await reader.scalars(select(Book).order_by(Book.id.desc()))
        assert [b.title for b in books] == ["Book 2", "Book 1"]

    read_with(database, scenario)


def test_columns_come_back_as_values_and_rows(database: Database) -> None:
    async def scenario(reader: Reader) -> None:
        await add(database, book(1, pages=10), book(2, pages=30))
        total: int | None = await reader.scalar(select(sa.func.sum(Book.pages)))
        assert total == 40
        titles: list[str] = await reader.scalars(select(Book.title).order_by(Book.title))
        assert titles == ["Book 1", "Book 2"]
        rows = await reader.rows(select(Book.id, Book.title).order_by(Book.id))
        assert rows == [(1, "Book 1"), (2, "Book 2")]
        assert (rows[1].id, rows[1].title, rows[0]._asdict()) == (
            2,
            "Book 2",
            {"id": 1, "title": "Book 1"},
        )
        typed: tuple[int, str] = rows[0]  # typed as the tuple of its columns
        number, title = rows[1]
        assert (typed, number, title) == ((1, "Book 1"), 2, "Book 2")
        whole = await reader.rows(select(Book).where(Book.id == 1))
        assert whole[0][0].title == whole[0].Book.title == "Book 1"

    read_with(database, scenario)


def test_rows_and_first_columns_are_what_a_session_gives(database: Database) -> None:
    statements: list[sa.Select[*tuple[Any, ...]]] = [
        select(Book.id, Book.title).order_by(Book.id),
        select(sa.func.count(), sa.func.min(Book.pages)),
        select(Book.id.label("number"), Book.title, Book.title).order_by(Book.id),
        select(Book.pages + 1, sa.literal("x")).order_by(Book.id),
        select(Book).order_by(Book.id),
    ]

    async def scenario(reader: Reader) -> None:
        await add(database, book(1, pages=10), book(2, pages=30))
        for statement in statements:
            rows = await reader.rows(statement)
            async with database.session() as db:
                expected = (await db.execute(statement)).all()
                first = (await db.scalars(statement)).all()
            assert all(type(row) is sa.Row for row in rows)
            assert [row._fields for row in rows] == [row._fields for row in expected]
            if statement.column_descriptions[0]["entity"] is Book and len(rows[0]) == 1:
                assert [row[0].id for row in rows] == [row[0].id for row in expected]
                continue
            assert rows == expected
            assert await reader.scalars(statement) == first
        # Several columns: the first one's values, typed so (as Session.scalars reads them).
        numbers: list[int] = await reader.scalars(select(Book.id, Book.title).order_by(Book.id))
        assert numbers == [1, 2]
        one: int = await reader.one_or_404(select(Book.pages, Book.title).where(Book.id == 2))
        assert one == 30

    read_with(database, scenario)


def test_each_statement_shape_and_each_value_reads_its_own_rows(database: Database) -> None:
    by_id = select(Book.title).where(Book.id == sa.bindparam("id"))

    async def scenario(reader: Reader) -> None:
        await add(database, book(1, pages=5), book(2, pages=7), book(3, pages=9))
        # The same shape with other values: separate statements, one compiled plan.
        for number in (1, 2, 3, 2):
            assert await reader.scalar(select(Book.title).where(Book.id == number)) == (
                f"Book {number}"
            )
        # Another shape over the same columns.
        assert await reader.scalar(select(Book.title).where(Book.pages > 6)) == "Book 2"
        # One statement object, values given at each call.
        assert await reader.scalar(by_id, {"id": 3}) == "Book 3"
        assert await reader.scalar(by_id, {"id": 1}) == "Book 1"
        with pytest.raises(sa.exc.InvalidRequestError, match="value is required"):
            await reader.scalar(by_id)
        # IN lists of different lengths.
        for numbers in ([1], [1, 3], [3, 2, 1]):
            found = await reader.scalars(
                select(Book.id).where(Book.id.in_(numbers)).order_by(Book.id)
            )
            assert found == sorted(numbers)
        assert await reader.scalars(select(Book.id).where(Book.id.in_([]))) == []

    read_with(database, scenario)


def test_limit_and_offset_values_belong_to_each_statement(database: Database) -> None:
    async def scenario(reader: Reader) -> None:
        await add(database, *(book(number) for number in range(1, 6)))
        ordered = select(Book.id).order_by(Book.id)
        for limit, offset in ((1, 0), (3, 1), (2, 3), (5, 0)):
            found = await reader.scalars(ordered.limit(limit).offset(offset))
            assert found == list(range(offset + 1, offset + 1 + limit))

    read_with(database, scenario)


def test_a_callable_bindparam_is_called_at_every_read(database: Database) -> None:
    numbers = itertools.count(1)
    # One statement object, run without params: its SQL and arguments are kept, but a
    # callable's value must not be.
    numbered = select(Book.title).where(
        Book.id == sa.bindparam("n", callable_=lambda: next(numbers))
    )

    async def scenario(reader: Reader) -> None:
        await add(database, book(1), book(2), book(3))
        assert [await reader.scalar(numbered) for _ in range(3)] == ["Book 1", "Book 2", "Book 3"]

    read_with(database, scenario)


def test_one_or_404_binds_its_statement_once(database: Database) -> None:
    calls = itertools.count(1)
    # Its value computed at each read: binding the statement again (to name the model
    # of the 404) would call it again.
    missing = select(Book).where(Book.id == sa.bindparam("n", callable_=lambda: next(calls) * 100))

    async def scenario(reader: Reader) -> None:
        with pytest.raises(NotFound, match="Book not found"):
            await reader.one_or_404(missing)
        assert next(calls) == 2  # called once

    read_with(database, scenario)


def test_scalar_and_first_stop_at_the_first_row(database: Database) -> None:
    # Rows produced in order, the third one failing when evaluated: reading through
    # every row raises. (sqlite3 steps one row ahead, hence two good rows first.)
    texts = (
        select(sa.literal("1").label("text"))
        .union_all(select(sa.literal("2")), select(sa.literal("x")))
        .subquery()
    )
    if database.engine.dialect.name == "sqlite":
        parsed: Any = sa.func.json(texts.c.text)
    else:
        parsed = sa.cast(texts.c.text, sa.JSON)
    parsing = select(parsed)

    async def scenario(reader: Reader) -> None:
        assert await reader.scalar(parsing) is not None
        assert await reader.first_or_404(parsing) is not None
        with pytest.raises(Exception):  # noqa: B017, PT011 (sqlite3's error, or a 400)
            await reader.scalars(parsing)
        assert await reader.scalar(parsing) is not None  # the failure left reads working

    read_with(database, scenario)


def test_values_no_database_can_store_are_bad_requests(database: Database) -> None:
    async def scenario(reader: Reader) -> None:
        await add(database, book(1))
        titled = select(Book.id).where(Book.title == sa.bindparam("title"))
        for hostile in ("\ud800", "a\udfffb"):  # lone surrogates: no encoding takes them
            with pytest.raises(BadRequest, match=UNSTORABLE_DETAIL):
                await reader.scalars(titled, {"title": hostile})
        with pytest.raises(BadRequest, match=UNSTORABLE_DETAIL):
            await reader.get(Book, 2**70)
        with pytest.raises(Exception) as other:  # noqa: PT011 (sqlite3's or asyncpg's)
            await reader.scalar(select(sa.literal_column("no_such_column")))
        assert not isinstance(other.value, BadRequest)  # a bug stays an error of its own
        assert await reader.scalars(titled, {"title": "Book 1"}) == [1]

    read_with(database, scenario)


def test_read_instances_save_through_a_session_once_merged_or_added(database: Database) -> None:
    async def scenario(reader: Reader) -> None:
        await add(database, book(1), book(2))
        first = await reader.get_or_404(Book, 1)
        first.title = "Merged"  # detached: saves nothing by itself
        assert await reader.scalar(select(Book.title).where(Book.id == 1)) == "Book 1"
        async with database.transaction() as db:
            merged = await db.merge(first)  # loads the row, copies the changes over
            assert merged.title == "Merged"
        second = await reader.get_or_404(Book, 2)
        async with database.transaction() as db:
            db.add(second)  # attached as the persistent row it was read as: an UPDATE
            second.title = "Added"
        async with database.transaction() as db:
            assert (await db.get_or_404(Book, 2)).title == "Added"
            assert await db.scalar(sa.select(sa.func.count()).select_from(Book)) == 2
        titles = await reader.scalars(select(Book.title).order_by(Book.id))
        assert titles == ["Merged", "Added"]

    read_with(database, scenario)


def test_values_are_converted_both_ways_by_their_column_types(database: Database) -> None:
    paris = timezone(timedelta(hours=2))
    written = datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=paris)

    async def scenario(reader: Reader) -> None:
        await add(
            database,
            Entry(id=1, name="a", status="draft", rank=1, at=written),
            Document(owner="ann", number=1, body={"tags": ["x", "y"], "n": 1.5}),
            Document(owner="ann", number=2, body=None),
        )
        at = await reader.scalar(select(Entry.at).where(Entry.id == 1))
        assert at == written
        assert at is not None
        assert at.tzinfo is UTC
        # An aware datetime bound through UTCDateTime finds the row on both databases.
        since = select(Entry.name).where(Entry.at >= sa.bindparam("since", type_=Entry.at.type))
        assert await reader.scalars(since, {"since": written - timedelta(seconds=1)}) == ["a"]
        with pytest.raises(ValueError, match="timezone-aware"):
            await reader.scalars(since, {"since": datetime(2024, 1, 1)})
        document = await reader.get(Document, ("ann", 1))
        assert document is not None
        assert document.body == {"tags": ["x", "y"], "n": 1.5}
        empty = await reader.get(Document, ("ann", 2))
        assert empty is not None
        assert empty.body is None
        with pytest.raises(ValueError, match="2 column"):
            await reader.get(Document, "ann")

    read_with(database, scenario)


def test_one_first_and_their_404s(database: Database) -> None:
    async def scenario(reader: Reader) -> None:
        await add(database, book(1), book(2))
        assert (await reader.one_or_404(select(Book).where(Book.id == 2))).title == "Book 2"
        assert await reader.one_or_none(select(Book.id).where(Book.id == 5)) is None
        with pytest.raises(sa.exc.MultipleResultsFound):
            await reader.one_or_none(select(Book.id))
        first = await reader.first_or_404(select(Book.title).order_by(Book.id.desc()))
        assert first == "Book 2"
        for missing in (
            reader.one_or_404(select(Book).where(Book.id == 9)),
            reader.first_or_404(select(Book).where(Book.id == 9)),
            reader.get_or_404(Book, 9),
        ):
            with pytest.raises(Exception, match="Book not found") as raised:
                await missing
            assert getattr(raised.value, "status_code", None) == 404

    read_with(database, scenario)


def test_statements_reads_cannot_run_are_refused(database: Database) -> None:
    async def scenario(reader: Reader) -> None:
        refused: list[Any] = [
            select(Book, Review).join(Review),
            select(Book.id, Review),
            select(aliased(Book)),
            select(Book).options(joinedload(Book.reviews)),
            sa.insert(Book).values(isbn="x", title="x"),
        ]
        for statement in refused:
            with pytest.raises(TypeError):
                await reader.scalars(statement)

    read_with(database, scenario)


class BookOut(msgspec.Struct):
    id: int
    title: str


def make_app(database: Database) -> App[Any]:
    app = App(settings=Settings())
    database.init_app(app)

    @app.get("/books/{number}")
    async def show(number: int, reads: Reads) -> BookOut:
        found = await reads.get_or_404(Book, number)
        return BookOut(found.id, found.title)

    @app.get("/books")
    async def titled(title: str, reads: Reads) -> list[str]:
        return await reads.scalars(select(Book.title).where(Book.title == title))

    @app.post("/books/{number}")
    async def create_then_read(number: int, db: Session, reads: Reads) -> BookOut:
        db.add(book(number))
        await db.flush()
        # Seen only inside the test's transaction (see docs): in production a read
        # sees what is committed.
        return BookOut(number, (await reads.get_or_404(Book, number)).title)

    return app


def test_handlers_answer_404_and_400_for_missing_rows_and_unstorable_values(
    database: Database,
) -> None:
    with TestClient(make_app(database)) as client:
        missing = client.get("/books/7")
        assert (missing.status_code, missing.json()["detail"]) == (404, "Book not found")
        # Wider than the column (PostgreSQL's integer) or than SQLite's 64 bits.
        too_wide = 2**70 if database.engine.dialect.name == "sqlite" else 2**40
        refused = client.get(f"/books/{too_wide}")
        assert (refused.status_code, refused.json()["detail"]) == (400, UNSTORABLE_DETAIL)
        nul = client.get("/books", params={"title": "a\x00b"})
        if database.engine.dialect.name == "postgresql":
            assert (nul.status_code, nul.json()["detail"]) == (400, UNSTORABLE_DETAIL)
        else:
            assert (nul.status_code, nul.json()) == (200, [])


# TestTransaction wraps the PostgreSQL tests only (SQLite ones get a file of their own).
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_reads_join_the_test_transaction(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        created = client.post("/books/5")
        assert created.status_code == 200, created.text
        assert client.get("/books/5").json() == {"id": 5, "title": "Book 5"}  # uncommitted
        assert client.get("/books/99999999999").status_code == 400  # its savepoint rolled back
        assert client.get("/books/5").status_code == 200  # and the transaction goes on


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_read_cancelled_inside_the_test_transaction_leaves_it_usable(database: Database) -> None:
    stuck: sa.Select[str] = select(sa.literal_column("pg_sleep(60)::text"))

    async def scenario(reader: Reader) -> None:
        await add(database, book(1))  # in the test's transaction, uncommitted
        reading = asyncio.create_task(reader.scalar(stuck))
        await asyncio.sleep(0.2)  # running on the server
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        # Its statement cancelled and its savepoint rolled back, the transaction goes on.
        assert await reader.scalar(select(Book.title).where(Book.id == 1)) == "Book 1"
        async with database.transaction() as db:
            assert (await db.get_or_404(Book, 1)).title == "Book 1"

    read_with(database, scenario)
