"""Tests for the sans-IO multipart parser (satchel.multipart)."""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Iterable, Iterator

import pytest

from satchel.datastructures import Headers
from satchel.errors import BadRequest, RequestHeaderFieldsTooLarge
from satchel.multipart import (
    Event,
    MessageEnd,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    parse_content_disposition,
    validate_boundary,
)

BOUNDARY = "----SatchelBoundary7MA4YWxkTrZu0gW"
B = BOUNDARY.encode()
# Guards against quadratic blow-ups, not benchmarks: far above the linear cost.
DOS_SECONDS = 2.0

Part = tuple[Headers, bytes]


def build(parts: Iterable[tuple[list[tuple[str, str]], bytes]], boundary: bytes = B) -> bytes:
    """Encode ``(headers, body)`` parts as a multipart body."""
    out = bytearray()
    for headers, body in parts:
        out += b"--" + boundary + b"\r\n"
        for name, value in headers:
            out += f"{name}: {value}\r\n".encode()
        out += b"\r\n" + body + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return bytes(out)


def field(name: str, body: bytes) -> tuple[list[tuple[str, str]], bytes]:
    return [("Content-Disposition", f'form-data; name="{name}"')], body


def parse(chunks: Iterable[bytes], boundary: str = BOUNDARY, **options: int) -> list[Part]:
    """Feed ``chunks``, check the event grammar, and return the parts."""
    parser = MultipartParser(boundary, **options)
    events: list[Event] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    parser.close()
    return parts_of(events)


def parts_of(events: list[Event]) -> list[Part]:
    parts: list[Part] = []
    current: tuple[Headers, bytearray] | None = None
    assert isinstance(events[-1], MessageEnd)
    for event in events[:-1]:
        if isinstance(event, PartStart):
            assert current is None
            current = (event.headers, bytearray())
        elif isinstance(event, PartData):
            assert current is not None
            assert event.data, "PartData is never empty"
            current[1].extend(event.data)
        elif isinstance(event, PartEnd):
            assert current is not None
            parts.append((current[0], bytes(current[1])))
            current = None
        else:
            pytest.fail(f"unexpected event {event!r}")
    assert current is None
    return parts


def split_at(data: bytes, sizes: Iterable[int]) -> Iterator[bytes]:
    pos = 0
    for size in sizes:
        if pos >= len(data):
            return
        yield data[pos : pos + size]
        pos += size
    if pos < len(data):
        yield data[pos:]


def random_chunks(data: bytes, seed: int, largest: int = 97) -> Iterator[bytes]:
    rng = random.Random(seed)
    return split_at(data, iter(lambda: rng.randint(1, largest), 0))


def bytewise(data: bytes) -> Iterator[bytes]:
    return (data[i : i + 1] for i in range(len(data)))


TRICKY = (
    b"\r\n--" + B[:-1] + b"\r\n"  # a near miss of the delimiter
    b"\r\n--" + B + b"X"  # the delimiter followed by data: not a delimiter
    b"--" + B + b"\r\n"  # the boundary without a CRLF before it
    b"\r\r\n\n\r\n-\r\n--\r"  # CR/LF soup
    b"\x00\xff\xfe binary \r\n"  # ends with CRLF, right before the real delimiter
)

PARTS = [
    field("title", b"Hello, world"),
    field("empty", b""),
    (
        [
            ("Content-Disposition", 'form-data; name="upload"; filename="a.bin"'),
            ("Content-Type", "application/octet-stream"),
        ],
        TRICKY,
    ),
    field("last", b"\r"),
]
BODY = build(PARTS)


def expected() -> list[tuple[str, bytes]]:
    return [(h[0][1], body) for h, body in PARTS]


def simplify(parts: list[Part]) -> list[tuple[str, bytes]]:
    return [(headers["content-disposition"], body) for headers, body in parts]


def test_round_trip_in_one_chunk() -> None:
    assert simplify(parse([BODY])) == expected()


def test_round_trip_byte_by_byte() -> None:
    assert simplify(parse(bytewise(BODY))) == expected()


@pytest.mark.parametrize("seed", range(25))
def test_round_trip_random_chunks(seed: int) -> None:
    assert simplify(parse(random_chunks(BODY, seed))) == expected()


def test_every_split_point() -> None:
    for cut in range(len(BODY) + 1):
        assert simplify(parse([BODY[:cut], BODY[cut:]])) == expected(), cut


def test_headers_are_lowercased_and_stripped() -> None:
    body = b"--" + B + b"\r\nContent-DISPOSITION:   form-data; name=x \t\r\nX-A: 1\r\n\r\nv\r\n"
    body += b"--" + B + b"--"
    [(headers, data)] = parse([body])
    assert headers.multi_items() == [("content-disposition", "form-data; name=x"), ("x-a", "1")]
    assert data == b"v"


def test_part_without_headers() -> None:
    body = b"--" + B + b"\r\n\r\nbare\r\n--" + B + b"--"
    [(headers, data)] = parse(bytewise(body))
    assert len(headers) == 0
    assert data == b"bare"


