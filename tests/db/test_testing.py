"""TestTransaction: each test in a transaction rolled back after it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from satchel import App, BadRequest, Settings
from satchel.db import Database, Model, Session, SyncSession, select
from satchel.db.testing import TestTransaction
from satchel.errors import Conflict
from satchel.testing import AsyncTestClient, TestClient
from tests.db.conftest import postgres_database
from tests.db.models import Article

Databases = Callable[[], Database]


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """Makes Databases on one set of tables, created and committed beforehand."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"

        def make() -> Database:
            return Database(url)

        tables = make().sync_engine
        Model.metadata.create_all(tables)
        tables.dispose()
    else:
        schema = request.getfixturevalue("postgres_schema")

        def make() -> Database:
            return postgres_database(schema)

    made: list[Database] = []

    def tracked() -> Database:
        made.append(make())
        return made[-1]

    yield tracked
    for database in made:
        database.sync_engine.dispose()


@pytest.fixture
def prefix() -> str:
    """A slug prefix no other test uses: PostgreSQL's tables are shared by the session."""
    return f"t{uuid.uuid4().hex[:8]}-"


def stored(databases: Databases, prefix: str) -> list[str]:
    """The slugs under ``prefix`` committed for real, read through a connection of its own."""
    with databases().sync_session() as db:
        return list(db.scalars(select(Article.slug).where(Article.slug.startswith(prefix))))


def make_app(database: Database) -> App[Any]:
    app = App(settings=Settings())
    database.init_app(app)

    @app.post("/articles/{slug}", status_code=201)
    async def create(slug: str, db: Session) -> int:
        db.add(Article(slug=slug, title=slug.upper()))
        await db.flush()
        await asyncio.sleep(0)  # let requests sent together interleave, if they can
        return await db.count(Article)

    @app.post("/articles/{slug}/twice")
    async def create_twice(slug: str, db: Session) -> list[str]:
        db.add(Article(slug=slug, title="kept"))
        await db.flush()
        with contextlib.suppress(Conflict):
            async with db.begin_nested():  # a savepoint inside the handler's own
                db.add(Article(slug=slug, title="duplicate"))
                await db.flush()
        return list(await db.scalars(select(Article.title).where(Article.slug == slug)))

    @app.post("/articles/{slug}/failing")
    async def create_then_fail(slug: str, db: Session) -> None:
        db.add(Article(slug=slug, title="lost"))
        await db.flush()
        raise BadRequest("changed my mind")

    @app.post("/articles/{slug}/beside")
    async def create_beside(slug: str, db: Session) -> int:
        db.add(Article(slug=slug, title="request"))
        await db.flush()
        async with database.session() as other:  # a second session, inside the first
            other.add(Article(slug=f"{slug}-other", title="other"))
            await other.commit()
        return await db.count(Article)

    @app.get("/articles")
    async def listing(db: Session) -> list[str]:
        return list(await db.scalars(select(Article.slug).order_by(Article.slug)))

    @app.post("/sync/{slug}", status_code=201)
    def create_sync(slug: str, db: SyncSession) -> int:
        db.add(Article(slug=slug, title=slug.upper()))
        db.flush()
        return db.count(Article)

    @app.get("/sync")
    def listing_sync(db: SyncSession) -> list[str]:
        return list(db.scalars(select(Article.slug).order_by(Article.slug)))

    return app


# -- the shared fixture: a test's writes are gone for the next test ---------------------------

ISOLATION_SLUG = "isolation-check"


