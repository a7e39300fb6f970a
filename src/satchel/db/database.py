"""``Database``: an app's engines and sessions; ``Session`` and ``SyncSession``: one per request."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, Self

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from satchel.db.errors import translate_unstorable_values
from satchel.db.models import Model
from satchel.db.reads import Reader
from satchel.db.session import DbSession, SyncDbSession
from satchel.db.urls import async_url, masked, sync_connect_args, sync_url
from satchel.errors import ConfigurationError
from satchel.params import Depends
from satchel.requests import Request
from satchel.settings import Settings
from satchel.websockets import WebSocket

__all__ = [
    "DEFAULT_URL",
    "Database",
    "Reads",
    "Session",
    "SyncSession",
    "database_of",
    "provide_reads",
    "provide_session",
    "provide_sync_session",
]

#: The database ``Database()`` uses when given no URL: a SQLite file in the working directory.
DEFAULT_URL = "sqlite+aiosqlite:///satchel.db"

# The engine's pool settings that the reads' pools take too (Database.reader).
_POOL_OPTIONS = ("pool_size", "max_overflow", "pool_timeout", "pool_recycle")
# The Database each app was given by init_app; weak, so a discarded app is not kept alive.
_databases: weakref.WeakKeyDictionary[Any, Database] = weakref.WeakKeyDictionary()


class Database:
    """An async engine, a sync one for sync handlers, and their sessions, made on first use.

    Args:
        url: The database: ``sqlite+aiosqlite:///app.db`` or
            ``postgresql+asyncpg://user@host/db``. A URL naming no driver gets
            the async one (``sqlite://``, ``postgresql://``, ``postgres://``); one
            naming a sync driver is refused (see ``satchel.db.urls.async_url``).
        echo: Log every statement (``sqlalchemy.engine`` logger).
        pool_size: Connections kept open; None keeps SQLAlchemy's default.
        max_overflow: Connections opened beyond ``pool_size`` under load.
        pool_timeout: Seconds to wait for a free connection.
        pool_recycle: Reopen connections older than this many seconds.
        pool_pre_ping: Test each connection before use (survives database restarts).
        engine_options: Other ``create_async_engine`` keyword arguments.
        sync_url: The sync engine's URL, when the async driver has no known sync twin.
        sync_engine_options: Other ``create_engine`` keyword arguments for the sync engine.

    The sync engine uses the same database through a sync driver (``sqlite+pysqlite``,
    ``postgresql+psycopg``), with the same echo and pool options and the connect
    arguments that mean the same to both drivers (``urls.sync_connect_args``).
    Creating a ``Database`` connects to nothing; the first query opens the first connection.

    Raises:
        ConfigurationError: ``url`` cannot serve the async engine.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        echo: bool = False,
        pool_size: int | None = None,
        max_overflow: int | None = None,
        pool_timeout: float | None = None,
        pool_recycle: int | None = None,
        pool_pre_ping: bool = False,
        engine_options: dict[str, Any] | None = None,
        sync_url: str | None = None,
        sync_engine_options: dict[str, Any] | None = None,
    ) -> None:
        self._url = async_url(url)
        self.url = self._url.render_as_string(hide_password=False)
        pool = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "pool_timeout": pool_timeout,
            "pool_recycle": pool_recycle,
        }
        shared: dict[str, Any] = {k: v for k, v in pool.items() if v is not None}
        shared.update(echo=echo, pool_pre_ping=pool_pre_ping)
        self._options = {**shared, **(engine_options or {})}
        self._sync_url = sync_url
        sync_options = dict(sync_engine_options or {})
        connect_args = sync_connect_args(self._url, self._options.get("connect_args", {}))
        connect_args.update(sync_options.pop("connect_args", {}))
        self._sync_options = {**shared, "connect_args": connect_args, **sync_options}
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[DbSession] | None = None
        self._sync_engine: sa.Engine | None = None
        self._sync_sessionmaker: orm.sessionmaker[SyncDbSession] | None = None
        self._sync_lock = threading.Lock()
        self._reader: Reader | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Self:
        """The Database ``settings.database_*`` describe; ``options`` add to or override them.

        >>> from satchel import Settings
        >>> Database.from_settings(Settings(database_url="postgres://app:pw@db/shop"))
        Database('postgresql+asyncpg://app:***@db/shop')
        """
        configured: dict[str, Any] = {
            "url": settings.database_url,
            "echo": settings.database_echo,
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
            "pool_timeout": settings.database_pool_timeout,
            "pool_recycle": settings.database_pool_recycle,
            "pool_pre_ping": settings.database_pool_pre_ping,
        }
        return cls(**{**configured, **options})

    def __repr__(self) -> str:
        return f"Database({masked(self._url)!r})"

    @property
    def engine(self) -> AsyncEngine:
        """The async engine, created on first access (which still opens no connection)."""
        if self._engine is None:
            self._engine = create_async_engine(self._url, **self._options)
            _let_sqlalchemy_begin(self._engine.sync_engine, self._options)
            translate_unstorable_values(self._engine.sync_engine)
        return self._engine

    @property
    def sync_engine(self) -> sa.Engine:
        """The sync engine (sync handlers, scripts), created on first access.

        Raises:
            ConfigurationError: No sync driver is known for the URL's and no ``sync_url`` given.
        """
        if self._sync_engine is None:
            # Sync handlers' first requests reach here from several worker threads at
            # once: one engine only, or the others' pools would never be disposed.
            with self._sync_lock:
                if self._sync_engine is None:
                    url = sa.make_url(self._sync_url) if self._sync_url else sync_url(self._url)
                    engine = sa.create_engine(url, **self._sync_options)
                    _let_sqlalchemy_begin(engine, self._sync_options)
                    translate_unstorable_values(engine)
                    self._sync_engine = engine
        return self._sync_engine

    @property
    def sessionmaker(self) -> async_sessionmaker[DbSession]:
        """Makes ``DbSession`` objects; loaded objects stay readable after commit."""
        if self._sessionmaker is None:
            self._sessionmaker = async_sessionmaker(
                self.engine, class_=DbSession, expire_on_commit=False
            )
        return self._sessionmaker

    def session(self) -> DbSession:
        """A new session, committed only when you say: ``async with database.session() as db:``."""
        return self.sessionmaker()

    @property
    def sync_sessionmaker(self) -> orm.sessionmaker[SyncDbSession]:
        """Makes ``SyncDbSession`` objects, as ``sessionmaker`` makes ``DbSession`` ones."""
        if self._sync_sessionmaker is None:
            engine = self.sync_engine
            with self._sync_lock:  # one sessionmaker, however many threads ask first
                if self._sync_sessionmaker is None:
                    self._sync_sessionmaker = orm.sessionmaker(
                        engine, class_=SyncDbSession, expire_on_commit=False
                    )
        return self._sync_sessionmaker

    def sync_session(self) -> SyncDbSession:
        """A new sync session, committed only when you say.

        ``with database.sync_session() as db:``; ``satchel shell`` gives one as ``db``.
        """
        return self.sync_sessionmaker()

    @property
    def reader(self) -> Reader:
        """Fast reads outside transactions, on the driver's own pool (``reads: Reads``).

        Its pools, one per event loop that reads, have this Database's pool settings and
        ``connect_args``; they open connections on first use and close at ``dispose()``.
        Each is a second pool beside the engine's, of up to ``pool_size + max_overflow``
        connections more, which count against PostgreSQL's ``max_connections``. The
        engine's ``connect`` and ``checkout`` events, ``echo`` and ``pool_pre_ping``
        and ``poolclass`` do not apply to them: set per-connection settings through
        ``connect_args`` (asyncpg's ``server_settings``).
        """
        if self._reader is None:
            options = self._options
            # The engine's pool settings, where given; the Reader's defaults are QueuePool's.
            pool = {name: options[name] for name in _POOL_OPTIONS if name in options}
            connect_args = dict(options.get("connect_args", {}))
            self._reader = Reader(self.engine, self._url, connect_args, **pool)
        return self._reader

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[DbSession]:
        """A session committed when the block ends, rolled back if it raises, then closed.

        For CLI commands and background jobs: ``async with database.transaction() as db:``.
        ``await db.commit()`` inside commits what came before (batches); a refused
        commit raises ``Conflict`` for a violated constraint.
        """
        async with self.session() as session:  # closing rolls back what was not committed
            yield session
            await session.commit()

    @contextlib.contextmanager
    def sync_transaction(self) -> Iterator[SyncDbSession]:
        """``transaction()`` for sync code: ``with database.sync_transaction() as db:``."""
        with self.sync_session() as session:  # closing rolls back what was not committed
            yield session
            session.commit()

    def init_app(self, app: Any) -> None:
        """Make ``Session``, ``SyncSession`` and ``Reads`` work in ``app``.

        The engines and the reads' pools close at the app's shutdown (``dispose()``).

        Raises:
            ConfigurationError: ``app`` already has a Database.
        """
        if app in _databases:
            raise ConfigurationError("this app already has a Database")
        _databases[app] = self
        app.on_shutdown(self.dispose)

    async def create_all(self, metadata: sa.MetaData = Model.metadata) -> None:
        """Create every table of ``metadata`` that does not exist (tests, prototypes)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

    async def drop_all(self, metadata: sa.MetaData = Model.metadata) -> None:
        """Drop every table of ``metadata``."""
        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)

    async def dispose(self) -> None:
        """Close the pools' connections (the reader's too); they reconnect if used again."""
        if self._reader is not None:
            await self._reader.close()
        if self._engine is not None:
            await self._engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()


def _let_sqlalchemy_begin(engine: sa.Engine, options: dict[str, Any]) -> None:
    """Have SQLite transactions begun by SQLAlchemy, not by the sqlite3 module.

    sqlite3 begins one only before a write: reads ran outside any, and a
    session whose first statement was a SAVEPOINT (``begin_nested()``) had it
    begin the transaction, so releasing the savepoint committed everything.
    An engine, or a connection, asked for ``AUTOCOMMIT`` gets no BEGIN.
    """
    if engine.dialect.name != "sqlite" or options.get("isolation_level") == "AUTOCOMMIT":
        return

    @sa.event.listens_for(engine, "connect")
    def leave_transactions_to_sqlalchemy(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN")


def database_of(app: Any) -> Database:
    """The Database attached to ``app`` by ``Database.init_app``.

    Raises:
        ConfigurationError: None is attached.
    """
    try:
        return _databases[app]
    except KeyError:
        raise ConfigurationError(
            "no Database for this app: call Database(url).init_app(app)"
        ) from None


async def provide_session(connection: Request | WebSocket) -> AsyncIterator[DbSession]:
    """Yield a session for one request or WebSocket connection, as ``transaction()`` does.

    For a request the commit runs once the response is built and before it is
    sent (as every teardown does), so a refused commit answers the request (409
    for a violated constraint); ``await db.flush()`` raises it earlier, while
    the handler can react. For a WebSocket it runs when the handler returns.
    """
    async with database_of(connection.app).transaction() as session:
        yield session


def provide_sync_session(request: Request) -> Iterator[SyncDbSession]:
    """Yield a sync session for one request of a sync handler, as ``sync_transaction()`` does."""
    with database_of(request.app).sync_transaction() as session:
        yield session


def provide_reads(connection: Request | WebSocket) -> Reader:
    """The ``Reader`` of the app's Database: reads outside transactions."""
    return database_of(connection.app).reader


#: Annotate a handler parameter with it to receive the request's session: ``db: Session``.
Session = Annotated[DbSession, Depends(provide_session)]
#: The same for sync handlers (``def``): ``db: SyncSession``; its I/O runs in worker threads.
SyncSession = Annotated[SyncDbSession, Depends(provide_sync_session, thread=True)]
#: Fast reads outside transactions for hot read-only endpoints: ``reads: Reads``.
Reads = Annotated[Reader, Depends(provide_reads)]
