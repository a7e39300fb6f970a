"""Producing response bodies in chunks: iterators and file ranges.

Sync iterators and file reads run in worker threads so a slow producer or a
slow disk never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

__all__ = ["FILE_CHUNK_SIZE", "iterate_chunks", "read_file_chunks"]

FILE_CHUNK_SIZE = 64 * 1024


async def iterate_chunks(
    content: Iterable[bytes | str] | AsyncIterable[bytes | str],
) -> AsyncIterator[bytes]:
    """Yield ``content`` as bytes, encoding ``str`` chunks as UTF-8.

    A sync iterable is advanced in a worker thread, one chunk at a time.
    """
    if isinstance(content, AsyncIterable):
        async for chunk in content:
            yield chunk.encode() if isinstance(chunk, str) else chunk
        return
    iterator = iter(content)
    try:
        while True:
            item = await asyncio.to_thread(_next_or_none, iterator)
            if item is None:
                return
            yield item.encode() if isinstance(item, str) else item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _next_or_none(iterator: Iterator[bytes | str]) -> bytes | str | None:
    return next(iterator, None)


async def read_file_chunks(path: str, start: int, end: int) -> AsyncIterator[bytes]:
    """Yield bytes ``start`` to ``end`` (exclusive) of the file at ``path``."""
    handle = await asyncio.to_thread(open, path, "rb")
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
