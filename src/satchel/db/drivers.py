"""The drivers the fast read path talks to directly: asyncpg and aiosqlite.

Each ``Driver`` opens connections configured as SQLAlchemy's dialect configures its
own (the URL's options, ``connect_args``, what the dialect's ``on_connect`` sets up:
asyncpg's JSON codecs, SQLite's ``REGEXP`` and ``floor``), runs a statement and
returns the raw rows, and says which errors mean "a value in the request cannot be
stored" (answered 400, as ``satchel.db.errors`` does for sessions) and which mean the
connection is gone (the read is retried once on a new one).
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from satchel.db.errors import is_unstorable_state
from satchel.errors import ConfigurationError

__all__ = ["AiosqliteDriver", "AsyncpgDriver", "Driver", "driver_for"]

# SQLAlchemy's asyncpg options that asyncpg.connect does not take.
_SQLALCHEMY_ONLY = ("prepared_statement_name_func", "async_creator_fn")
# Seconds a polite close may take (an unreachable server never answers); then it is
# aborted, as SQLAlchemy's adapter does, so that dispose() always ends.
_CLOSE_TIMEOUT = 5.0


class Driver(Protocol):
    """How the fast read path uses one database driver."""

    #: Whether a connection of its own would see another database (in-memory SQLite):
    #: reads then borrow the engine's connection.
    private_database: bool

    async def connect(self) -> Any:
        """A new connection."""

    async def close(self, connection: Any) -> None:
        """Close ``connection`` politely."""

    def is_closed(self, connection: Any) -> bool:
        """Whether ``connection`` can no longer be used."""

    async def fetch(
        self, connection: Any, sql: str, arguments: Sequence[Any], one: bool
    ) -> Sequence[Sequence[Any]]:
        """The rows ``sql`` returns (at most the first, when ``one``)."""

    async def describe(self, connection: Any, sql: str) -> list[Any]:
        """The driver's type code of each result column of ``sql`` (None when it has none)."""

    def inside_transaction(self, connection: Any) -> AbstractAsyncContextManager[None]:
        """Around reads in a transaction someone else began: a failure leaves it usable."""

    def abandon(self, connection: Any) -> None:
        """Drop ``connection`` without awaiting (its event loop is gone), as well as can be."""

    def unstorable(self, error: BaseException) -> bool:
        """Whether ``error`` means a value sent cannot be stored (a 400)."""


class AsyncpgDriver:
    """PostgreSQL through asyncpg: prepared statements, one round trip per read."""

    private_database = False

    def __init__(self, dialect: Dialect, url: sa.URL, connect_args: dict[str, Any]) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self._asyncpg = asyncpg
        self._dialect = dialect
        _, options = dialect.create_connect_args(url)
        options = {**options, **connect_args}
        for name in _SQLALCHEMY_ONLY:
            options.pop(name, None)
        # SQLAlchemy's name for the size of the prepared statement cache; asyncpg keeps its own.
        cache_size = options.pop("prepared_statement_cache_size", None)
        if cache_size is not None:
            options["statement_cache_size"] = int(cache_size)
        self._options = options

    async def connect(self) -> Any:
        connection = await self._asyncpg.connect(**self._options)
        try:
            # The codecs SQLAlchemy's dialect installs, so JSON reads back the same.
            adapted = types.SimpleNamespace(_connection=connection)
            dialect: Any = self._dialect
            await dialect.setup_asyncpg_json_codec(adapted)
            await dialect.setup_asyncpg_jsonb_codec(adapted)
            if getattr(dialect, "_native_inet_types", None) is False:
                await dialect._disable_asyncpg_inet_codecs(adapted)
        except BaseException:
            connection.terminate()
            raise
        return connection

    async def close(self, connection: Any) -> None:
        # asyncpg first waits for a cancelled statement's cancellation (asyncpg sends
        # it when the awaiting task is cancelled), and aborts the connection on failure.
        await connection.close(timeout=_CLOSE_TIMEOUT)

    def is_closed(self, connection: Any) -> bool:
        closed: bool = connection.is_closed()
        return closed

    async def fetch(
        self, connection: Any, sql: str, arguments: Sequence[Any], one: bool
    ) -> Sequence[Sequence[Any]]:
        if one:
            row = await connection.fetchrow(sql, *arguments)
            return () if row is None else (row,)
        rows: list[Any] = await connection.fetch(sql, *arguments)
        return rows

    async def describe(self, connection: Any, sql: str) -> list[Any]:
        # The unnamed statement (name=""): nothing stays prepared on the server for it,
        # whatever the statement cache's size (0 behind PgBouncer's transaction mode,
        # where a named statement would be left on a server connection shared by others).
        prepared = await connection.prepare(sql, name="")
        return [attribute.type.oid for attribute in prepared.get_attributes()]

    @contextlib.asynccontextmanager
    async def inside_transaction(self, connection: Any) -> AsyncIterator[None]:
        # A failed statement aborts PostgreSQL's transaction: a savepoint contains it.
        # (SQLAlchemy's adapter sends BEGIN with its first statement: there may be none yet.)
        if not connection.is_in_transaction():
            yield
            return
        await connection.execute("SAVEPOINT satchel_read")
        try:
            yield
        except BaseException:
            await connection.execute("ROLLBACK TO SAVEPOINT satchel_read")
            raise
        await connection.execute("RELEASE SAVEPOINT satchel_read")

    def abandon(self, connection: Any) -> None:
        with contextlib.suppress(Exception):  # its loop may be closed already
            connection.terminate()

    def unstorable(self, error: BaseException) -> bool:
        return is_unstorable_state(error)


