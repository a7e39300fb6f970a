"""``Reader``: fast reads outside transactions, injected as ``reads: Reads`` (``database.py``).

For hot read-only endpoints. A read runs one ``select()`` straight on the driver
(asyncpg's prepared statements on PostgreSQL, aiosqlite on SQLite), on a pool of
its own, in autocommit: one round trip, no session, no greenlet. Statements are
compiled once per shape; values go through the column types' processors both ways.
Whole models come back as detached instances (nothing tracks or saves them),
rows as SQLAlchemy ``Row`` objects, as a session's results.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from satchel.db.drivers import Driver, driver_for
from satchel.db.errors import UNSTORABLE_DETAIL
from satchel.db.plans import Plan, Plans
from satchel.db.pool import ConnectionPool, PoolClosed
from satchel.errors import BadRequest, NotFound

__all__ = ["ReadRoute", "Reader"]

T = TypeVar("T")
M = TypeVar("M")
Ts = TypeVarTuple("Ts")
Params = Mapping[str, Any] | None
# A select() typed by its first column, the others any: what reads of the first column
# take (``Session.scalars`` reads the first column of several too).
_First = sa.Select[T, *tuple[Any, ...]]
_Kept = tuple[ConnectionPool, AsyncGenerator[None, None]]


class ReadRoute(Protocol):
    """Runs a read on a connection of its choosing (``TestTransaction``'s, in tests)."""

    async def __call__(self, run: Callable[[Any, bool], Awaitable[T]]) -> T:
        """Await ``run(driver_connection, inside_transaction)``."""


class Reader:
    """Reads of committed data, outside any transaction; ``Database.reader`` makes one.

    Args:
        engine: The Database's async engine: its dialect compiles the statements.
        url: The database.
        connect_args: Arguments for the driver's ``connect`` (asyncpg's
            ``server_settings``, SQLite's ``timeout``, ...).
        pool_size: Connections kept open.
        max_overflow: Connections opened beyond ``pool_size`` under load.
        pool_timeout: Seconds to wait for a connection.
        pool_recycle: Replace connections older than this many seconds.

    The statements are ``select()``s of one model or of columns, with ``bindparam()``
    for values given at each call (``params``) or with the values in them.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        url: sa.URL,
        connect_args: dict[str, Any],
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_timeout: float = 30.0,
        pool_recycle: float | None = None,
    ) -> None:
        self._engine = engine
        self._url, self._connect_args = url, connect_args
        self._found_driver: Driver | None = None
        self._plans = Plans(engine.dialect)
        self._new_pool = functools.partial(
            ConnectionPool,
            size=pool_size,
            overflow=max_overflow,
            timeout=pool_timeout,
            recycle=pool_recycle,
        )
        # One pool per event loop reading (connections never move between loops), each
        # with the async generator that closes it at its loop's shutdown.
        self._pools: dict[asyncio.AbstractEventLoop, _Kept] = {}
        self._gets: dict[type[Any], tuple[sa.Select[Any], int]] = {}
        #: Set by ``satchel.db.testing.TestTransaction``: reads then join the test's transaction.
        self.route: ReadRoute | None = None

    async def get(self, model: type[M], pk: Any) -> M | None:
        """The ``model`` row with primary key ``pk`` (a tuple for a composite key), or None."""
        statement, size = self._get_statement(model)
        values = pk if isinstance(pk, tuple) else (pk,)
        if len(values) != size:
            raise ValueError(f"{model.__name__}'s primary key has {size} column(s)")
        params = {f"pk_{i}": value for i, value in enumerate(values)}
        plan, rows = await self._fetch(statement, params, False)  # one row at most
        return plan.first(rows[0]) if rows else None

    async def get_or_404(self, model: type[M], pk: Any) -> M:
        """The ``model`` row with primary key ``pk``, or ``NotFound`` naming the model."""
        found = await self.get(model, pk)
        if found is None:
            raise NotFound(f"{model.__name__} not found")
        return found

    async def scalar(self, statement: _First[T], params: Params = None) -> T | None:
        """The first column of the first row (the instance, for a model), or None."""
        plan, rows = await self._fetch(statement, params, True)
        return plan.first(rows[0]) if rows else None

    async def scalars(self, statement: _First[T], params: Params = None) -> list[T]:
        """The first column of every row: instances for ``select(Model)``, values otherwise."""
        plan, rows = await self._fetch(statement, params, False)
        first = plan.first
        return [first(row) for row in rows]

    async def first_or_404(self, statement: _First[T], params: Params = None) -> T:
        """The first row's first column, or ``NotFound`` naming what was selected."""
        plan, rows = await self._fetch(statement, params, True)
        if not rows:
            raise NotFound(f"{_selected_name(plan)} not found")
        return plan.first(rows[0])  # type: ignore[no-any-return]

    async def one_or_none(self, statement: _First[T], params: Params = None) -> T | None:
        """The only row's first column, or None when there is no row.

        Raises:
            sqlalchemy.exc.MultipleResultsFound: Several rows match.
        """
        return (await self._one(statement, params))[1]

    async def one_or_404(self, statement: _First[T], params: Params = None) -> T:
        """The only row's first column, or ``NotFound`` naming what was selected.

        Raises:
            sqlalchemy.exc.MultipleResultsFound: Several rows match.
        """
        plan, found = await self._one(statement, params)
        if found is None:
            raise NotFound(f"{_selected_name(plan)} not found")
        return found

    async def rows(self, statement: sa.Select[*Ts], params: Params = None) -> list[sa.Row[*Ts]]:
        """Every row as a SQLAlchemy ``Row``, as a session's ``execute()`` gives.

        Typed as the selected columns' tuple: ``row[0]``, unpacking, ``tuple(row)``;
        ``row.title`` and ``row._asdict()`` by key. A whole model's rows hold its
        instance (``row[0]``, ``row.Book``).
        """
        plan, rows = await self._fetch(statement, params, False)
        build = plan.row
        return [build(row) for row in rows]

    async def close(self) -> None:
        """Close the pools' connections; the next read opens new ones.

        The pool of the running loop closes now; one of a loop running in another
        thread closes there, soon; one of a loop that ended is dropped.
        """
        kept, self._pools = self._pools, {}
        running = asyncio.get_running_loop()
        for loop, (pool, keeper) in list(kept.items()):
            if loop is running:
                await keeper.aclose()
            elif loop.is_running() and not loop.is_closed():  # on its own thread
                asyncio.run_coroutine_threadsafe(_finish(keeper), loop)
            else:
                pool.abandon()

    # -- running ----------------------------------------------------------------------------

    @property
    def _driver(self) -> Driver:
        # Found on first read, so that a Database on a driver reads do not support works
        # as long as nothing reads through it.
        if self._found_driver is None:
            self._found_driver = driver_for(self._engine.dialect, self._url, self._connect_args)
        return self._found_driver

    async def _one(self, statement: _First[T], params: Params) -> tuple[Plan, T | None]:
        plan, rows = await self._fetch(statement, params, False)
        if len(rows) > 1:
            raise sa.exc.MultipleResultsFound("several rows were found when one was required")
        return plan, plan.first(rows[0]) if rows else None

    async def _fetch(
        self, statement: sa.Select[*tuple[Any, ...]], params: Params, one: bool
    ) -> tuple[Plan, Sequence[Sequence[Any]]]:
        plan, sql, arguments = self._plans.bind(statement, params)

        async def run(connection: Any, inside_transaction: bool) -> Sequence[Sequence[Any]]:
            if inside_transaction:
                async with self._driver.inside_transaction(connection):
                    return await self._run(connection, plan, sql, arguments, one)
            return await self._run(connection, plan, sql, arguments, one)

        try:
            if self.route is not None:
                rows = await self.route(run)
            elif self._driver.private_database:
                rows = await self._borrowed(run)
            else:
                rows = await self._pooled(run)
        except Exception as error:
            if self._driver.unstorable(error):
                raise BadRequest(UNSTORABLE_DETAIL) from error
            raise
        return plan, rows

    async def _run(
        self, connection: Any, plan: Plan, sql: str, arguments: list[Any], one: bool
    ) -> Sequence[Sequence[Any]]:
        if not plan.described:  # once per statement shape
            plan.describe(await self._driver.describe(connection, sql))
        return await self._driver.fetch(connection, sql, arguments, one)

    async def _pooled(self, run: Callable[[Any, bool], Awaitable[T]]) -> T:
        retried = False
        while True:
            pool = await self._pool()
            try:
                connection = await pool.acquire()
            except PoolClosed:  # disposed of while this read waited: the next pool serves it
                if retried:
                    raise
                retried = True
                continue
            try:
                result = await run(connection, False)
            except Exception:
                gone = self._driver.is_closed(connection)
                await pool.give_back(connection, broken=gone)
                if gone and not retried:  # the server closed it while idle: a read can retry
                    retried = True
                    continue
                raise
            except BaseException:  # cancelled mid-statement: the connection's state is unknown
                await pool.give_back(connection, broken=True)
                raise
            await pool.give_back(connection)
            return result

    async def _borrowed(self, run: Callable[[Any, bool], Awaitable[T]]) -> T:
        # An in-memory SQLite database exists in one connection only: the engine's.
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            return await run(raw.driver_connection, False)

    async def _pool(self) -> ConnectionPool:
        """The running loop's pool, made on its first read there."""
        loop = asyncio.get_running_loop()
        kept = self._pools.get(loop)
        if kept is not None and not kept[0].closed:
            return kept[0]
        for other, (old, _) in list(self._pools.items()):  # forget the loops that ended
            if other.is_closed() or old.closed:
                self._pools.pop(other, None)
                old.abandon()
        pool = self._new_pool(self._driver)
        keeper = _keep(pool)
        await anext(keeper)  # runs to its yield without suspending: no other read gets in
        self._pools[loop] = (pool, keeper)
        return pool

    def _get_statement(self, model: type[Any]) -> tuple[sa.Select[Any], int]:
        found = self._gets.get(model)
        if found is None:
            keys = sa.inspect(model).primary_key
            statement = sa.select(model).where(
                *(column == sa.bindparam(f"pk_{i}") for i, column in enumerate(keys))
            )
            found = self._gets[model] = (statement, len(keys))
        return found


async def _keep(pool: ConnectionPool) -> AsyncGenerator[None, None]:
    # An async generator, so that the loop's shutdown (the end of asyncio.run, of a test
    # client) closes the pool on its loop when nothing called dispose().
    try:
        yield
    finally:
        await pool.close()


async def _finish(keeper: AsyncGenerator[None, None]) -> None:
    await keeper.aclose()  # closes its pool


def _selected_name(plan: Plan) -> str:
    return plan.entity.__name__ if plan.entity is not None else "Row"
