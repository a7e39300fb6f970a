"""DatabaseStore against real databases: SQLite (a file per test) and PostgreSQL.

PostgreSQL runs on 127.0.0.1:5432 (``scripts/services`` starts it); every test uses
a table of its own, dropped afterwards. Without PostgreSQL those tests skip, unless
``CI`` is set: there they fail.
"""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

import satchel.sessions
from satchel.errors import ConfigurationError, MissingDependencyError
from satchel.sessions.database import DatabaseStore
from tests.servers import free_port
from tests.services import POSTGRES_URL, require_service
from tests.sessions import store_contract as contract
from tests.sessions.store_contract import EXPIRY_BOUND_S, KEY, eventually_gone

Body = Callable[[DatabaseStore], Awaitable[None]]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of each database the store supports."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}"
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    return POSTGRES_URL


def run(url: str, body: Body) -> None:
    """Run ``body`` with a store on a new table, dropped and closed afterwards."""

    async def main() -> None:
        store = DatabaseStore(url, table=f"satchel_sessions_{uuid.uuid4().hex[:16]}")
        try:
            await store.create_table()
            await body(store)
        finally:
            async with store.engine.begin() as connection:
                await connection.run_sync(store.table.drop, checkfirst=True)
            await store.aclose()

    asyncio.run(main())


async def rows(store: DatabaseStore) -> dict[str, int]:
    """Every row's key and ``expires_at``, expired or not."""
    query = sa.select(store.table.c.key, store.table.c.expires_at)
    async with store.engine.connect() as connection:
        return {row.key: row.expires_at for row in await connection.execute(query)}


def test_save_load_replace_delete(database_url: str) -> None:
    async def body(store: DatabaseStore) -> None:
        assert await store.load(KEY) is None
        await store.save(KEY, b"first", 3600)
        assert await store.load(KEY) == b"first"
        await store.save(KEY, b"second", 3600)
        assert await store.load(KEY) == b"second"
        assert list(await rows(store)) == [KEY]
        await store.delete(KEY)
        assert await store.load(KEY) is None
        await store.delete(KEY)  # absent: no error

    run(database_url, body)


def test_saving_an_existing_session_only_replaces_a_live_one(database_url: str) -> None:
    run(database_url, contract.saving_an_existing_session_only_replaces_a_live_one)


def test_binary_data_round_trips(database_url: str) -> None:
    run(database_url, contract.binary_data_round_trips)


def test_replacing_a_session_renews_its_expiry(database_url: str) -> None:
    async def body(store: DatabaseStore) -> None:
        await store.save(KEY, b"old", 1)
        await store.save(KEY, b"new", 3600)
        # More than a minute left: the second save's ttl, not the first's.
        assert (await rows(store))[KEY] > time.time() * 1000 + 60_000
        assert await store.load(KEY) == b"new"

    run(database_url, body)


def test_expired_sessions_are_not_loaded_and_their_rows_go(database_url: str) -> None:
    async def body(store: DatabaseStore) -> None:
        await store.save(KEY, b"short", 1)
        await store.save("long", b"kept", 3600)
        assert await eventually_gone(store, KEY)
        assert list(await rows(store)) == ["long"]  # deleted when it was asked for
        assert await store.load("long") == b"kept"

    run(database_url, body)


def test_purge_expired_deletes_only_expired_rows(database_url: str) -> None:
    async def body(store: DatabaseStore) -> None:
        await store.save("short1", b"a", 1)
        await store.save("short2", b"b", 1)
        await store.save("long", b"kept", 3600)
        purged = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EXPIRY_BOUND_S
        while purged < 2 and loop.time() < deadline:
            purged += await store.purge_expired()
            await asyncio.sleep(0.1)
        assert purged == 2
        assert list(await rows(store)) == ["long"]
        assert await store.purge_expired() == 0

    run(database_url, body)


