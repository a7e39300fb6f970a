"""Tests for satchel.bodies: chunked bodies, closing their iterators, stopping on disconnect."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from satchel.bodies import (
    FILE_CHUNK_SIZE,
    close_content,
    iterate_chunks,
    read_file_chunks,
    stream_until_disconnect,
)

T = TypeVar("T")
WAIT_S = 5.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


# -- iterate_chunks ------------------------------------------------------------------------------


def test_sync_and_async_content_become_bytes() -> None:
    async def produce() -> AsyncIterator[bytes | str]:
        yield "é"
        yield b"b"

    assert run(collect(iterate_chunks(["a", b"b"]))) == [b"a", b"b"]
    assert run(collect(iterate_chunks(produce()))) == ["é".encode(), b"b"]


def test_sync_generator_runs_in_a_worker_thread() -> None:
    threads: list[threading.Thread] = []

    def produce() -> Iterator[bytes]:
        threads.append(threading.current_thread())
        yield b"x"

    assert run(collect(iterate_chunks(produce()))) == [b"x"]
    assert threads[0] is not threading.main_thread()


def test_sync_generator_sees_the_callers_context_variables() -> None:
    name: contextvars.ContextVar[str] = contextvars.ContextVar("name", default="unset")

    def produce() -> Iterator[bytes]:
        yield name.get().encode()

    async def main() -> list[bytes]:
        name.set("request-1")
        return await collect(iterate_chunks(produce()))

    assert run(main()) == [b"request-1"]


def test_closing_early_closes_a_sync_generator() -> None:
    closed = threading.Event()

    def produce() -> Iterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            closed.set()

    async def main() -> None:
        chunks = iterate_chunks(produce())
        assert await anext(chunks) == b"x"
        await chunks.aclose()

    run(main())
    assert closed.is_set()


def test_closing_early_closes_an_async_generator() -> None:
    closed = asyncio.Event()

    async def main() -> None:
        async def produce() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x"
                    await asyncio.sleep(0)
            finally:
                closed.set()

        chunks = iterate_chunks(produce())
        assert await anext(chunks) == b"x"
        await chunks.aclose()
        assert closed.is_set()

    run(main())


def test_an_async_iterator_with_aclose_is_closed_when_it_fails() -> None:
    class Source:
        closed = False

        def __aiter__(self) -> Source:
            return self

        async def __anext__(self) -> bytes:
            raise ValueError("broken source")

        async def aclose(self) -> None:
            Source.closed = True

    with pytest.raises(ValueError, match="broken source"):
        run(collect(iterate_chunks(Source())))
    assert Source.closed


def test_cancelled_while_a_worker_is_inside_next() -> None:
    """The CancelledError propagates; the generator is closed once next() returns."""
    inside = threading.Event()
    release = threading.Event()
    closed = threading.Event()

    def produce() -> Iterator[bytes]:
        try:
            yield b"first"
            inside.set()
            release.wait(WAIT_S)
            yield b"second"
            yield b"never"
        finally:
            closed.set()

    async def main() -> None:
        chunks = iterate_chunks(produce())

        async def consume() -> None:
            async for _ in chunks:
                pass

        task = asyncio.create_task(consume())
        assert await asyncio.to_thread(inside.wait, WAIT_S)
        task.cancel()
        asyncio.get_running_loop().call_later(0.05, release.set)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert closed.is_set()

    run(main())


def test_cancelled_again_while_waiting_for_the_worker() -> None:
    """A second cancellation still propagates; the generator is closed later."""
    inside = threading.Event()
    release = threading.Event()
    closed = threading.Event()

    def produce() -> Iterator[bytes]:
        try:
            inside.set()
            release.wait(WAIT_S)
            yield b"late"
        finally:
            closed.set()

    async def main() -> None:
        async def consume() -> None:
            async for _ in iterate_chunks(produce()):
                pass

        task = asyncio.create_task(consume())
        assert await asyncio.to_thread(inside.wait, WAIT_S)
        task.cancel()
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not closed.is_set()
        release.set()
        assert await asyncio.to_thread(closed.wait, WAIT_S)

    run(main())


def test_an_error_in_the_generator_propagates() -> None:
    def produce() -> Iterator[bytes]:
        yield b"a"
        raise KeyError("boom")

    with pytest.raises(KeyError):
        run(collect(iterate_chunks(produce())))


# -- close_content ---------------------------------------------------------------------------


def test_close_content_closes_what_was_never_iterated() -> None:
    events: list[str] = []

    def sync_gen() -> Generator[bytes, None, None]:
        yield b""

    class AsyncSource:
        def __aiter__(self) -> AsyncSource:
            return self

        async def __anext__(self) -> bytes:
            raise StopAsyncIteration

        async def aclose(self) -> None:
            events.append("aclose")

        def close(self) -> None:
            events.append("close")

    generator = sync_gen()
    run(close_content(generator))
    assert inspect.getgeneratorstate(generator) == inspect.GEN_CLOSED
    run(close_content(AsyncSource()))
    run(close_content([b"a list has nothing to close"]))
    assert events == ["aclose"]


# -- read_file_chunks ------------------------------------------------------------------------


def test_read_file_chunks_reads_the_range(tmp_path: Path) -> None:
    data = bytes(range(256)) * (FILE_CHUNK_SIZE // 128)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    chunks = run(collect(read_file_chunks(str(path), 10, len(data) - 10)))
    assert b"".join(chunks) == data[10:-10]
    assert max(len(chunk) for chunk in chunks) == FILE_CHUNK_SIZE


def test_read_file_chunks_cancelled_while_opening_leaks_no_file(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"data")
    opened: list[Any] = []
    real_open = open

    def slow_open(name: str, mode: str) -> Any:
        time.sleep(0.05)
        handle = real_open(name, mode)
        opened.append(handle)
        return handle

    async def main() -> None:
        task = asyncio.create_task(collect(read_file_chunks(str(path), 0, 4)))
        await asyncio.sleep(0.01)  # the worker is inside open()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.1)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("builtins.open", slow_open)
        run(main())
    assert len(opened) == 1
    assert opened[0].closed


# -- stream_until_disconnect ---------------------------------------------------------------------


def test_stream_that_ends_first_returns_false() -> None:
    watched = asyncio.Event()

    async def main() -> bool:
        async def stream() -> None:
            await asyncio.sleep(0)

        async def disconnect() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                watched.set()

        result = await stream_until_disconnect(stream(), disconnect())
        assert watched.is_set()  # the watcher was cancelled, not left running
        return result

    assert run(main()) is False


def test_disconnect_first_cancels_the_stream(caplog: pytest.LogCaptureFixture) -> None:
    stopped = asyncio.Event()

    async def main() -> bool:
        async def stream() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                stopped.set()

        result = await stream_until_disconnect(stream(), asyncio.sleep(0.01))
        assert stopped.is_set()
        return result

    with caplog.at_level(logging.DEBUG, logger="satchel.error"):
        assert run(main()) is True
    assert all(record.levelno == logging.DEBUG for record in caplog.records)


def test_stream_error_propagates() -> None:
    async def stream() -> None:
        raise LookupError("stream failed")

    async def main() -> None:
        await stream_until_disconnect(stream(), asyncio.Event().wait())

    with pytest.raises(LookupError, match="stream failed"):
        run(main())


def test_failing_watcher_lets_the_stream_finish() -> None:
    async def main() -> tuple[bool, list[int]]:
        sent: list[int] = []

        async def stream() -> None:
            for i in range(3):
                await asyncio.sleep(0.01)
                sent.append(i)

        async def disconnect() -> None:
            raise OSError("receive failed")

        return await stream_until_disconnect(stream(), disconnect()), sent

    assert run(main()) == (False, [0, 1, 2])


def test_cancelling_the_caller_cancels_both() -> None:
    ended: list[str] = []

    async def forever(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            ended.append(name)

    async def main() -> None:
        task = asyncio.create_task(stream_until_disconnect(forever("stream"), forever("watch")))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert sorted(ended) == ["stream", "watch"]


def test_error_while_stopping_the_stream_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def stream() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            raise RuntimeError("cleanup failed")

    async def main() -> bool:
        return await stream_until_disconnect(stream(), asyncio.sleep(0))

    with caplog.at_level(logging.DEBUG, logger="satchel.error"):
        assert run(main()) is True
    assert any("cleanup failed" in str(r.exc_info) for r in caplog.records)
