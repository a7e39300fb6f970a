"""A session store in a SQL table (SQLAlchemy 2 async Core), on SQLite or PostgreSQL.

Needs the ``db`` extra (``pip install 'satchel[db]'``); importing this module
without it raises ``MissingDependencyError``. ``import satchel.sessions`` does not
import it: it loads on first use of ``satchel.sessions.DatabaseStore``.

One row per session: ``key`` (the session id, primary key), ``data`` (bytes) and
``expires_at`` (Unix time in milliseconds, an integer: the same on every database,
no time zone to get wrong). Expired rows are never returned; ``load`` deletes the
one it was asked for, and ``purge_expired()`` deletes the rest, so run it now and
then (a scheduled job, like Django's ``clearsessions``). Expiry follows the clock
of the application's machines, which must agree.

Database errors propagate unchanged, so a request fails with a server error rather
than running without its session: an unreachable PostgreSQL raises the driver's
``OSError`` (``ConnectionRefusedError`` with asyncpg), an SQLite file that cannot be
opened ``sqlalchemy.exc.OperationalError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from satchel.errors import ConfigurationError, MissingDependencyError
from satchel.sessions.store import check_session_key

try:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "db") from exc

__all__ = ["DEFAULT_URL", "DatabaseStore"]

#: The database ``DatabaseStore()`` uses when given neither ``url`` nor ``engine``.
DEFAULT_URL = "sqlite+aiosqlite:///sessions.db"
# Saving is one atomic upsert (INSERT ... ON CONFLICT DO UPDATE), written per dialect.
_INSERTS: dict[str, Callable[[sa.Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class DatabaseStore:
    """Server-side sessions in a database table; implements ``SessionStore``.

    Create the table once before serving with ``await store.create_table()`` (a
    migration will own it once Satchel has migrations).

    Args:
        url: An async SQLAlchemy URL, ``sqlite+aiosqlite:///path.db`` or
            ``postgresql+asyncpg://user@host/db``; defaults to ``DEFAULT_URL``.
        engine: An ``AsyncEngine`` to use instead of ``url``, shared with the rest
            of the application. The caller owns it: ``aclose()`` leaves it open.
        table: The table's name.

    Raises:
        ValueError: Both ``url`` and ``engine`` were given.
        ConfigurationError: The database is neither SQLite nor PostgreSQL.

    >>> store = DatabaseStore("sqlite+aiosqlite:///:memory:", table="web_sessions")
    >>> store.table.name
    'web_sessions'
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        engine: AsyncEngine | None = None,
        table: str = "satchel_sessions",
    ) -> None:
        if url is not None and engine is not None:
            raise ValueError("give DatabaseStore a url or an engine, not both")
        self._owns_engine = engine is None
        # No connection is made until the first query.
        self.engine = engine if engine is not None else create_async_engine(url or DEFAULT_URL)
        dialect = self.engine.dialect.name
        if dialect not in _INSERTS:
            raise ConfigurationError(
                f"DatabaseStore works with SQLite and PostgreSQL, not {dialect!r}"
            )
        self._insert = _INSERTS[dialect]
        #: The table, for migrations (``store.table.metadata``) and queries of your own.
        self.table = sa.Table(
            table,
            sa.MetaData(),
            # 128: the longest key check_session_key accepts.
            sa.Column("key", sa.String(128), primary_key=True),
            sa.Column("data", sa.LargeBinary, nullable=False),
            sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
        )

    async def create_table(self) -> None:
        """Create the table and its index unless they exist (safe to call on every start)."""
        async with self.engine.begin() as connection:
            await connection.execute(sa.schema.CreateTable(self.table, if_not_exists=True))
            for index in self.table.indexes:
                await connection.execute(sa.schema.CreateIndex(index, if_not_exists=True))

    async def load(self, key: str) -> bytes | None:
        """The data saved under ``key``, or None when absent or expired."""
        query = sa.select(self.table.c.data, self.table.c.expires_at).where(
            self.table.c.key == check_session_key(key)
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        now = _now_ms()
        if row.expires_at <= now:
            # Only if still expired: a concurrent save may have renewed it since.
            await self._execute(
                sa.delete(self.table).where(self.table.c.key == key, self.table.c.expires_at <= now)
            )
            return None
        data: bytes = row.data
        return data

    async def save(self, key: str, data: bytes, ttl: int, *, existing: bool = False) -> bool:
        """Save ``data`` under ``key``, replacing it; it expires after ``ttl`` seconds.

        With ``existing=True``, only if ``key`` has a row that has not expired (one
        ``UPDATE``, atomic). A ``ttl`` under one second keeps nothing: ``key`` is
        forgotten, as in ``MemoryStore``.

        Returns:
            Whether ``data`` was saved.

        Raises:
            ValueError: ``key`` is not a session id.
        """
        if ttl < 1:
            await self.delete(key)
            return False
        now = _now_ms()
        row = {"key": check_session_key(key), "data": data, "expires_at": now + ttl * 1000}
        if existing:
            table = self.table
            update = (
                sa.update(table)
                .where(table.c.key == key, table.c.expires_at > now)
                .values(data=data, expires_at=row["expires_at"])
            )
            return await self._execute(update) == 1
        insert = self._insert(self.table).values(row)
        upsert = insert.on_conflict_do_update(
            index_elements=[self.table.c.key],
            set_={"data": insert.excluded.data, "expires_at": insert.excluded.expires_at},
        )
        await self._execute(upsert)
        return True

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        await self._execute(sa.delete(self.table).where(self.table.c.key == check_session_key(key)))

    async def purge_expired(self) -> int:
        """Delete every expired session; returns how many were deleted."""
        return await self._execute(
            sa.delete(self.table).where(self.table.c.expires_at <= _now_ms())
        )

    async def aclose(self) -> None:
        """Close the connections the store opened; it reconnects if used again.

        An engine given to the constructor is left for its owner to dispose of.
        """
        if self._owns_engine:
            await self.engine.dispose()

    async def _execute(self, statement: sa.Executable) -> int:
        """Run one writing statement in its own transaction; returns the rows it touched."""
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return result.rowcount
