"""An empty database per test, on SQLite (a fresh file) and PostgreSQL (a fresh schema)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from satchel.db import Database
from satchel.db.migrations import Migrations
from satchel.db.models import NAMING_CONVENTION
from tests.services import POSTGRES_URL, require_service

T = TypeVar("T")


@dataclass
class Backend:
    """Where a test's database is: enough to make a ``Database`` here or in another module."""

    name: str
    url: str
    engine_options: dict[str, Any] = field(default_factory=dict)

    def database(self) -> Database:
        return Database(self.url, engine_options=self.engine_options)


@dataclass
class Project:
    """A project's migrations folder and database; ``at(metadata)`` migrates to those models."""

    backend: Backend
    directory: Path
    database: Database

    def at(self, metadata: sa.MetaData) -> Migrations:
        return Migrations(self.database, metadata=metadata, directory=self.directory)

    def inspect(self, read: Callable[[sa.Inspector], T]) -> T:
        """What ``read`` finds in the database's schema."""
        return run_sync(self.database, lambda connection: read(sa.inspect(connection)))

    def execute(self, statement: str, **parameters: Any) -> list[tuple[Any, ...]]:
        """Run one statement, committed; return its rows (none for a write)."""

        def run(connection: sa.Connection) -> list[tuple[Any, ...]]:
            result = connection.execute(sa.text(statement), parameters)
            rows = [tuple(row) for row in result] if result.returns_rows else []
            connection.commit()
            return rows

        return run_sync(self.database, run)


def run_sync(database: Database, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work`` on a connection of ``database``, leaving no connection behind."""

    async def run() -> T:
        try:
            async with database.engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await database.dispose()

    return asyncio.run(run())


def metadata() -> sa.MetaData:
    """A MetaData of a test's own, named as ``satchel.db.Model``'s is."""
    return sa.MetaData(naming_convention=NAMING_CONVENTION)


async def _execute(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
        return
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    schema = f"test_{uuid.uuid4().hex}"
    asyncio.run(_execute(POSTGRES_URL, f'CREATE SCHEMA "{schema}"'))
    try:
        search_path = {"server_settings": {"search_path": schema}}
        yield Backend("postgresql", POSTGRES_URL, {"connect_args": search_path})
    finally:
        asyncio.run(_execute(POSTGRES_URL, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def project(backend: Backend, tmp_path: Path) -> Project:
    return Project(backend, tmp_path / "migrations", backend.database())
