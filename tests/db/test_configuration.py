"""Configuring a Database: URLs, settings, and the sync engine derived from the async one."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from satchel import Settings
from satchel.db import DEFAULT_URL, Database
from satchel.errors import ConfigurationError
from satchel.settings import SettingsError
from tests.services import POSTGRES_URL, require_service


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("sqlite:///app.db", "sqlite+aiosqlite:///app.db"),
        ("postgresql://u:pw@db/app", "postgresql+asyncpg://u:pw@db/app"),
        ("postgres://u:pw@db/app", "postgresql+asyncpg://u:pw@db/app"),
        ("postgres+asyncpg://db/app", "postgresql+asyncpg://db/app"),
        ("postgresql+psycopg://db/app", "postgresql+psycopg://db/app"),
        ("sqlite+aiosqlite:///app.db", "sqlite+aiosqlite:///app.db"),
    ],
)
def test_urls_without_a_driver_get_the_async_one(given: str, used: str) -> None:
    assert Database(given).url == used


@pytest.mark.parametrize(
    ("given", "suggested"),
    [
        ("postgresql+psycopg2://u:hunter2@db/app", "postgresql+asyncpg://"),
        ("sqlite+pysqlite:///app.db", "sqlite+aiosqlite://"),
        ("mysql://u@db/app", "mysql+aiomysql://"),
    ],
)
def test_a_sync_driver_is_refused_with_the_async_one_suggested(given: str, suggested: str) -> None:
    with pytest.raises(ConfigurationError, match="names the sync driver") as raised:
        Database(given)
    assert f"use {suggested}" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_unknown_and_unparsable_urls_are_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigurationError, match="unknown database 'nosuchdb'"):
        Database("nosuchdb://u:pw@host/db")
    with pytest.raises(ConfigurationError, match="cannot be parsed") as raised:
        Database("not a url, password=hunter2")
    assert "hunter2" not in str(raised.value)


def test_from_settings_reads_every_database_field() -> None:
    settings = Settings.from_env(
        environ={
            "SATCHEL_DATABASE_URL": "postgres://app:hunter2@db/shop",
            "SATCHEL_DATABASE_ECHO": "yes",
            "SATCHEL_DATABASE_POOL_SIZE": "7",
            "SATCHEL_DATABASE_MAX_OVERFLOW": "0",
            "SATCHEL_DATABASE_POOL_TIMEOUT": "2.5",
            "SATCHEL_DATABASE_POOL_RECYCLE": "300",
            "SATCHEL_DATABASE_POOL_PRE_PING": "on",
        },
        env_file=None,
    )
    assert "hunter2" not in repr(settings)  # the URL may hold a password: a secret setting
    database = Database.from_settings(settings)
    assert database.url == "postgresql+asyncpg://app:hunter2@db/shop"
    for engine in (database.engine.sync_engine, database.sync_engine):
        pool = engine.pool
        assert isinstance(pool, sa.QueuePool)
        assert (pool.size(), pool.timeout(), pool._max_overflow) == (7, 2.5, 0)
        assert (pool._recycle, pool._pre_ping, engine.echo) == (300, True, True)
    assert database.sync_engine.url.drivername == "postgresql+psycopg"


def test_from_settings_defaults_and_overrides() -> None:
    settings = Settings()
    assert settings.database_url == DEFAULT_URL
    assert Database.from_settings(settings).url == DEFAULT_URL
    overridden = Database.from_settings(settings, url="sqlite:///other.db", echo=True)
    assert (overridden.url, overridden.engine.echo) == ("sqlite+aiosqlite:///other.db", True)


def test_bad_pool_settings_are_named() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            environ={"SATCHEL_DATABASE_POOL_SIZE": "0", "SATCHEL_DATABASE_POOL_TIMEOUT": "-1"},
            env_file=None,
        )
    assert [error.split(":")[0] for error in raised.value.errors] == [
        "SATCHEL_DATABASE_POOL_SIZE",
        "SATCHEL_DATABASE_POOL_TIMEOUT",
    ]


@pytest.mark.parametrize(
    ("url", "sync"),
    [
        ("sqlite+aiosqlite:///app.db", "sqlite+pysqlite:///app.db"),
        (
            "postgresql+asyncpg://u:pw@db/app?ssl=require",
            "postgresql+psycopg://u:pw@db/app?ssl=require",
        ),
        ("postgresql+psycopg://db/app", "postgresql+psycopg://db/app"),
    ],
)
def test_the_sync_engine_uses_the_same_database_through_a_sync_driver(url: str, sync: str) -> None:
    engine = Database(url).sync_engine
    assert engine.url.render_as_string(hide_password=False) == sync


def test_server_settings_carry_over_to_the_sync_engine() -> None:
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    settings = {"application_name": "satchel test", "statement_timeout": "4s"}
    database = Database(
        POSTGRES_URL,
        # asyncpg's own arguments (timeout) stay with it; the sync engine may get its own.
        engine_options={"connect_args": {"server_settings": settings, "timeout": 3}},
        sync_engine_options={"connect_args": {"connect_timeout": 4}},
    )
    with database.sync_engine.connect() as connection:
        assert connection.scalar(sa.text("SHOW application_name")) == "satchel test"
        assert connection.scalar(sa.text("SHOW statement_timeout")) == "4s"
    database.sync_engine.dispose()


def test_a_driver_without_a_known_sync_twin_needs_sync_url() -> None:
    database = Database("mssql+aioodbc://db/app")
    with pytest.raises(ConfigurationError, match=r"pass Database\(sync_url=...\)"):
        database.sync_engine  # noqa: B018 - the property is what fails
    explicit = Database("mssql+aioodbc://db/app", sync_url="sqlite:///fallback.db")
    assert explicit.sync_engine.url.database == "fallback.db"


def test_threads_asking_at_once_share_one_sync_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Sync handlers' first requests ask for the engine from several worker threads: an
    # engine made twice would leave one pool that nothing ever disposes.
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    made: list[sa.Engine] = []
    seen: list[sa.Engine] = []
    threads: list[threading.Thread] = []
    create_engine = sa.create_engine

    def create_while_another_thread_asks(*args: Any, **kwargs: Any) -> sa.Engine:
        if not made and threading.current_thread() is threading.main_thread():
            asking = threading.Thread(target=lambda: seen.append(database.sync_engine))
            asking.start()
            # It waits for this engine (this join gives up), or makes one of its own.
            asking.join(timeout=0.5)
            threads.append(asking)
        engine = create_engine(*args, **kwargs)
        made.append(engine)
        return engine

    monkeypatch.setattr(sa, "create_engine", create_while_another_thread_asks)
    try:
        engine = database.sync_engine
        for thread in threads:
            thread.join()
        assert seen == [engine]
        assert made == [engine]
    finally:
        for each in made:
            each.dispose()
