"""A small connection pool for the fast read path, bound to one event loop.

It keeps the ``Database``'s pool settings' meaning, as SQLAlchemy's ``QueuePool``
reads them: up to ``size`` connections kept open, ``overflow`` more opened under load
and closed when given back (``size=0`` or ``overflow=-1``: no limit), ``timeout``
seconds to wait for one, connections older than ``recycle`` seconds replaced
(``-1``: never). Connections open on first need, never ahead. Giving one back costs
no round trip: reads leave no transaction or session state behind to reset.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from typing import Any

import sqlalchemy as sa

from satchel.db.drivers import Driver

__all__ = ["ConnectionPool", "PoolClosed"]


class PoolClosed(sa.exc.InvalidRequestError):
    """The pool was closed (``Database.dispose()``) before it could hand out a connection."""


class ConnectionPool:
    """Connections of one driver, used by one event loop.

    Args:
        driver: Opens, checks and closes the connections.
        size: Connections kept open once opened (0: any number).
        overflow: Connections opened beyond ``size`` while all are busy (-1: any number).
        timeout: Seconds to wait for a connection when ``size + overflow`` are busy.
        recycle: Replace connections opened longer ago than this many seconds
            (None or negative: never).
    """

    def __init__(
        self,
        driver: Driver,
        *,
        size: int,
        overflow: int,
        timeout: float,
        recycle: float | None,
    ) -> None:
        self.driver = driver
        self.loop = asyncio.get_running_loop()
        unlimited = size <= 0 or overflow < 0
        self._keep: float = math.inf if size <= 0 else size
        self._limit: float = math.inf if unlimited else size + overflow
        self._timeout = timeout
        self._recycle = recycle if recycle is not None and recycle >= 0 else None
        self._idle: list[Any] = []
        self._opened_at: dict[int, float] = {}  # by id(connection), when recycling
        self._open = 0  # connections open or being opened
        self._waiters: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._closing: set[asyncio.Task[None]] = set()
        self.closed = False

    async def acquire(self) -> Any:
        """A connection for the caller only, until ``release``.

        Raises:
            sqlalchemy.exc.TimeoutError: None became free within the timeout.
            PoolClosed: The pool was closed before handing one out.
        """
        if self.closed:
            raise PoolClosed("this pool was disposed of")
        while self._idle:
            connection = self._idle.pop()
            if not self._expired(connection):
                return connection
            self._discard(connection, free_slot=False)
            return await self._connect()  # in the slot the expired one held
        if self._open < self._limit:
            self._open += 1
            return await self._connect()
        return await self._wait()

    async def give_back(self, connection: Any, *, broken: bool = False) -> None:
        """``release``; after ``close()``, close ``connection`` before returning.

        Nothing else would await that close once the pool is disposed of, and the
        loop may end right after: the read that used the connection awaits it.
        """
        if self.closed:
            self._opened_at.pop(id(connection), None)
            await self._close_quietly(connection)
        else:
            self.release(connection, broken=broken)

    def release(self, connection: Any, *, broken: bool = False) -> None:
        """Give ``connection`` back; a ``broken`` one (or one found closed) is dropped."""
        if broken or self.closed or self.driver.is_closed(connection) or self._expired(connection):
            self._discard(connection, free_slot=True)  # a waiter opens a new one instead
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if len(self._idle) < self._keep:
            self._idle.append(connection)
        else:  # an overflow connection, no longer needed
            self._discard(connection, free_slot=True)

    async def close(self) -> None:
        """Close the idle connections now, the busy ones when given back."""
        self.closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._discard(connection, free_slot=True)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("this pool was disposed of"))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def abandon(self) -> None:
        """Drop every idle connection without awaiting: the pool's event loop is gone."""
        self.closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self.driver.abandon(connection)
        self._waiters.clear()

    async def _connect(self) -> Any:
        # The caller holds a slot (counted in _open); a failure gives it up.
        try:
            connection = await self.driver.connect()
        except BaseException:
            self._free_slot()
            raise
        if self._recycle is not None:
            self._opened_at[id(connection)] = time.monotonic()
        return connection

    async def _wait(self) -> Any:
        waiter: asyncio.Future[Any] = self.loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._timeout):
                handed = await waiter
        except BaseException as error:
            # Handed something just as the wait ended: pass it on rather than lose it.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                if waiter.result() is None:
                    self._free_slot()
                else:
                    self.release(waiter.result())
            waiter.cancel()
            if isinstance(error, TimeoutError):
                raise sa.exc.TimeoutError(
                    f"all {self._limit:g} connections of the read pool are busy: none came "
                    f"free within {self._timeout:g} s"
                ) from None
            raise
        if handed is None:  # a slot freed by a dropped connection: open one in it
            return await self._connect()
        return handed

    def _expired(self, connection: Any) -> bool:
        if self._recycle is None:
            return False
        opened = self._opened_at.get(id(connection), 0.0)
        return time.monotonic() - opened > self._recycle

    def _discard(self, connection: Any, *, free_slot: bool) -> None:
        self._opened_at.pop(id(connection), None)
        if free_slot:
            self._free_slot()
        if not self.driver.is_closed(connection):
            task = self.loop.create_task(self._close_quietly(connection))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _close_quietly(self, connection: Any) -> None:
        try:
            await self.driver.close(connection)
        except Exception:  # broken already, or slow to answer: drop it
            self.driver.abandon(connection)
        except BaseException:  # the loop ends before it closed: drop it, then end too
            self.driver.abandon(connection)
            raise

    def _free_slot(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the waiter opens a connection in this slot
                return
        self._open -= 1
