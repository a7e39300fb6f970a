"""Tests for form parsing with limits (satchel.formparsers)."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import satchel.formparsers
from satchel.errors import (
    BadRequest,
    ConfigurationError,
    HTTPError,
    PayloadTooLarge,
    RequestHeaderFieldsTooLarge,
)
from satchel.formparsers import (
    FormData,
    FormLimits,
    parse_multipart,
    parse_urlencoded,
    resolve_charset,
)
from satchel.uploads import UploadFile
from tests.support import open_files_under

BOUNDARY = "satchel-test-boundary"
B = BOUNDARY.encode()
DOS_SECONDS = 2.0  # a guard against quadratic blow-ups, not a benchmark
LIMITS = FormLimits()
SPOOL_100 = FormLimits(spool_max_size=100)

needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


# -- helpers -----------------------------------------------------------------------------------


class Source:
    """An async byte stream that counts how many chunks were pulled from it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.pulled = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None
        self.pulled += 1
        return chunk


def text_part(name: str, value: bytes, *, extra: str = "") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n{extra}\r\n'.encode()
        + value
        + b"\r\n"
    )


def file_part(name: str, filename: str, content: bytes, content_type: str = "") -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"'
    if content_type:
        head += f"\r\nContent-Type: {content_type}"
    return head.encode() + b"\r\n\r\n" + content + b"\r\n"


def close_delimiter() -> bytes:
    return b"--" + B + b"--\r\n"


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def random_chunks(data: bytes, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    pos = 0
    while pos < len(data):
        size = rng.randint(1, 300)
        yield data[pos : pos + size]
        pos += size


def multipart(
    body: bytes | Iterable[bytes],
    limits: FormLimits = LIMITS,
    *,
    boundary: str = BOUNDARY,
    charset: str = "utf-8",
) -> FormData:
    source = Source([body] if isinstance(body, bytes) else body)
    return asyncio.run(parse_multipart(source, boundary=boundary, limits=limits, charset=charset))


async def read_all(upload: UploadFile) -> bytes:
    await upload.seek(0)
    return await upload.read()


def contents(form: FormData) -> list[tuple[str, Any]]:
    """Close ``form`` and return its items, files as (filename, type, bytes)."""

    async def main() -> list[tuple[str, Any]]:
        async with form:
            items: list[tuple[str, Any]] = []
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    items.append(
                        (name, (value.filename, value.content_type, await read_all(value)))
                    )
                else:
                    items.append((name, value))
            return items

    return asyncio.run(main())


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make tempfile create its files in ``tmp_path`` (restored afterwards)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.fixture
def created_uploads(monkeypatch: pytest.MonkeyPatch) -> list[UploadFile]:
    """Record every UploadFile the parser creates."""
    created: list[UploadFile] = []

    class RecordingUploadFile(UploadFile):
        __slots__ = ()

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            created.append(self)

    monkeypatch.setattr(satchel.formparsers, "UploadFile", RecordingUploadFile)
    return created


BINARY = bytes(range(256)) * 4 + b"\r\n--" + B[:-1] + b"\r\n--" + B + b"X\r\n\r\n-\r"
FORM_BODY = (
    text_part("title", "Ünïcode ✓".encode())
    + text_part("empty", b"")
    + file_part("doc", "report.bin", BINARY, "application/x-thing")
    + file_part("blank", "empty.txt", b"", "text/plain")
    + file_part("nofile", "", b"")
    + text_part("title", b"second")
    + close_delimiter()
)
FORM_EXPECTED = [
    ("title", "Ünïcode ✓"),
    ("empty", ""),
    ("doc", ("report.bin", "application/x-thing", BINARY)),
    ("blank", ("empty.txt", "text/plain", b"")),
    ("nofile", ("", "application/octet-stream", b"")),
    ("title", "second"),
]


# -- multipart: round trips --------------------------------------------------------------------


def test_multipart_round_trip() -> None:
    form = multipart(FORM_BODY)
    assert form["title"] == "Ünïcode ✓"
    assert form.getall("title") == ["Ünïcode ✓", "second"]
    assert [name for name, _ in form.fields()] == ["title", "empty", "title"]
    assert [name for name, _ in form.files()] == ["doc", "blank", "nofile"]
    assert contents(form) == FORM_EXPECTED


def test_multipart_byte_by_byte() -> None:
    assert contents(multipart(chunked(FORM_BODY, 1))) == FORM_EXPECTED


@pytest.mark.parametrize("seed", range(20))
def test_multipart_random_chunks(seed: int) -> None:
    assert contents(multipart(random_chunks(FORM_BODY, seed))) == FORM_EXPECTED


def test_multipart_many_parts() -> None:
    fields = [text_part(f"f{i}", str(i).encode()) for i in range(900)]
    files = [file_part(f"u{i}", f"{i}.txt", str(i).encode() * 100) for i in range(90)]
    body = b"".join(fields + files) + close_delimiter()
    items = contents(multipart(random_chunks(body, seed=7)))
    assert items[:900] == [(f"f{i}", str(i)) for i in range(900)]
    assert items[900:] == [
        (f"u{i}", (f"{i}.txt", "application/octet-stream", str(i).encode() * 100))
        for i in range(90)
    ]


def test_multipart_filenames() -> None:
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a\\"b"; '
        'filename="../../etc/passwd"\r\n\r\nx\r\n'
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=c; "
        'filename="C:\\x\\y.txt"\r\n\r\ny\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name=d; filename="ascii.txt"; '
        "filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\r\nz\r\n"
    ).encode() + close_delimiter()
    form = multipart(body)
    assert [(name, f.filename) for name, f in form.files()] == [
        ('a"b', "passwd"),
        ("c", "y.txt"),
        ("d", "€ rates.txt"),
    ]
    asyncio.run(form.close())