@pytest.mark.parametrize("key", contract.REFUSED_KEYS)
def test_keys_that_are_not_session_ids_are_refused(database_url: str, key: str) -> None:
    async def body(store: DatabaseStore) -> None:
        await contract.keys_that_are_not_session_ids_are_refused(store, key)
        assert await rows(store) == {}

    run(database_url, body)


def test_a_refused_key_is_not_repeated_in_the_error(tmp_path: Path) -> None:
    run(
        f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}",
        contract.a_refused_key_is_not_repeated_in_the_error,
    )


def test_the_longest_key_is_accepted(database_url: str) -> None:
    run(database_url, contract.the_longest_key_is_accepted)


@pytest.mark.parametrize("ttl", [0, -1])
def test_a_ttl_under_one_second_forgets_the_session(database_url: str, ttl: int) -> None:
    async def body(store: DatabaseStore) -> None:
        await contract.a_ttl_under_one_second_forgets_the_session(store, ttl)
        assert await rows(store) == {}

    run(database_url, body)


def test_parallel_saves_and_loads(database_url: str) -> None:
    async def body(store: DatabaseStore) -> None:
        await contract.parallel_saves_and_loads(store, 100)
        assert list(await rows(store)) == [KEY]

    run(database_url, body)


def test_create_table_can_run_again(database_url: str) -> None:
    async def body(store: DatabaseStore) -> None:
        await store.save(KEY, b"data", 60)
        await store.create_table()
        assert await store.load(KEY) == b"data"

    run(database_url, body)


def test_a_given_engine_is_used_and_left_open(tmp_path: Path) -> None:
    async def main() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
        try:
            store = DatabaseStore(engine=engine)
            assert store.engine is engine
            await store.create_table()
            await store.save(KEY, b"data", 60)
            await store.aclose()
            async with engine.connect() as connection:
                query = sa.select(store.table.c.data)
                assert (await connection.execute(query)).scalar_one() == b"data"
        finally:
            await engine.dispose()

    asyncio.run(main())


def test_an_owned_engine_reconnects_after_aclose(tmp_path: Path) -> None:
    async def body(store: DatabaseStore) -> None:
        await store.save(KEY, b"data", 60)
        await store.aclose()
        assert await store.load(KEY) == b"data"

    run(f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}", body)


def test_url_and_engine_together_are_refused(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    with pytest.raises(ValueError, match="not both"):
        DatabaseStore("sqlite+aiosqlite:///other.db", engine=engine)


def test_the_defaults() -> None:
    store = DatabaseStore()
    assert str(store.engine.url) == "sqlite+aiosqlite:///sessions.db"
    assert store.table.name == "satchel_sessions"
    assert [column.name for column in store.table.columns] == ["key", "data", "expires_at"]


def test_other_databases_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No MySQL driver here: an SQLite engine stands in for one, named as one.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setattr(engine.dialect, "name", "mysql")
    with pytest.raises(ConfigurationError, match="SQLite and PostgreSQL, not 'mysql'"):
        DatabaseStore(engine=engine)


def test_postgresql_down_raises_the_drivers_error() -> None:
    async def main() -> None:
        store = DatabaseStore(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test")
        try:
            with pytest.raises(OSError, match="Connect call failed"):
                await store.load(KEY)
            with pytest.raises(OSError, match="Connect call failed"):
                await store.save(KEY, b"x", 60)
        finally:
            await store.aclose()

    asyncio.run(main())


def test_without_sqlalchemy_installed_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    monkeypatch.delitem(sys.modules, "satchel.sessions.database")
    with pytest.raises(MissingDependencyError, match=r"pip install 'satchel\[db\]'"):
        importlib.import_module("satchel.sessions.database")


def test_the_sessions_package_names_it() -> None:
    assert satchel.sessions.DatabaseStore is DatabaseStore


def test_importing_the_sessions_package_does_not_import_sqlalchemy() -> None:
    code = "import sys, satchel, satchel.sessions; print('sqlalchemy' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"