def test_non_utf8_header_falls_back_to_latin1() -> None:
    body = b"--" + B + b'\r\nContent-Disposition: form-data; name="caf\xe9"\r\n\r\n\r\n'
    body += b"--" + B + b"--"
    [(headers, _)] = parse([body])
    assert headers["content-disposition"] == 'form-data; name="café"'


def test_preamble_epilogue_and_transport_padding() -> None:
    body = b"preamble junk\r\n--" + B + b" \t\r\nContent-Disposition: form-data; name=a\r\n\r\n"
    body += b"1\r\n--" + B + b"   \r\n\r\n2\r\n--" + B + b"--  \r\nepilogue\r\n--" + B + b"\r\n"
    for chunks in ([body], bytewise(body)):
        assert [data for _, data in parse(chunks)] == [b"1", b"2"]


def test_too_much_transport_padding_is_not_a_delimiter() -> None:
    padded = b"\r\n--" + B + b" " * 40 + b"\r\n"
    body = b"--" + B + b"\r\n\r\n" + padded + b"\r\n--" + B + b"--"
    for chunks in ([body], bytewise(body)):
        assert [data for _, data in parse(chunks)] == [padded]


def test_many_parts() -> None:
    parts = [field(f"f{i}", str(i).encode() * (i % 7)) for i in range(2000)]
    result = parse(random_chunks(build(parts), seed=3, largest=4096))
    assert [data for _, data in result] == [body for _, body in parts]


def test_close_delimiter_only_is_an_empty_message() -> None:
    assert parse([b"--" + B + b"--\r\n"]) == []


def test_feed_after_the_end_returns_nothing() -> None:
    parser = MultipartParser(BOUNDARY)
    events = parser.feed(BODY)
    assert parser.complete
    assert parser.feed(b"--" + B + b"\r\n\r\nmore") == []
    assert parts_of(events)


@pytest.mark.parametrize(
    "boundary", ["", "a" * 71, "bad\r\nboundary", "trailing ", "semi;colon", 'q"uote', "é"]
)
def test_invalid_boundary(boundary: str) -> None:
    with pytest.raises(BadRequest):
        MultipartParser(boundary)


@pytest.mark.parametrize("boundary", ["a", "a" * 70, "'()+_,-./:=? x", "0aZ"])
def test_valid_boundary(boundary: str) -> None:
    assert validate_boundary(boundary) == boundary.encode()
    assert validate_boundary(boundary.encode()) == boundary.encode()
    body = build([field("a", b"1")], boundary.encode())
    assert [data for _, data in parse(bytewise(body), boundary)] == [b"1"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"no boundary at all",
        b"--" + B + b"\r\nContent-Disposition: form-data; name=a\r\n\r\ndata",
        b"--" + B + b"\r\nContent-Disposition: form-data; name=a\r\n",
        b"--" + B + b"\r\n\r\ndata\r\n--" + B,
        b"--" + B + b"\r\n\r\ndata\r\n--" + B + b"-",
    ],
)
def test_truncated_body(body: bytes) -> None:
    parser = MultipartParser(BOUNDARY)
    parser.feed(body)
    with pytest.raises(BadRequest, match="truncated"):
        parser.close()


@pytest.mark.parametrize(
    "header",
    [
        b"no colon here",
        b": empty name",
        b"bad name: x",
        b" folded: x",
        b"ok: value\nsmuggled: x",
        b"nul: a\x00b",
    ],
)
def test_malformed_part_headers(header: bytes) -> None:
    body = b"--" + B + b"\r\n" + header + b"\r\n\r\nx\r\n--" + B + b"--"
    with pytest.raises(BadRequest):
        parse([body])


def test_part_header_size_limit() -> None:
    def body(size: int) -> bytes:
        header = b"X-Pad: " + b"a" * (size - 7)
        return b"--" + B + b"\r\n" + header + b"\r\n\r\nx\r\n--" + B + b"--"

    assert parse([body(100)], max_part_header_size=100)
    assert parse(bytewise(body(100)), max_part_header_size=100)
    with pytest.raises(RequestHeaderFieldsTooLarge):
        parse([body(101)], max_part_header_size=100)
    with pytest.raises(RequestHeaderFieldsTooLarge):
        parse(bytewise(body(101)), max_part_header_size=100)


def test_unterminated_headers_stop_at_the_limit() -> None:
    parser = MultipartParser(BOUNDARY, max_part_header_size=1000)
    parser.feed(b"--" + B + b"\r\n")
    for _ in range(167):  # 1002 bytes: may still end as a 1000-byte block
        parser.feed(b"X: y\r\n")
    with pytest.raises(RequestHeaderFieldsTooLarge):
        parser.feed(b"X: y\r\n")


