"""The fast read path's own pool: limits, waiting, settings, dispose, reconnection."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa

from satchel.db import Database, Model, select
from tests.db.models import Book
from tests.services import POSTGRES_URL, require_service

# A read that holds its connection a moment, and says which server process ran it.
BACKEND = select(sa.func.pg_backend_pid(), sa.literal_column("pg_sleep(0.02)::text"))


@pytest.fixture
def postgres() -> str:
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    return POSTGRES_URL


def server_url() -> str:
    return POSTGRES_URL.replace("+asyncpg", "")


async def connections_named(name: str) -> int:
    """How many server connections carry ``application_name`` ``name``."""
    connection = await asyncpg.connect(server_url())
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name
        )
        return count
    finally:
        await connection.close()


def named_database(name: str, **options: object) -> Database:
    settings = {"server_settings": {"application_name": name}}
    return Database(POSTGRES_URL, engine_options={"connect_args": settings}, **options)  # type: ignore[arg-type]


def test_concurrent_reads_share_at_most_size_plus_overflow_connections(postgres: str) -> None:
    database = Database(postgres, pool_size=2, max_overflow=1)

    async def main() -> set[int]:
        try:
            rows = await asyncio.gather(*(database.reader.rows(BACKEND) for _ in range(24)))
            return {row[0][0] for row in rows}
        finally:
            await database.dispose()

    backends = asyncio.run(main())
    assert 1 <= len(backends) <= 3


def test_a_read_waits_at_most_pool_timeout_for_a_connection(postgres: str) -> None:
    database = Database(postgres, pool_size=1, max_overflow=0, pool_timeout=0.05)
    slow: sa.Select[str] = select(sa.literal_column("pg_sleep(1)::text"))

    async def main() -> None:
        try:
            holder = asyncio.create_task(database.reader.scalar(slow))
            await asyncio.sleep(0.2)  # the slow read holds the only connection
            with pytest.raises(sa.exc.TimeoutError, match="busy"):
                await database.reader.scalar(select(sa.literal(1)))
            await holder
            assert await database.reader.scalar(select(sa.literal(1))) == 1
        finally:
            await database.dispose()

    asyncio.run(main())


def test_connect_args_reach_the_read_connections(postgres: str) -> None:
    database = Database(
        postgres, engine_options={"connect_args": {"server_settings": {"search_path": "elsewhere"}}}
    )

    async def main() -> str | None:
        try:
            return await database.reader.scalar(select(sa.func.current_setting("search_path")))
        finally:
            await database.dispose()

    assert asyncio.run(main()) == "elsewhere"


def test_dispose_closes_the_connections_and_reads_reconnect_after(postgres: str) -> None:
    name = f"satchel-reads-{uuid.uuid4().hex[:12]}"
    database = named_database(name)

    async def main() -> None:
        try:
            first = await database.reader.scalar(select(sa.func.pg_backend_pid()))
            assert await connections_named(name) == 1
            await database.dispose()
            for _ in range(100):  # the server lists a closed connection a moment longer
                if await connections_named(name) == 0:
                    break
                await asyncio.sleep(0.05)
            assert await connections_named(name) == 0
            again = await database.reader.scalar(select(sa.func.pg_backend_pid()))
            assert again not in (None, first)
        finally:
            await database.dispose()

    asyncio.run(main())


def test_a_connection_the_server_closed_is_replaced_and_the_read_retried(postgres: str) -> None:
    database = Database(postgres, pool_size=1)

    async def main() -> None:
        try:
            pid = await database.reader.scalar(select(sa.func.pg_backend_pid()))
            admin = await asyncpg.connect(server_url())
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            again = await database.reader.scalar(select(sa.func.pg_backend_pid()))
            assert again not in (None, pid)
        finally:
            await database.dispose()

    asyncio.run(main())


def test_reads_move_to_a_new_event_loop(postgres: str) -> None:
    database = Database(postgres)
    one = select(sa.literal(1))
    # The first loop ends without dispose (a test client left open): its connections
    # are dropped, and the next loop opens its own.
    assert asyncio.run(database.reader.scalar(one)) == 1

    async def second() -> int | None:
        try:
            return await database.reader.scalar(one)
        finally:
            await database.dispose()

    assert asyncio.run(second()) == 1


def test_sqlite_reads_wait_their_turn_for_the_pools_connections(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}", pool_size=2, max_overflow=0)
    Model.metadata.create_all(database.sync_engine)
    with database.sync_transaction() as db:
        db.add(Book(id=1, isbn="1", title="One"))
    titled = select(Book.title).where(Book.id == 1)

    async def main() -> list[str | None]:
        try:
            return list(await asyncio.gather(*(database.reader.scalar(titled) for _ in range(20))))
        finally:
            await database.dispose()
            database.sync_engine.dispose()

    assert asyncio.run(main()) == ["One"] * 20


def test_in_memory_sqlite_reads_the_engines_database() -> None:
    database = Database("sqlite+aiosqlite://")

    async def main() -> list[str]:
        try:
            await database.create_all()
            async with database.transaction() as db:
                db.add(Book(id=1, isbn="1", title="One"))
            return await database.reader.scalars(select(Book.title))
        finally:
            await database.dispose()

    assert asyncio.run(main()) == ["One"]
