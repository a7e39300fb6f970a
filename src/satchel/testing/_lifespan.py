"""The ASGI lifespan protocol, spoken to the app on entering and leaving a client."""

from __future__ import annotations

import asyncio

from satchel.testing._connection import (
    ASGI_VERSION,
    Connection,
    Message,
    app_error,
    end_task,
    next_message,
    start_app,
)

__all__ = ["Lifespan", "LifespanFailed"]


class LifespanFailed(RuntimeError):
    """The app answered ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``."""


class Lifespan:
    """Speaks the ASGI lifespan protocol to the app for one client."""

    def __init__(self, conn: Connection, timeout: float | None) -> None:
        self._conn = conn
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._listened = False  # the app has read a lifespan message

    async def _receive(self) -> Message:
        message = await self._to_app.get()
        self._listened = True
        return message

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": dict(ASGI_VERSION), "state": self._conn.state}
        self._task = start_app(self._conn.app, scope, self._receive, self._from_app.put)
        await self._step("startup")

    async def shutdown(self) -> None:
        if self._task is not None:
            try:
                await self._step("shutdown")
            finally:
                if self._task is not None:
                    await end_task(self._task, self._timeout, self._timeout)

    async def _step(self, phase: str) -> None:
        task = self._task
        assert task is not None
        await self._to_app.put({"type": f"lifespan.{phase}"})
        try:
            async with asyncio.timeout(self._timeout):
                message = await next_message(self._from_app, task)
        except TimeoutError:
            raise TimeoutError(f"The app did not finish {phase} in {self._timeout} s") from None
        if message is None:
            self._task = None
            error = app_error(task)
            # As the ASGI spec asks of servers, an app that returns or raises before it
            # reads a lifespan message does not speak the protocol: carry on without it.
            if error is not None and self._listened and self._conn.raise_server_exceptions:
                raise error
            return
        kind = message["type"]
        if kind == f"lifespan.{phase}.failed":
            self._task = None
            await end_task(task, self._timeout, self._timeout)
            raise LifespanFailed(message.get("message") or f"Application {phase} failed")
        if kind != f"lifespan.{phase}.complete":
            raise RuntimeError(f"Unexpected ASGI lifespan message {kind!r}")