def test_multipart_charsets() -> None:
    body = (
        text_part("before", "é".encode())
        + text_part("_charset_", b"iso-8859-1")
        + text_part("after", "é".encode("latin-1"))
        + text_part(
            "own", "é".encode("utf-16-le"), extra="Content-Type: text/plain; charset=utf-16-le\r\n"
        )
        + close_delimiter()
    )
    form = multipart(body)
    assert form.fields() == [
        ("before", "é"),
        ("_charset_", "iso-8859-1"),
        ("after", "é"),
        ("own", "é"),
    ]


def test_multipart_request_charset() -> None:
    body = text_part("a", "é".encode("cp1252")) + close_delimiter()
    assert multipart(body, charset="windows-1252")["a"] == "é"


def test_multipart_stops_reading_after_the_close_delimiter() -> None:
    source = Source([text_part("a", b"1") + close_delimiter(), b"epilogue", b"more"])
    form = asyncio.run(parse_multipart(source, boundary=BOUNDARY, limits=LIMITS))
    assert form.fields() == [("a", "1")]
    assert source.pulled == 1


# -- multipart: limits and errors --------------------------------------------------------------


def test_max_upload_size_stops_reading(temp_dir: Path) -> None:
    limits = FormLimits(max_upload_size=10_000, spool_max_size=100)
    body = file_part("f", "big.bin", b"x" * 50_000) + close_delimiter()
    source = Source(chunked(body, 1000))
    with pytest.raises(PayloadTooLarge):
        asyncio.run(parse_multipart(source, boundary=BOUNDARY, limits=limits))
    assert source.pulled == 11  # the 11th chunk crossed 10,000 bytes; nothing after it
    assert os.listdir(temp_dir) == []


def test_max_upload_size_counts_the_whole_body() -> None:
    body = text_part("a", b"1") + close_delimiter()
    assert multipart(body, FormLimits(max_upload_size=len(body)))["a"] == "1"
    with pytest.raises(PayloadTooLarge):
        multipart(body, FormLimits(max_upload_size=len(body) - 1))


def test_max_body_size_sums_text_fields() -> None:
    body = text_part("a", b"x" * 60) + text_part("b", b"y" * 40) + close_delimiter()
    assert len(multipart(body, FormLimits(max_body_size=100))) == 2
    with pytest.raises(PayloadTooLarge, match="99 bytes"):
        multipart(body, FormLimits(max_body_size=99))


def test_max_body_size_ignores_files() -> None:
    body = file_part("f", "f.bin", b"x" * 1000) + close_delimiter()
    asyncio.run(multipart(body, FormLimits(max_body_size=10)).close())


def test_max_fields() -> None:
    body = b"".join(text_part(f"f{i}", b"v") for i in range(5)) + close_delimiter()
    assert len(multipart(body, FormLimits(max_fields=5))) == 5
    with pytest.raises(PayloadTooLarge, match="fields"):
        multipart(body, FormLimits(max_fields=4))


def test_max_files(created_uploads: list[UploadFile]) -> None:
    body = b"".join(file_part(f"f{i}", "a.txt", b"v") for i in range(3)) + close_delimiter()
    asyncio.run(multipart(body, FormLimits(max_files=3)).close())
    with pytest.raises(PayloadTooLarge, match="files"):
        multipart(body, FormLimits(max_files=2))
    assert created_uploads
    assert all(upload.closed for upload in created_uploads)