class AiosqliteDriver:
    """SQLite through aiosqlite (a thread per connection); reads run outside transactions."""

    def __init__(self, dialect: Dialect, url: sa.URL, connect_args: dict[str, Any]) -> None:
        import aiosqlite

        self._aiosqlite = aiosqlite
        arguments, options = dialect.create_connect_args(url)
        self._arguments = list(arguments)
        self._options = {**options, **connect_args}
        database = str(self._arguments[0]) if self._arguments else ""
        self.private_database = database in ("", ":memory:") or "mode=memory" in database
        # What the dialect does to each new connection of its own: the SQL functions
        # it compiles to and SQLite lacks (regexp_match's REGEXP, floor).
        self._on_connect = dialect.on_connect()

    async def connect(self) -> Any:
        connection = await self._aiosqlite.connect(*self._arguments, **self._options)
        try:
            connection.isolation_level = None  # autocommit: a read never holds a transaction
            if self._on_connect is not None:
                calls = _Calls()
                self._on_connect(calls)
                for name, args, kwargs in calls.made:
                    await getattr(connection, name)(*args, **kwargs)
        except BaseException:
            connection.stop()
            raise
        return connection

    async def close(self, connection: Any) -> None:
        # A statement still running (its read was cancelled) would hold the close up
        # until it ends: stop it, as asyncpg has PostgreSQL cancel one. sqlite3's
        # interrupt() may be called from any thread; it affects nothing when idle.
        raw = getattr(connection, "_connection", None)
        if raw is not None:
            raw.interrupt()
        await connection.close()

    def is_closed(self, connection: Any) -> bool:
        # aiosqlite drops its sqlite3 connection when closed.
        return getattr(connection, "_connection", None) is None

    async def fetch(
        self, connection: Any, sql: str, arguments: Sequence[Any], one: bool
    ) -> Sequence[Sequence[Any]]:
        if one:  # step to the first row only, as a session does, not through the table
            async with connection.execute(sql, arguments) as cursor:
                row = await cursor.fetchone()
            return () if row is None else (row,)
        rows: Sequence[Sequence[Any]] = await connection.execute_fetchall(sql, arguments)
        return rows

    async def describe(self, connection: Any, sql: str) -> list[Any]:
        return []  # sqlite3 reports no column types

    def inside_transaction(self, connection: Any) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()  # a failed read leaves SQLite's transaction usable

    def abandon(self, connection: Any) -> None:
        # Ends its thread, which would otherwise keep the process alive.
        with contextlib.suppress(Exception):
            connection.stop()

    def unstorable(self, error: BaseException) -> bool:
        # An int beyond SQLite's 64 bits; a str sqlite3 cannot encode (lone surrogates,
        # which asyncpg refuses as a DataError, a 400 on PostgreSQL too).
        return isinstance(error, OverflowError | UnicodeEncodeError)


class _Calls:
    """Stands for a sqlite3 connection before SQLAlchemy's ``on_connect``: notes its calls.

    The dialect's hook calls sqlite3's methods (``create_function``); aiosqlite's
    connection has the same ones, awaitable, so the calls are made there after.
    """

    def __init__(self) -> None:
        self.made: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> None:
            self.made.append((name, args, kwargs))

        return call


def driver_for(dialect: Dialect, url: sa.URL, connect_args: dict[str, Any]) -> Driver:
    """The driver for ``dialect``'s database.

    Raises:
        ConfigurationError: The fast read path knows no such driver.
    """
    if dialect.driver == "asyncpg":
        return AsyncpgDriver(dialect, url, connect_args)
    if dialect.driver == "aiosqlite":
        return AiosqliteDriver(dialect, url, connect_args)
    raise ConfigurationError(
        f"fast reads support asyncpg and aiosqlite, not {dialect.name}+{dialect.driver}: "
        "use a Session"
    )
