"""Producing response bodies in chunks: iterators and file ranges, stopped when the client leaves.

Sync iterators and file reads run in worker threads so a slow producer or a
slow disk never blocks the event loop. Whatever way a stream ends (exhausted,
failed, cancelled, or cut short because the client went away), the iterator it
came from is closed, so the ``finally`` blocks of generators run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Coroutine, Iterable, Iterator
from typing import Any, BinaryIO

__all__ = [
    "FILE_CHUNK_SIZE",
    "close_content",
    "iterate_chunks",
    "read_file_chunks",
    "stream_until_disconnect",
]

FILE_CHUNK_SIZE = 64 * 1024

logger = logging.getLogger("satchel.error")


def iterate_chunks(
    content: Iterable[bytes | str] | AsyncIterable[bytes | str],
) -> AsyncGenerator[bytes, None]:
    """Yield ``content`` as bytes, encoding ``str`` chunks as UTF-8.

    A sync iterable is advanced in a worker thread, one chunk at a time. When the
    returned generator ends or is closed, the iterator of ``content`` is closed too
    (``aclose()`` or ``close()``, where it has one).
    """
    if isinstance(content, AsyncIterable):
        return _iterate_async(content)
    return _iterate_in_thread(content)


async def _iterate_async(content: AsyncIterable[bytes | str]) -> AsyncGenerator[bytes, None]:
    iterator = aiter(content)
    try:
        async for chunk in iterator:
            yield chunk.encode() if isinstance(chunk, str) else chunk
    finally:
        await _aclose(iterator)


async def _iterate_in_thread(content: Iterable[bytes | str]) -> AsyncGenerator[bytes, None]:
    iterator = iter(content)
    loop = asyncio.get_running_loop()
    # One context for the whole iteration, as if the generator were iterated in this task.
    context = contextvars.copy_context()
    pending: asyncio.Future[bytes | str | None] | None = None
    try:
        while True:
            pending = loop.run_in_executor(None, context.run, _next_or_none, iterator)
            # Shielded: cancelling this task must not forget a next() still running.
            item = await asyncio.shield(pending)
            if item is None:
                return
            yield item.encode() if isinstance(item, str) else item
    finally:
        close = getattr(iterator, "close", None)
        # A worker still inside next() (we were cancelled): closing the generator now
        # would raise "generator already executing" in place of the CancelledError.
        idle = pending is None or pending.done() or await _wait_for_worker(pending)
        if close is not None and idle:
            close()
        elif close is not None and pending is not None:
            # Cancelled again while waiting: close once the worker lets go.
            pending.add_done_callback(lambda _: close())


def _next_or_none(iterator: Iterator[bytes | str]) -> bytes | str | None:
    return next(iterator, None)


async def _wait_for_worker(pending: asyncio.Future[Any]) -> bool:
    """Wait, shielded, for a worker thread's call to return; False if cancelled first."""
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await asyncio.shield(pending)
    return pending.done()


async def _aclose(iterator: object) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


async def close_content(content: Iterable[bytes | str] | AsyncIterable[bytes | str]) -> None:
    """Close the content of a stream that is never iterated (a HEAD request).

    Calls ``aclose()`` or ``close()``, where the content has one.
    """
    close = getattr(content, "close", None)
    if close is not None and not hasattr(content, "aclose"):
        close()
    else:
        await _aclose(content)


async def read_file_chunks(path: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
    """Yield bytes ``start`` to ``end`` (exclusive) of the file at ``path``."""
    opening = asyncio.get_running_loop().run_in_executor(None, _open_binary, path)
    try:
        handle = await asyncio.shield(opening)
    except asyncio.CancelledError:
        # The worker opens the file anyway: close it rather than leak it.
        if await _wait_for_worker(opening):
            _close_opened(opening)
        else:
            opening.add_done_callback(_close_opened)
        raise
    try:
        await asyncio.to_thread(handle.seek, start)
        remaining = end - start
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(FILE_CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


def _open_binary(path: str) -> BinaryIO:
    return open(path, "rb")


def _close_opened(opening: asyncio.Future[BinaryIO]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


async def stream_until_disconnect(
    stream: Coroutine[Any, Any, None], disconnect: Awaitable[object]
) -> bool:
    """Run ``stream`` until it ends, or until ``disconnect`` says the client has gone.

    ``stream`` sends a response body; ``disconnect`` completes when the client leaves.
    Both run as tasks; whichever way this returns or raises, neither is left running.

    Returns:
        True if the client left first (``stream`` was then cancelled), else False.

    Raises:
        Exception: what ``stream`` raised. A failing ``disconnect`` only stops the
            watching; the stream goes on.
    """
    streaming = asyncio.ensure_future(stream)
    watching = asyncio.ensure_future(disconnect)
    try:
        await asyncio.wait((streaming, watching), return_when=asyncio.FIRST_COMPLETED)
        if not streaming.done() and (watching.cancelled() or watching.exception() is not None):
            await asyncio.wait((streaming,))
    finally:
        error = await _cancel(watching)
        if error is not None:
            logger.debug("Watching for the client to disconnect failed", exc_info=error)
        gone = not streaming.done()
        if gone and (error := await _cancel(streaming)) is not None:
            logger.error("Error while stopping a streamed response", exc_info=error)
    if gone:
        logger.debug("The client disconnected; the streamed response was stopped")
        return True
    streaming.result()
    return False


async def _cancel(task: asyncio.Future[Any]) -> BaseException | None:
    """Cancel ``task``, wait for it to end, and return what it raised other than that."""
    task.cancel()
    await asyncio.wait((task,))
    return None if task.cancelled() else task.exception()
