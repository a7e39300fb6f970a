"""A Database per test, on SQLite (a fresh file) and PostgreSQL (a fresh schema, dropped after)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from satchel.db import Database
from tests.services import POSTGRES_URL, require_service


async def _execute(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def _create_tables(database: Database) -> None:
    await database.create_all()
    # The app's requests run on another event loop: leave no connection behind for them.
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A Database with every model's table, on each supported database."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
        asyncio.run(_create_tables(db))
        yield db
        return
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    schema = f"test_{uuid.uuid4().hex}"
    asyncio.run(_execute(POSTGRES_URL, f'CREATE SCHEMA "{schema}"'))
    try:
        search_path = {"server_settings": {"search_path": schema}}
        db = Database(POSTGRES_URL, engine_options={"connect_args": search_path})
        asyncio.run(_create_tables(db))
        yield db
    finally:
        asyncio.run(_execute(POSTGRES_URL, f'DROP SCHEMA "{schema}" CASCADE'))