def test_max_part_header_size() -> None:
    body = text_part("a", b"v", extra="X-Pad: " + "p" * 200 + "\r\n") + close_delimiter()
    assert multipart(body)["a"] == "v"
    with pytest.raises(RequestHeaderFieldsTooLarge):
        multipart(body, FormLimits(max_part_header_size=200))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"--" + B + b"\r\nContent-Type: text/plain\r\n\r\nv\r\n", id="no-disposition"),
        pytest.param(
            b"--" + B + b"\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n",
            id="not-form-data",
        ),
        pytest.param(b"--" + B + b"\r\nContent-Disposition: form-data\r\n\r\nv\r\n", id="no-name"),
        pytest.param(
            b"--" + B + b"\r\nContent-Disposition form-data; name=a\r\n\r\nv\r\n", id="no-colon"
        ),
        pytest.param(text_part("a", b"\xff\xfe"), id="bad-utf8"),
        pytest.param(text_part("_charset_", b"no-such-charset"), id="bad-charset-field"),
        pytest.param(text_part("_charset_", b"rot13"), id="non-text-charset"),
        pytest.param(
            text_part("a", b"v", extra="Content-Type: text/plain; charset=x-nope\r\n"),
            id="bad-part-charset",
        ),
    ],
)
def test_malformed_parts(body: bytes) -> None:
    with pytest.raises(BadRequest):
        multipart(body + close_delimiter())


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(text_part("a", b"v"), id="no-close-delimiter"),
        pytest.param(text_part("a", b"v")[:-5], id="cut-in-body"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00\x01garbage\xff" * 100, id="garbage"),
        pytest.param(b"--other-boundary\r\n\r\nv\r\n--other-boundary--", id="wrong-boundary"),
    ],
)
def test_truncated_or_garbage(body: bytes) -> None:
    with pytest.raises(BadRequest):
        multipart(body)


@pytest.mark.parametrize("boundary", ["", "x" * 71, "bad\x00", "unicode-é"])
def test_invalid_boundary(boundary: str) -> None:
    with pytest.raises(BadRequest):
        multipart(text_part("a", b"v") + close_delimiter(), boundary=boundary)


def test_unknown_request_charset() -> None:
    with pytest.raises(BadRequest):
        multipart(close_delimiter(), charset="x-unknown")


@needs_proc
@pytest.mark.parametrize(
    ("tail", "limits", "error"),
    [
        (b"", SPOOL_100, BadRequest),
        (text_part("bad", b"\xff"), SPOOL_100, BadRequest),
        (
            file_part("g", "g.bin", b"z"),
            FormLimits(max_files=1, spool_max_size=100),
            PayloadTooLarge,
        ),
        (
            text_part("t", b"x" * 50),
            FormLimits(max_body_size=10, spool_max_size=100),
            PayloadTooLarge,
        ),
    ],
)
def test_no_temp_file_survives_an_error(
    temp_dir: Path,
    created_uploads: list[UploadFile],
    tail: bytes,
    limits: FormLimits,
    error: type[HTTPError],
) -> None:
    body = file_part("f", "big.bin", b"x" * 5000) + tail  # never closed: truncated
    with pytest.raises(error):
        multipart(chunked(body, 512), limits)
    assert created_uploads
    assert not created_uploads[0].in_memory  # it had rolled to disk
    assert all(upload.closed for upload in created_uploads)
    assert open_files_under(temp_dir) == []
    assert os.listdir(temp_dir) == []


def test_cancellation_closes_uploads(created_uploads: list[UploadFile]) -> None:
    class Stalling(Source):
        async def __anext__(self) -> bytes:
            if self.pulled == 1:
                await asyncio.sleep(3600)
            return await super().__anext__()

    async def main() -> None:
        body = file_part("f", "a.bin", b"data" * 100)
        source = Stalling([body, close_delimiter()])
        task = asyncio.create_task(parse_multipart(source, boundary=BOUNDARY, limits=LIMITS))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert len(created_uploads) == 1
    assert created_uploads[0].closed


def test_large_file_spools_to_disk(temp_dir: Path) -> None:
    limits = FormLimits(spool_max_size=1000)
    body = file_part("small", "s.bin", b"s" * 1000) + file_part("big", "b.bin", b"b" * 5000)
    form = multipart(chunked(body + close_delimiter(), 700), limits)
    small, big = form["small"], form["big"]
    assert isinstance(small, UploadFile)
    assert isinstance(big, UploadFile)
    assert small.in_memory
    assert not big.in_memory
    assert (small.size, big.size) == (1000, 5000)
    assert asyncio.run(read_all(big)) == b"b" * 5000
    asyncio.run(form.close())
    asyncio.run(form.close())  # closing twice is fine
    assert big.closed
    assert os.listdir(temp_dir) == []