def test_isolation_first_a_test_writes_and_commits(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert client.post(f"/articles/{ISOLATION_SLUG}").status_code == 201
        assert client.get("/articles").json() == [ISOLATION_SLUG]


def test_isolation_then_the_next_test_sees_nothing(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert client.get("/articles").json() == []


# -- TestTransaction ------------------------------------------------------------------------


def test_rolled_back_after_the_test_even_though_the_handler_committed(
    databases: Databases, prefix: str
) -> None:
    database = databases()
    with TestTransaction(database) as transaction:
        with TestClient(make_app(database)) as client:
            assert client.post(f"/articles/{prefix}a").json() == 1
            assert client.post(f"/articles/{prefix}b").json() == 2  # the first is still there
            assert transaction.active
            assert stored(databases, prefix) == []  # never committed for real
        assert not transaction.active  # the app's shutdown disposed of the Database
    assert stored(databases, prefix) == []
    with TestTransaction(database), TestClient(make_app(database)) as client:
        assert client.get("/articles").json() == []  # the next test starts empty


def test_savepoints_in_handlers_still_work(databases: Databases, prefix: str) -> None:
    database = databases()
    with TestTransaction(database), TestClient(make_app(database)) as client:
        assert client.post(f"/articles/{prefix}s/twice").json() == ["kept"]
        assert client.post(f"/articles/{prefix}f/failing").status_code == 400
        assert client.get("/articles").json() == [f"{prefix}s"]  # the failed request's is gone


def test_a_failing_test_still_rolls_back(databases: Databases, prefix: str) -> None:
    database = databases()
    transaction = TestTransaction(database)

    def a_failing_test() -> None:
        with transaction, TestClient(make_app(database)) as client:
            assert client.post(f"/articles/{prefix}x").status_code == 201
            raise AssertionError("the test fails here")

    with pytest.raises(AssertionError, match="fails here"):
        a_failing_test()
    assert not transaction.active
    assert stored(databases, prefix) == []


def test_with_the_async_client_the_test_and_the_app_share_the_transaction(
    databases: Databases, prefix: str
) -> None:
    database = databases()

    async def main() -> None:
        async with TestTransaction(database) as transaction:
            async with AsyncTestClient(make_app(database)) as client:
                async with database.session() as db:
                    db.add(Article(slug=f"{prefix}seed", title="Seed"))
                    await db.flush()  # not committed: the request still sees it
                    assert (await client.get("/articles")).json() == [f"{prefix}seed"]
                    assert (await client.post(f"/articles/{prefix}one")).status_code == 201
                    assert await db.count(Article) == 2  # and the test sees the request's
                    beside = await client.post(f"/articles/{prefix}two/beside")
                    assert beside.json() == 4  # a handler's second session nests in the first
                    await db.commit()
                assert transaction.active
            assert not transaction.active  # the app's shutdown rolled it back

    asyncio.run(main())
    assert stored(databases, prefix) == []


def test_requests_sent_together_take_turns(databases: Databases, prefix: str) -> None:
    database = databases()

    async def main() -> list[int]:
        async with TestTransaction(database), AsyncTestClient(make_app(database)) as client:
            sent = [client.post(f"/articles/{prefix}{n}") for n in range(5)]
            responses = await asyncio.gather(*sent)
            return sorted(response.json() for response in responses)

    # Each one ran alone from its first query to its commit: the counts are 1 to 5.
    assert asyncio.run(main()) == [1, 2, 3, 4, 5]
    assert stored(databases, prefix) == []


def test_sync_sessions_join_a_sync_transaction(databases: Databases, prefix: str) -> None:
    database = databases()
    with TestTransaction(database) as transaction:
        with database.sync_session() as db:  # from the test's own thread, no event loop
            db.add(Article(slug=f"{prefix}seed", title="Seed"))
            db.commit()
        with TestClient(make_app(database)) as client:
            assert client.post(f"/sync/{prefix}a").json() == 2
            assert client.get("/sync").json() == [f"{prefix}a", f"{prefix}seed"]
            assert client.get("/articles").json() == []  # async sessions have their own
        assert not transaction.active
    assert stored(databases, prefix) == []


def test_sync_requests_sent_together_take_turns(databases: Databases, prefix: str) -> None:
    database = databases()

    async def main() -> list[int]:
        async with TestTransaction(database), AsyncTestClient(make_app(database)) as client:
            sent = [client.post(f"/sync/{prefix}{n}") for n in range(4)]
            return sorted(response.json() for response in await asyncio.gather(*sent))

    assert asyncio.run(main()) == [1, 2, 3, 4]
    assert stored(databases, prefix) == []


def test_the_end_of_the_event_loop_rolls_back(databases: Databases, prefix: str) -> None:
    database = databases()

    async def write() -> None:
        async with database.session() as db:
            db.add(Article(slug=f"{prefix}a", title="A"))
            await db.commit()  # and no dispose: the end of asyncio.run rolls back

    with TestTransaction(database) as transaction:
        asyncio.run(write())
        assert not transaction.active
    assert stored(databases, prefix) == []
    with TestTransaction(database) as transaction:
        client = TestClient(make_app(database))  # no "with": no shutdown, only close()
        assert client.post(f"/articles/{prefix}b").status_code == 201
        client.close()
        assert not transaction.active
    assert stored(databases, prefix) == []


def test_moving_to_another_loop_fails_loudly_unless_rolled_back(
    databases: Databases, prefix: str
) -> None:
    database = databases()

    async def seed() -> None:
        async with database.session() as db:
            db.add(Article(slug=f"{prefix}seed", title="Seed"))
            await db.commit()

    with TestTransaction(database) as transaction:
        asyncio.run(seed())  # rolled back when this loop ends: the app would not see it
        with TestClient(make_app(database)) as client:
            assert client.get("/articles").status_code == 500  # not a misleading empty list
        with pytest.raises(RuntimeError, match="belongs to another event loop"):
            asyncio.run(seed())
        asyncio.run(transaction.rollback())  # done with that loop: the next may begin anew
        with TestClient(make_app(database)) as client:
            assert client.get("/articles").json() == []


def test_close_refuses_while_a_running_loop_holds_the_transaction(
    databases: Databases, prefix: str
) -> None:
    database = databases()
    transaction = TestTransaction(database)
    client = TestClient(make_app(database))
    assert client.post(f"/articles/{prefix}a").status_code == 201
    with pytest.raises(RuntimeError, match="still open"):
        transaction.close()
    client.close()  # its loop's shutdown rolls the transaction back
    assert not transaction.active
    assert stored(databases, prefix) == []


def test_one_per_database_and_closing_gives_ordinary_sessions_back(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'own.db'}")
    Model.metadata.create_all(database.sync_engine)
    with TestTransaction(database) as transaction:
        assert repr(transaction) == f"<TestTransaction idle on {database!r}>"
        with pytest.raises(RuntimeError, match="already has a TestTransaction"):
            TestTransaction(database)
    with TestClient(make_app(database)) as client:  # no transaction: commits are real
        assert client.post("/articles/real").status_code == 201
        assert client.post("/sync/real-sync").status_code == 201
    with Database(database.url).sync_session() as db:
        assert set(db.scalars(select(Article.slug))) == {"real", "real-sync"}
    database.sync_engine.dispose()
