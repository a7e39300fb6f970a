"""The event loop on a background thread that runs the app for a sync client."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["Portal"]

T = TypeVar("T")
_STOP_TIMEOUT = 5.0


async def _drain_loop() -> None:
    """Cancel what the app left running; close its async generators and worker threads."""
    loop = asyncio.get_running_loop()
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=_STOP_TIMEOUT)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()  # joins asyncio.to_thread workers


class Portal:
    """An event loop on a daemon thread that runs the app for a sync client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def running(self) -> bool:
        return self._loop is not None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._stopped:
                raise RuntimeError("The test client has been closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="satchel-testclient", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def call(self, work: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``work`` on the loop and return its result.

        ``work`` enforces ``timeout`` itself; the wait here is a backstop for a loop that
        sync code in the app blocks, where no asyncio timeout can fire.
        """
        if threading.current_thread() is self._thread:
            work.close()
            raise RuntimeError("A TestClient cannot call its own app from inside it")
        try:
            loop = self._start()
        except BaseException:
            work.close()
            raise
        future = asyncio.run_coroutine_threadsafe(work, loop)
        try:
            return future.result(None if timeout is None else 2 * timeout + 1)
        except TimeoutError:
            if future.done():
                raise
            future.cancel()
            raise TimeoutError(
                f"The app's event loop did not answer within {timeout} seconds; "
                "is sync code blocking it?"
            ) from None
        except BaseException:
            future.cancel()
            raise

    def stop(self) -> None:
        """Cancel leftover tasks, stop the loop and join its thread (idempotent)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._stopped = True
        if loop is None or thread is None:
            return
        if threading.current_thread() is thread:  # garbage collected on the loop itself
            loop.stop()
            return
        cleanup = asyncio.run_coroutine_threadsafe(_drain_loop(), loop)
        with contextlib.suppress(Exception):
            cleanup.result(_STOP_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_STOP_TIMEOUT)
        if not thread.is_alive():
            loop.close()