# -- multipart: denial-of-service shapes -------------------------------------------------------


def timed_multipart(chunks: Iterable[bytes], limits: FormLimits = LIMITS) -> FormData:
    start = time.perf_counter()
    try:
        return multipart(chunks, limits)
    finally:
        assert time.perf_counter() - start < DOS_SECONDS


def test_crlf_flood_preamble_is_fast() -> None:
    body = b"\r\n" * 1_048_576 + text_part("a", b"1") + close_delimiter()
    assert timed_multipart(chunked(body, 65536)).fields() == [("a", "1")]


def test_crlf_flood_epilogue_is_fast() -> None:
    body = text_part("a", b"1") + close_delimiter() + b"\r\n" * 1_048_576
    assert timed_multipart(chunked(body, 65536)).fields() == [("a", "1")]


def test_tiny_header_lines_are_fast() -> None:
    body = text_part("a", b"1", extra="a:b\r\n" * 3000) + close_delimiter()
    assert timed_multipart(chunked(body, 1)).fields() == [("a", "1")]


def test_near_miss_boundaries_are_fast() -> None:
    near = b"\r\n--" + B[:-1]
    body = file_part("f", "f.bin", near * (2_000_000 // len(near))) + close_delimiter()
    form = timed_multipart(chunked(body, 65536))
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.size == len(near) * (2_000_000 // len(near))
    asyncio.run(form.close())


def test_many_tiny_fields_hit_the_limit_fast() -> None:
    body = b"".join(text_part("f", b"") for _ in range(20_000)) + close_delimiter()
    with pytest.raises(PayloadTooLarge):
        timed_multipart([body])


# -- urlencoded --------------------------------------------------------------------------------


def test_urlencoded_basic() -> None:
    form = parse_urlencoded(b"a=1&b=two+words&a=%E2%9C%93&flag&empty=&&", limits=LIMITS)
    assert form.multi_items() == [
        ("a", "1"),
        ("b", "two words"),
        ("a", "✓"),
        ("flag", ""),
        ("empty", ""),
    ]
    assert form.files() == []


def test_urlencoded_empty() -> None:
    assert len(parse_urlencoded(b"", limits=LIMITS)) == 0


def test_urlencoded_latin1() -> None:
    assert parse_urlencoded(b"n=caf%E9", limits=LIMITS, charset="latin-1")["n"] == "café"


def test_urlencoded_max_fields() -> None:
    body = b"&".join(b"k=v" for _ in range(10))
    assert len(parse_urlencoded(body, limits=FormLimits(max_fields=10)).multi_items()) == 10
    with pytest.raises(PayloadTooLarge, match="limit 9"):
        parse_urlencoded(body, limits=FormLimits(max_fields=9))


def test_urlencoded_max_body_size() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_urlencoded(b"a=" + b"x" * 100, limits=FormLimits(max_body_size=100))


@pytest.mark.parametrize("body", [b"a=\xff", b"a=%FF", b"%C3=1"])
def test_urlencoded_invalid_utf8(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_urlencoded(body, limits=LIMITS)


@pytest.mark.parametrize("charset", ["x-nope", "base64", "punycode", "unicode_escape"])
def test_refused_charsets(charset: str) -> None:
    with pytest.raises(BadRequest):
        parse_urlencoded(b"a=1", limits=LIMITS, charset=charset)


def test_resolve_charset() -> None:
    assert resolve_charset(" UTF8 ") == "utf-8"
    assert resolve_charset("latin1") == "iso8859-1"


def test_many_ampersands_are_fast() -> None:
    start = time.perf_counter()
    assert len(parse_urlencoded(b"&" * 2_000_000 + b"a=1", limits=LIMITS)) == 1
    assert time.perf_counter() - start < DOS_SECONDS


# -- FormData and FormLimits -------------------------------------------------------------------


def test_form_data_helpers() -> None:
    async def main() -> None:
        upload = UploadFile(filename="a.txt")
        form = FormData([("x", "1"), ("f", upload), ("x", "2")])
        assert form.fields() == [("x", "1"), ("x", "2")]
        assert form.files() == [("f", upload)]
        await form.close()
        await form.close()
        assert upload.closed

    asyncio.run(main())


def test_form_limits_reject_negative_values() -> None:
    with pytest.raises(ConfigurationError):
        FormLimits(max_fields=-1)


def test_form_limits_are_frozen() -> None:
    limits: Any = FormLimits()
    with pytest.raises(AttributeError):
        limits.max_fields = 3
