"""``Database``: one engine and its sessions for an app; ``Session``: a session per request."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from typing import Annotated, Any

from satchel.errors import ConfigurationError, MissingDependencyError
from satchel.params import Depends
from satchel.requests import Request

try:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "db") from exc

from satchel.db.models import Model
from satchel.db.session import DbSession

__all__ = ["DEFAULT_URL", "Database", "Session", "database_of", "provide_session"]

#: The database ``Database()`` uses when given no URL: a SQLite file in the working directory.
DEFAULT_URL = "sqlite+aiosqlite:///satchel.db"

# The Database each app was given by init_app; weak, so a discarded app is not kept alive.
_databases: weakref.WeakKeyDictionary[Any, Database] = weakref.WeakKeyDictionary()


class Database:
    """An async engine and a session factory, both created on first use.

    Args:
        url: An async SQLAlchemy URL: ``sqlite+aiosqlite:///app.db`` or
            ``postgresql+asyncpg://user@host/db``.
        echo: Log every statement (``sqlalchemy.engine`` logger).
        pool_size: Connections kept open; None keeps SQLAlchemy's default.
        max_overflow: Connections opened beyond ``pool_size`` under load.
        pool_timeout: Seconds to wait for a free connection.
        pool_recycle: Reopen connections older than this many seconds.
        pool_pre_ping: Test each connection before use (survives database restarts).
        engine_options: Other ``create_async_engine`` keyword arguments.

    Creating a ``Database`` connects to nothing; the engine is made on first use
    and connects on the first query.
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
    ) -> None:
        self.url = url
        pool = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "pool_timeout": pool_timeout,
            "pool_recycle": pool_recycle,
        }
        self._options: dict[str, Any] = {k: v for k, v in pool.items() if v is not None}
        self._options.update(echo=echo, pool_pre_ping=pool_pre_ping, **(engine_options or {}))
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[DbSession] | None = None

    def __repr__(self) -> str:
        # The URL may carry a password: show it masked.
        return f"Database({sa.make_url(self.url).render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> AsyncEngine:
        """The engine, created on first access (which still opens no connection)."""
        if self._engine is None:
            self._engine = create_async_engine(self.url, **self._options)
        return self._engine

    @property
    def sessionmaker(self) -> async_sessionmaker[DbSession]:
        """Makes ``DbSession`` objects; loaded objects stay readable after commit."""
        if self._sessionmaker is None:
            self._sessionmaker = async_sessionmaker(
                self.engine, class_=DbSession, expire_on_commit=False
            )
        return self._sessionmaker

    def session(self) -> DbSession:
        """A new session, for use outside requests: ``async with db.session() as s: ...``."""
        return self.sessionmaker()

    def init_app(self, app: Any) -> None:
        """Make ``Session`` work in ``app``'s handlers; the engine is disposed at shutdown.

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
        """Close the pool's connections; the engine reconnects if used again."""
        if self._engine is not None:
            await self._engine.dispose()


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


async def provide_session(request: Request) -> AsyncIterator[DbSession]:
    """Yield a session for one request: committed on success, rolled back on error, closed.

    The commit runs once the response is built and before it is sent (as every
    teardown does), so a refused commit answers the request (409 for a violated
    constraint); ``await db.flush()`` raises it earlier, while the handler can react.
    """
    session = database_of(request.app).session()
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


#: Annotate a handler parameter with it to receive the request's session: ``db: Session``.
Session = Annotated[DbSession, Depends(provide_session)]
