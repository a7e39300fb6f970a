"""Tests for UploadFile and file-name handling (satchel.uploads)."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from satchel.datastructures import Headers
from satchel.uploads import UploadFile, filename_from_params, sanitize_filename
from tests.support import open_files_under

T = TypeVar("T")


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make tempfile create its files in ``tmp_path`` (restored afterwards)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.txt", "y.txt"),
        ("\\\\server\\share\\f.txt", "f.txt"),
        ("/abs/path/", ""),
        ("..", ""),
        (".", ""),
        ("a\x00b\r\n\x1f\x7fc\x85.txt", "abc.txt"),
        ("  spaced name.txt ", "spaced name.txt"),
        ("résumé €.txt", "résumé €.txt"),
        ("", ""),
    ],
)
def test_sanitize_filename(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


class TestFilenameFromParams:
    def test_absent(self) -> None:
        assert filename_from_params({"name": "f"}) is None

    def test_empty_filename_is_kept(self) -> None:
        assert filename_from_params({"filename": ""}) == ""

    def test_plain(self) -> None:
        assert filename_from_params({"filename": "../a.txt"}) == "a.txt"

    def test_rfc5987_takes_precedence(self) -> None:
        params = {"filename": "fallback.txt", "filename*": "UTF-8''na%C3%AFve%20%E2%82%AC.txt"}
        assert filename_from_params(params) == "naïve €.txt"

    def test_rfc5987_latin1_and_language(self) -> None:
        assert filename_from_params({"filename*": "iso-8859-1'fr'caf%E9.txt"}) == "café.txt"

    def test_rfc5987_is_sanitized(self) -> None:
        params = {"filename*": "UTF-8''..%2F..%2Fetc%2Fpasswd%00"}
        assert filename_from_params(params) == "passwd"

    @pytest.mark.parametrize(
        "extended", ["UTF-8''%FF%FE", "no-quotes", "KOI8-R''abc", "UTF-8'only-one"]
    )
    def test_bad_rfc5987_falls_back(self, extended: str) -> None:
        assert filename_from_params({"filename": "plain.txt", "filename*": extended}) == (
            "plain.txt"
        )
        assert filename_from_params({"filename*": extended}) is None


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(main())


def test_in_memory_round_trip(temp_dir: Path) -> None:
    async def main() -> None:
        upload = UploadFile(
            filename="a.txt",
            content_type="text/plain",
            headers=Headers({"Content-Type": "text/plain"}),
            spool_max_size=1024,
        )
        assert await upload.write(b"hello ") == 6
        await upload.write(b"world")
        assert upload.size == 11
        assert upload.in_memory
        assert await upload.seek(0) == 0
        assert await upload.read(5) == b"hello"
        assert await upload.read() == b" world"
        assert upload.headers["content-type"] == "text/plain"
        assert "a.txt" in repr(upload)
        await upload.close()
        assert upload.closed

    run(main)
    assert os.listdir(temp_dir) == []


@needs_proc
def test_large_upload_spools_to_disk_and_close_removes_it(temp_dir: Path) -> None:
    async def main() -> None:
        upload = UploadFile(filename="big.bin", spool_max_size=1000)
        await upload.write(b"x" * 600)
        assert upload.in_memory
        await upload.write(b"y" * 600)  # crosses the threshold
        assert not upload.in_memory
        assert upload.size == 1200
        assert open_files_under(temp_dir), "the spooled file should live in temp_dir"
        await upload.seek(0)
        assert await upload.read() == b"x" * 600 + b"y" * 600
        await upload.close()
        await upload.close()  # closing twice is fine
        assert upload.closed
        assert open_files_under(temp_dir) == []

    run(main)
    assert os.listdir(temp_dir) == []


def test_disk_work_runs_in_a_thread(temp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offloaded: list[str] = []
    real_to_thread = asyncio.to_thread

    async def spy(func: Callable[..., T], /, *args: Any) -> T:
        offloaded.append(func.__name__)
        return await real_to_thread(func, *args)

    monkeypatch.setattr(asyncio, "to_thread", spy)

    async def main() -> None:
        upload = UploadFile(filename="f", spool_max_size=10)
        await upload.write(b"12345")
        await upload.seek(0)
        await upload.read()
        assert offloaded == []  # in memory: inline
        await upload.write(b"1234567890")  # this write rolls over to disk
        await upload.seek(0)
        await upload.read()
        await upload.close()
        assert offloaded == ["write", "seek", "read", "close"]

    run(main)


def test_close_never_written(temp_dir: Path) -> None:
    async def main() -> None:
        upload = UploadFile(filename=None)
        assert upload.filename is None
        assert upload.content_type == "application/octet-stream"
        assert upload.size == 0
        upload.close_now()
        await upload.close()
        assert upload.closed

    run(main)


def test_cancelled_disk_write_finishes_before_the_caller_moves_on(
    temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    finished: list[bool] = []
    real_to_thread = asyncio.to_thread

    async def slow_to_thread(func: Callable[..., T], /, *args: Any) -> T:
        def slow() -> T:
            release.wait(5)
            result = func(*args)
            finished.append(True)
            return result

        return await real_to_thread(slow)

    monkeypatch.setattr(asyncio, "to_thread", slow_to_thread)

    async def main() -> None:
        upload = UploadFile(filename="f", spool_max_size=10)
        task = asyncio.create_task(upload.write(b"x" * 100))  # rolls over: runs in a thread
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.01)
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished == [True]  # the thread was done before the cancellation surfaced
        assert not upload.in_memory
        upload.close_now()

    run(main)
    assert os.listdir(temp_dir) == []


def test_spool_max_size_zero_means_always_on_disk() -> None:
    upload = UploadFile(filename="a.bin", spool_max_size=0)
    try:
        assert not upload.in_memory
    finally:
        upload.close_now()
