"""The ``database`` fixture: a Database per test, isolated, on SQLite and on PostgreSQL.

- SQLite: a fresh file under the test's ``tmp_path``, with every model's table; what
  the test commits is committed for real, into that file only.
- PostgreSQL: the tables are created once per test session, committed, in a schema of
  their own (``postgres_schema``); each test runs in a transaction rolled back after it
  (``satchel.db.testing.TestTransaction``), so even what handlers commit is gone for the
  next test.

A test does all its async database work on one event loop: the app's under
``TestClient``, or its own (``asyncio.run``) with ``AsyncTestClient``; see
docs/testing.md, "Databases in tests". Leave the tables alone (no ``create_all`` or
``drop_all``): on PostgreSQL they are shared by the whole session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from satchel.db import Database, Model
from satchel.db.testing import TestTransaction
from tests.services import POSTGRES_URL, require_service


def postgres_database(schema: str) -> Database:
    """A Database whose connections, async and sync, use ``schema``."""
    search_path = {"server_settings": {"search_path": schema}}
    return Database(POSTGRES_URL, engine_options={"connect_args": search_path})


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A schema for this test session with every model's table, dropped at its end."""
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    schema = f"test_{uuid.uuid4().hex}"
    admin = Database(POSTGRES_URL).sync_engine
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        tables = postgres_database(schema).sync_engine
        Model.metadata.create_all(tables)
        tables.dispose()
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A Database with every model's table that no other test sees, on each database."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
        Model.metadata.create_all(db.sync_engine)
        try:
            yield db
        finally:
            db.sync_engine.dispose()
        return
    db = postgres_database(request.getfixturevalue("postgres_schema"))
    try:
        with TestTransaction(db):
            yield db
    finally:
        db.sync_engine.dispose()
