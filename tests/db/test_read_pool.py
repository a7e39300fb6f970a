"""The fast read path's own pool: limits, waiting, settings, dispose, reconnection."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa

from satchel.db import Database, Model, select
from tests.db.models import Book
from tests.services import POSTGRES_URL, require_service

# A read that holds its connection a moment, and says which server process ran it.
BACKEND = select(sa.func.pg_backend_pid(), sa.literal_column("pg_sleep(0.02)::text"))
# A read that holds its connection until cancelled (or for a minute).
STUCK: sa.Select[str] = select(sa.literal_column("pg_sleep(60)::text"))
PID = select(sa.func.pg_backend_pid())


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


async def until(check: Any) -> None:
    """Wait (a few seconds at most) until the awaitable ``check()`` is true."""
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the server never got there")


async def statements_running(name: str) -> int:
    """How many statements the connections named ``name`` are running now."""
    connection = await asyncpg.connect(server_url())
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
            "AND state = 'active' AND query LIKE '%pg_sleep(60)%'",
            name,
        )
        return count
    finally:
        await connection.close()


async def _running(name: str, count: int) -> bool:
    return await statements_running(name) == count


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


def test_a_cancelled_read_gives_its_slot_back_and_its_connection_up(postgres: str) -> None:
    name = f"satchel-reads-{uuid.uuid4().hex[:12]}"
    # One connection: a slot the cancelled read kept would make the next read time out.
    database = named_database(name, pool_size=1, max_overflow=0, pool_timeout=10)

    async def main() -> None:
        try:
            first = await database.reader.scalar(PID)
            stuck = asyncio.create_task(database.reader.scalar(STUCK))
            await until(lambda: _running(name, 1))
            stuck.cancel()  # a client gone, a request timing out
            with pytest.raises(asyncio.CancelledError):
                await stuck
            # The statement was cancelled on the server, and its connection, in an
            # unknown state mid-statement, is not used again.
            await until(lambda: _running(name, 0))
            assert await database.reader.scalar(PID) not in (None, first)
        finally:
            await database.dispose()

    asyncio.run(main())


def test_a_read_cancelled_while_waiting_for_a_connection_takes_no_slot(postgres: str) -> None:
    database = Database(postgres, pool_size=1, max_overflow=0, pool_timeout=10)

    async def main() -> set[int]:
        try:
            holder = asyncio.create_task(database.reader.rows(BACKEND))
            waiting = [asyncio.create_task(database.reader.rows(BACKEND)) for _ in range(3)]
            await asyncio.sleep(0)  # all of them asking for the one connection
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
            await holder
            rows = await asyncio.gather(*(database.reader.rows(BACKEND) for _ in range(6)))
            return {row[0][0] for row in rows}
        finally:
            await database.dispose()

    assert len(asyncio.run(main())) == 1  # still one connection, none lost


# Statements still running a moment after they start (SQLite: counting, its own way).
RUNNING: dict[str, sa.Select[Any]] = {
    "postgresql": select(sa.literal_column("pg_sleep(0.5)::text")),
    "sqlite": select(
        sa.literal_column(
            "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 3000000) SELECT count(*) FROM n)"
        )
    ),
}


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
@pytest.mark.parametrize("cancelled", [True, False], ids=["cancelled", "finished"])
def test_connections_given_back_after_dispose_are_closed_before_the_loop_ends(
    kind: str, cancelled: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "postgresql":
        require_service("PostgreSQL", POSTGRES_URL, 5432)
        database = Database(POSTGRES_URL)
    else:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    leftovers: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: leftovers.append(repr(info)))
    monkeypatch.setattr(threading, "excepthook", lambda info: leftovers.append(repr(info)))

    async def main() -> None:
        reading = asyncio.create_task(database.reader.scalar(RUNNING[kind]))
        await asyncio.sleep(0.1)  # running
        await database.dispose()  # the app shuts down while a request still reads
        if cancelled:
            reading.cancel()  # and the loop's end cancels it
        else:
            await reading  # or it ends, and the loop right after

    asyncio.run(main())
    gc.collect()
    # No "unclosed connection" left to the garbage collector, no driver thread
    # finding its loop closed.
    assert leftovers == []


def test_a_read_waiting_when_the_database_is_disposed_of_is_served_after(postgres: str) -> None:
    database = Database(postgres, pool_size=1, max_overflow=0, pool_timeout=10)
    slow: sa.Select[str] = select(sa.literal_column("pg_sleep(0.3)::text"))

    async def main() -> tuple[Any, Any]:
        try:
            holder = asyncio.create_task(database.reader.scalar(slow))
            await asyncio.sleep(0.1)  # the slow read holds the only connection
            waiting = asyncio.create_task(database.reader.scalar(select(sa.literal(1))))
            await asyncio.sleep(0.05)  # waiting for it
            await database.dispose()
            return await holder, await waiting
        finally:
            await database.dispose()

    assert asyncio.run(main()) == ("", 1)


def test_overflow_minus_one_or_size_zero_set_no_limit(postgres: str) -> None:
    # SQLAlchemy's meaning of the settings; 8 reads at once then open 8 connections.
    for options in ({"pool_size": 1, "max_overflow": -1}, {"pool_size": 0}):
        database = Database(postgres, **options)  # type: ignore[arg-type]

        async def main(database: Database = database) -> set[int]:
            try:
                rows = await asyncio.gather(*(database.reader.rows(BACKEND) for _ in range(8)))
                return {row[0][0] for row in rows}
            finally:
                await database.dispose()

        assert len(asyncio.run(main())) == 8, options


def test_pool_recycle_replaces_connections_handed_over_and_minus_one_never(postgres: str) -> None:
    # pool_recycle=0: every connection is too old when given back, even to a waiting read.
    recycled = Database(postgres, pool_size=1, max_overflow=0, pool_recycle=0)
    kept = Database(postgres, pool_size=1, max_overflow=0, pool_recycle=-1)

    async def main() -> tuple[set[int], set[int]]:
        try:
            at_once = await asyncio.gather(*(recycled.reader.rows(BACKEND) for _ in range(2)))
            in_turn = [await kept.reader.scalar(PID) for _ in range(3)]
            return {row[0][0] for row in at_once}, set(in_turn)  # type: ignore[arg-type]
        finally:
            await recycled.dispose()
            await kept.dispose()

    replaced, same = asyncio.run(main())
    assert (len(replaced), len(same)) == (2, 1)


def test_each_event_loop_reads_on_connections_of_its_own(postgres: str) -> None:
    database = Database(postgres, pool_size=1)
    turns = threading.Barrier(2, timeout=30)
    seen: dict[int, list[int | None]] = {0: [], 1: []}

    def reads_in_turn(me: int) -> None:
        # Two threads, a loop each, reading one after the other.
        async def main() -> None:
            for _ in range(3):
                for turn in (0, 1):
                    if turn == me:
                        seen[me].append(await database.reader.scalar(PID))
                    turns.wait()

        asyncio.run(main())

    threads = [threading.Thread(target=reads_in_turn, args=(me,)) for me in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    asyncio.run(database.dispose())
    # Each loop kept its own connection: neither replaced the other's pool.
    assert [len(set(pids)) for pids in seen.values()] == [1, 1]
    assert seen[0][0] != seen[1][0]


def test_dispose_closes_the_pool_of_a_loop_running_in_another_thread(postgres: str) -> None:
    name = f"satchel-reads-{uuid.uuid4().hex[:12]}"
    database = named_database(name)
    read, disposed = threading.Event(), threading.Event()
    closed_there: list[bool] = []

    def serve() -> None:
        # Another loop (a worker thread's) reads, then keeps running.
        async def main() -> None:
            await database.reader.scalar(PID)
            read.set()
            await asyncio.to_thread(disposed.wait, 30)
            await until(lambda: _named(name, 0))  # closed there, by that loop
            closed_there.append(True)

        asyncio.run(main())

    server = threading.Thread(target=serve)
    server.start()
    try:
        assert read.wait(30)
        assert asyncio.run(connections_named(name)) == 1
        asyncio.run(database.dispose())
    finally:
        disposed.set()
        server.join()
    assert closed_there == [True]


async def _named(name: str, count: int) -> bool:
    return await connections_named(name) == count