class TestContentDisposition:
    def test_plain(self) -> None:
        assert parse_content_disposition("Form-Data; Name=a; filename=b.txt") == (
            "form-data",
            {"name": "a", "filename": "b.txt"},
        )

    def test_escaped_quotes_and_backslashes(self) -> None:
        value = r'form-data; name="a\"b\\c"; filename="x;y.txt"'
        assert parse_content_disposition(value)[1] == {"name": 'a"b\\c', "filename": "x;y.txt"}

    def test_windows_path_keeps_its_backslashes(self) -> None:
        params = parse_content_disposition(r'form-data; name=f; filename="C:\x\y.txt"')[1]
        assert params["filename"] == "C:\\x\\y.txt"

    def test_first_occurrence_wins_and_junk_is_skipped(self) -> None:
        value = 'form-data; flag; name="a"; =x; name="b"; filename*=UTF-8\'\'%E2%82%AC'
        assert parse_content_disposition(value)[1] == {"name": "a", "filename*": "UTF-8''%E2%82%AC"}

    def test_spaces_around_values_and_trailing_flag(self) -> None:
        value = 'form-data ; name =  "a" ; filename= b.txt ; flag'
        assert parse_content_disposition(value) == ("form-data", {"name": "a", "filename": "b.txt"})

    def test_unterminated_quote(self) -> None:
        assert parse_content_disposition('form-data; name="abc')[1] == {"name": "abc"}

    def test_many_escapes_are_linear(self) -> None:
        value = 'form-data; name="' + '\\"' * 200_000 + '"'
        start = time.perf_counter()
        params = parse_content_disposition(value)[1]
        assert time.perf_counter() - start < DOS_SECONDS
        assert params["name"] == '"' * 200_000


class TestDenialOfService:
    """Hostile shapes must cost time linear in their size and bounded memory."""

    def run(self, chunks: Iterable[bytes]) -> MultipartParser:
        """Feed ``chunks`` (made lazily) under a time bound and a memory bound."""
        parser = MultipartParser(BOUNDARY)
        tracemalloc.start()
        try:
            start = time.perf_counter()
            for chunk in chunks:
                parser.feed(chunk)
            elapsed = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert elapsed < DOS_SECONDS
        assert peak < 512 * 1024  # about a chunk or two, never the whole body
        return parser

    def test_crlf_flood_preamble(self) -> None:
        flood = b"\r\n" * 1_048_576  # 2 MB
        body = flood + build([field("a", b"1")])
        self.run(split_at(body, iter(lambda: 65536, 0)))
        assert parse(split_at(body, iter(lambda: 65536, 0))) == parse([build([field("a", b"1")])])

    def test_crlf_flood_preamble_in_tiny_chunks(self) -> None:
        parser = self.run(split_at(b"\r\n" * 50_000, iter(lambda: 3, 0)))
        assert not parser.complete

    def test_crlf_flood_epilogue(self) -> None:
        body = build([field("a", b"1")]) + b"\r\n" * 1_048_576
        parser = self.run(split_at(body, iter(lambda: 65536, 0)))
        assert parser.complete

    def test_near_miss_delimiters(self) -> None:
        near_miss = b"\r\n--" + B[:-1]
        body = b"--" + B + b"\r\n\r\n" + near_miss * (2_000_000 // len(near_miss))
        self.run(split_at(body, iter(lambda: 65536, 0)))
        self.run(random_chunks(body[:300_000], seed=1, largest=len(B) + 8))

    def test_false_delimiters(self) -> None:
        false = b"\r\n--" + B + b"X"
        body = b"--" + B + b"\r\n\r\n" + false * (2_000_000 // len(false))
        self.run(split_at(body, iter(lambda: 65536, 0)))

    def test_padding_flood_after_delimiter(self) -> None:
        body = b"--" + B + b"\r\n\r\n" + (b"\r\n--" + B + b" " * 1000) * 2000
        self.run(split_at(body, iter(lambda: 65536, 0)))

    def test_thousands_of_tiny_header_lines(self) -> None:
        headers = b"a:b\r\n" * 3000
        part = b"--" + B + b"\r\nContent-Disposition: form-data; name=a\r\n" + headers
        body = part + b"\r\nv\r\n--" + B + b"--"
        start = time.perf_counter()
        [(parsed, data)] = parse(bytewise(body))
        assert time.perf_counter() - start < DOS_SECONDS
        assert len(parsed.getall("a")) == 3000
        assert data == b"v"

    def test_header_flood_hits_the_limit(self) -> None:
        body = b"--" + B + b"\r\n" + b"a:b\r\n" * 1_000_000
        start = time.perf_counter()
        with pytest.raises(RequestHeaderFieldsTooLarge):
            parse(split_at(body, iter(lambda: 1000, 0)))
        assert time.perf_counter() - start < DOS_SECONDS

    def test_large_part_in_small_chunks_is_linear(self) -> None:
        body = build([field("big", b"x\r" * 1_000_000)])
        start = time.perf_counter()
        [(_, data)] = parse(split_at(body, iter(lambda: 512, 0)))
        assert time.perf_counter() - start < DOS_SECONDS
        assert data == b"x\r" * 1_000_000

    def test_many_parts_in_one_chunk_is_linear(self) -> None:
        body = build([field("f", b"v")] * 20_000)
        start = time.perf_counter()
        assert len(parse([body])) == 20_000
        assert time.perf_counter() - start < DOS_SECONDS
