"""Each test in a transaction of its own, rolled back after it: ``TestTransaction``.

Import it from here; ``satchel.db`` does not load it. A commit inside releases a
savepoint, and leaving the block rolls everything back:

>>> import asyncio
>>> import sqlalchemy as sa
>>> database = Database("sqlite+aiosqlite://")
>>> async def main() -> tuple[int, int]:
...     async with TestTransaction(database):
...         async with database.session() as db:
...             await db.execute(sa.text("CREATE TABLE note (body TEXT)"))
...             await db.execute(sa.text("INSERT INTO note VALUES ('hello')"))
...             await db.commit()
...             during = await db.scalar(sa.text("SELECT count(*) FROM note"))
...     async with database.session() as db:
...         tables = "SELECT count(*) FROM sqlite_master WHERE name = 'note'"
...         after = await db.scalar(sa.text(tables))
...     await database.dispose()
...     return during, after
>>> asyncio.run(main())
(1, 0)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.util import await_only

from satchel.db.database import Database
from satchel.db.session import SyncDbSession

__all__ = ["TestTransaction"]

T = TypeVar("T")

# Where a session finds the TestTransaction it joins: its ``info``, set by the sessionmaker.
_INFO_KEY = "satchel.db.testing"
# The marks of the sessions that were open in this task or thread, or in the one that
# started it, when it began: a session sees from them whether it runs inside another.
_MARKS: ContextVar[tuple[object, ...]] = ContextVar("satchel_db_test_sessions", default=())


class _Turns:
    """Sessions take turns on one connection, so their savepoints nest.

    Savepoints must end in the reverse order they began: two requests served at once
    would release each other's. So a session waits while another is open, unless it
    started inside that one (from its task: a request the test sends while holding a
    session, a second session in a handler), where it nests and ends first.
    """

    def __init__(self) -> None:
        self._inside: list[tuple[object, object]] = []  # (session, mark), innermost last

    def holds(self, session: object) -> bool:
        return any(inside is session for inside, _ in self._inside)

    def must_wait(self) -> bool:
        return bool(self._inside) and self._inside[-1][1] not in _MARKS.get()

    def enter(self, session: object) -> None:
        mark = object()
        _MARKS.set((*_MARKS.get(), mark))
        self._inside.append((session, mark))

    def leave(self, session: object) -> bool:
        """Whether ``session`` was inside (and now is not)."""
        for index, (inside, mark) in enumerate(self._inside):
            if inside is session:
                del self._inside[index]
                marks = _MARKS.get()
                if marks and marks[-1] is mark:  # this task's own, while it is still there
                    _MARKS.set(marks[:-1])
                return True
        return False

    def clear(self) -> None:
        self._inside.clear()


class _JoiningSession(SyncDbSession):
    """What runs a ``DbSession``: its connection is the outer async transaction's."""

    def get_bind(self, mapper: Any = None, **kw: Any) -> sa.Engine | sa.Connection:
        transaction: TestTransaction = self.info[_INFO_KEY]
        return transaction._async_connection_for(self)


class _JoiningSyncSession(SyncDbSession):
    """A ``SyncDbSession`` whose connection is the outer sync transaction's."""

    def get_bind(self, mapper: Any = None, **kw: Any) -> sa.Engine | sa.Connection:
        transaction: TestTransaction = self.info[_INFO_KEY]
        return transaction._sync_connection_for(self)


@sa.event.listens_for(_JoiningSession, "after_transaction_end")
@sa.event.listens_for(_JoiningSyncSession, "after_transaction_end")
def _session_transaction_ended(session: SyncDbSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's own, not one of its savepoints
        joined: TestTransaction = session.info[_INFO_KEY]
        if isinstance(session, _JoiningSyncSession):
            joined._leave_sync(session)
        else:
            joined._leave_async(session)


class TestTransaction:
    """Make every session of ``database`` join one transaction, rolled back after the test.

    SQLAlchemy's "join a session into an external transaction" recipe, for asyncio. The
    first session to query opens one connection and begins the outer transaction; every
    session of ``database`` then binds to that connection with
    ``join_transaction_mode="create_savepoint"``: a handler's commit releases a
    savepoint, its rollback rolls back to one, and nothing is committed for real.

    The async transaction (``DbSession``, ``Session``) is rolled back, and its connection
    closed, on the event loop that opened it, at the first of:

    - ``database.dispose()``, which ``init_app`` runs at the app's shutdown (leaving
      ``with TestClient(app)`` or ``async with AsyncTestClient(app)``);
    - ``await transaction.rollback()``, or leaving ``async with transaction``;
    - the loop's shutdown (the end of ``asyncio.run``, a ``TestClient`` closed).

    Connections cannot move between event loops, so a test does all its async database
    work on one loop (the app's under ``TestClient``; the test's own with
    ``AsyncTestClient``): using the database from another loop raises ``RuntimeError``.

    Sync sessions (``SyncDbSession``, ``SyncSession``) use another driver, hence another
    connection: they join a sync transaction of their own, opened on first use from any
    thread, rolled back by ``dispose()``, ``rollback()`` or ``close()``. Within a test,
    sync and async sessions do not see each other's writes.

    Sessions take turns on a connection: one waits while another is open, unless it
    was started from inside that one (a request sent while the test holds a session),
    where it nests. So requests sent together are served one after the other.

    Fast reads (``database.reader``, ``reads: Reads``) join too: each takes its turn on
    the async connection like a session and runs in the outer transaction, so it sees
    the test's uncommitted rows; on PostgreSQL a savepoint around it keeps a failed
    read from aborting the transaction.

    Use it as a context manager (``with`` in a sync fixture, ``async with`` in async
    code); leaving it, or ``close()``, gives ``database`` its ordinary sessions back.

    Raises:
        RuntimeError: ``database`` already has a TestTransaction.
        satchel.errors.ConfigurationError: No sync driver is known for the database's
            URL (``Database`` takes a ``sync_url`` for that).
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, database: Database) -> None:
        self.database = database
        async_maker, sync_maker = database.sessionmaker, database.sync_sessionmaker
        if _INFO_KEY in async_maker.kw.get("info", {}):
            raise RuntimeError(f"{database!r} already has a TestTransaction")
        # What close() puts back.
        self._saved_async, self._saved_sync = dict(async_maker.kw), dict(sync_maker.kw)
        self._saved_class = sync_maker.class_
        for maker in async_maker, sync_maker:
            info = {**maker.kw.get("info", {}), _INFO_KEY: self}
            maker.configure(join_transaction_mode="create_savepoint", info=info)
        async_maker.configure(sync_session_class=_JoiningSession)
        sync_maker.class_ = _JoiningSyncSession
        sa.event.listen(database.engine.sync_engine, "engine_disposed", self._on_async_dispose)
        sa.event.listen(database.sync_engine, "engine_disposed", self._on_sync_dispose)
        database.reader.route = self._read  # fast reads join the test's transaction too
        # The async side: its connection is used only on the loop it was opened on, which
        # is kept after the end (but for rollback()) so that a test's work moving to
        # another loop fails loudly instead of finding its data gone.
        self._holder: AsyncGenerator[sa.Connection, None] | None = None
        self._async_connection: sa.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async_turns = _Turns()
        self._async_turn = asyncio.Event()  # set, then replaced, when a session leaves
        # The sync side: used from any thread, one at a time.
        self._sync_connection: sa.Connection | None = None
        self._sync_transaction: sa.Transaction | None = None
        self._sync_turns = _Turns()
        self._sync_turn = threading.Condition()

    def __repr__(self) -> str:
        return f"<TestTransaction {'active' if self.active else 'idle'} on {self.database!r}>"

    @property
    def active(self) -> bool:
        """Whether an outer transaction (async or sync) has begun and is not rolled back."""
        return self._holder is not None or self._sync_connection is not None

    # -- the async side ---------------------------------------------------------------------

    def _check_loop(self) -> None:
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            raise RuntimeError(
                "This test's database transaction belongs to another event loop, where it "
                "began: do all of a test's database work on one loop (the app's under "
                "TestClient, the test's own with AsyncTestClient), or await "
                "transaction.rollback() before moving on"
            )

    async def _hold(self) -> AsyncGenerator[sa.Connection, None]:
        # An async generator, so that the loop's shutdown (shutdown_asyncgens) closes it
        # on that loop if nothing else has.
        async with self.database.engine.connect() as connection:
            joined = connection.sync_connection
            assert joined is not None  # started by "async with"
            # Out of the pool: closing it closes it, even after the pool's dispose.
            joined.detach()
            transaction = await connection.begin()
            try:
                yield joined
            finally:
                self._holder = self._async_connection = None
                self._async_turns.clear()
                self._wake_async()
                if transaction.is_active:
                    await transaction.rollback()

    def _async_connection_for(self, session: SyncDbSession) -> sa.Connection:
        # Called by SQLAlchemy's asyncio bridge, where await_only may wait.
        connection = self._async_connection
        if connection is not None and self._async_turns.holds(session):
            return connection
        return await_only(self._enter_async(session))

    async def _read(self, run: Callable[[Any, bool], Awaitable[T]]) -> T:
        # A read takes its turn on the connection like a session (nesting inside the one
        # that reads), and runs on the driver's connection, in the outer transaction.
        turn = object()
        connection = await self._enter_async(turn)
        try:
            # Detached from the pool, the connection's own record no longer names the
            # driver's connection: the dialect finds it in the DBAPI adapter.
            adapted = connection.connection.dbapi_connection
            assert adapted is not None  # the connection is open: the turn holds it
            return await run(connection.dialect.get_driver_connection(adapted), True)
        finally:
            self._leave_async(turn)

    async def _enter_async(self, session: object) -> sa.Connection:
        self._check_loop()
        while self._async_turns.must_wait():
            await self._async_turn.wait()
        self._async_turns.enter(session)
        if self._async_connection is None:
            holder = self._hold()
            try:
                self._async_connection = await anext(holder)
            except BaseException:
                self._leave_async(session)
                raise
            self._holder, self._loop = holder, asyncio.get_running_loop()
        return self._async_connection

    def _leave_async(self, session: object) -> None:
        if self._async_turns.leave(session):
            self._wake_async()

    def _wake_async(self) -> None:
        turn, self._async_turn = self._async_turn, asyncio.Event()
        turn.set()

    async def _end_async(self) -> None:
        if self._holder is not None:
            self._check_loop()
            await self._holder.aclose()

    def _on_async_dispose(self, engine: sa.Engine) -> None:
        if self._holder is not None:
            # Engine.dispose runs inside SQLAlchemy's asyncio bridge: awaiting is allowed.
            await_only(self._end_async())

    # -- the sync side ----------------------------------------------------------------------

    def _sync_connection_for(self, session: SyncDbSession) -> sa.Connection:
        with self._sync_turn:
            if self._sync_connection is not None and self._sync_turns.holds(session):
                return self._sync_connection
            self._sync_turn.wait_for(lambda: not self._sync_turns.must_wait())
            self._sync_turns.enter(session)
            connection = self._sync_connection  # as the session that went before left it
            if connection is None:
                try:
                    connection = self.database.sync_engine.connect()
                    connection.detach()
                    self._sync_transaction = connection.begin()
                except BaseException:
                    self._sync_turns.leave(session)
                    raise
                self._sync_connection = connection
            return connection

    def _end_sync(self) -> None:
        with self._sync_turn:
            connection, transaction = self._sync_connection, self._sync_transaction
            self._sync_connection = self._sync_transaction = None
            self._sync_turns.clear()
            self._sync_turn.notify_all()
            if connection is not None and transaction is not None:
                try:
                    transaction.rollback()
                finally:
                    connection.close()

    def _leave_sync(self, session: SyncDbSession) -> None:
        with self._sync_turn:
            if self._sync_turns.leave(session):
                self._sync_turn.notify_all()

    def _on_sync_dispose(self, engine: sa.Engine) -> None:
        self._end_sync()

    # -- both -------------------------------------------------------------------------------

    async def rollback(self) -> None:
        """Roll back both outer transactions now; the next query begins a new one.

        Call it on the loop that did the test's async work; the next async transaction
        may then begin on any loop.
        """
        await self._end_async()
        self._loop = None
        self._end_sync()

    def close(self) -> None:
        """Roll back the sync transaction and give ``database`` its ordinary sessions back.

        Raises:
            RuntimeError: The async transaction is still open, on a loop that is still
                running (a client not closed): it cannot be rolled back from here.
        """
        async_maker, sync_maker = self.database.sessionmaker, self.database.sync_sessionmaker
        async_maker.kw.clear()
        async_maker.kw.update(self._saved_async)
        sync_maker.kw.clear()
        sync_maker.kw.update(self._saved_sync)
        sync_maker.class_ = self._saved_class
        self.database.reader.route = None
        sa.event.remove(self.database.engine.sync_engine, "engine_disposed", self._on_async_dispose)
        sa.event.remove(self.database.sync_engine, "engine_disposed", self._on_sync_dispose)
        self._end_sync()
        if self._holder is not None:
            raise RuntimeError(
                "The test's database transaction is still open: leave the test client's "
                "'with' block, or await transaction.rollback(), before the test ends"
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.rollback()
        finally:
            self.close()
