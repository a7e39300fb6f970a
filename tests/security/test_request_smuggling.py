"""Request smuggling: framing that two HTTP parsers could read differently.

Every request below hides ``GET /smuggled`` where a lenient parser would take it for
the next request. Through a real Granian server, each must be refused or framed the
one RFC 9112 way, and the hidden request must never reach the app.
"""

from __future__ import annotations

import pytest

from tests.security.granian import Server, read_all
from tests.security.helpers import answers_quickly

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
POST = b"POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n"


def send(server: Server, data: bytes) -> tuple[list[int], list[str]]:
    """Send raw bytes; return the statuses answered and the requests the app saw."""
    server.requests_seen()  # forget earlier requests
    with server.connect() as sock, answers_quickly():
        sock.sendall(data)
        answer = read_all(sock)  # the server must close: never wait for a next request
    statuses = [
        int(line.split(b" ")[1]) for line in answer.split(b"\r\n") if line[:9] == b"HTTP/1.1 "
    ]
    return statuses, server.requests_seen()


REFUSED_BEFORE_THE_APP = {
    "duplicate-content-length": POST + b"Content-Length: 0\r\nContent-Length: 44\r\n\r\n",
    "content-length-list": POST + b"Content-Length: 0, 44\r\n\r\n",
    "negative-content-length": POST + b"Content-Length: -1\r\n\r\n",
    "signed-content-length": POST + b"Content-Length: +44\r\n\r\n",
    "chunked-not-last": POST + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "unknown-coding": POST + b"Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n\r\n",
    "space-before-colon": POST + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "vertical-tab": POST + b"Transfer-Encoding: \x0bchunked\r\nContent-Length: 0\r\n\r\n",
    "obs-fold": POST + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
    "bare-cr": POST + b"X-Abc: \rxTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
    "nul-in-header": POST + b"X-Abc: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "space-in-name": POST + b"X Abc: b\r\nContent-Length: 0\r\n\r\n",
    "chunked-http-1.0": b"POST /body HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
    b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("head", REFUSED_BEFORE_THE_APP.values(), ids=REFUSED_BEFORE_THE_APP.keys())
def test_ambiguous_framing_is_400_before_the_app(clean_server: Server, head: bytes) -> None:
    """aiohttp CVE-2023-47627 and CVE-2023-37276 (GHSA-45c4-8wx5-qw6w), llhttp
    CVE-2023-30589 (a bare CR in a header value), and the classic CL.TE / TE.CL pairs:
    lenient header parsing let one request carry another.
    """
    statuses, seen = send(clean_server, head + SMUGGLED)
    assert statuses == [400]
    assert seen == []


BROKEN_CHUNKS = {
    "signed-size": b"+5\r\nhello\r\n0\r\n\r\n",
    "hex-prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "overflowing-size": b"f" * 40 + b"\r\nhello\r\n0\r\n\r\n",
    "lf-in-extension": b"5;a=b\nX\r\nhello\r\n0\r\n\r\n",
    "bare-lf-terminators": b"5\nhello\n0\n\n",
    "short-chunk": b"3\r\nhello\r\n0\r\n\r\n",
    "request-in-trailers": b"0\r\nGET /smuggled HTTP/1.1\r\n\r\n",
}


@pytest.mark.parametrize("body", BROKEN_CHUNKS.values(), ids=BROKEN_CHUNKS.keys())
def test_broken_chunked_body_is_400_not_processed_short(clean_server: Server, body: bytes) -> None:
    """aiohttp CVE-2024-52304 (LF in chunk extensions) and CVE-2025-53643 (unparsed
    trailer section): malformed chunk framing. The app must see a broken body, not a
    shorter complete one: a truncated form would otherwise be processed as sent.
    """
    statuses, seen = send(clean_server, CHUNKED + b"\r\n" + body + SMUGGLED)
    assert statuses == [400]
    assert seen == ["POST /body 400"]


@pytest.mark.parametrize(
    "head",
    [
        POST + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        CHUNKED + b"Content-Length: 50\r\n\r\n0\r\n\r\n",
    ],
    ids=["cl-then-te", "te-then-cl"],
)
def test_content_length_with_chunked_is_framed_by_chunked_and_closed(
    clean_server: Server, head: bytes
) -> None:
    """RFC 9112 section 6.1: Transfer-Encoding wins, and the connection is closed after
    the answer, so whatever a front proxy framed differently is never read as a request.
    """
    statuses, seen = send(clean_server, head + SMUGGLED)
    assert statuses == [200]
    assert seen == ["POST /body 200"]


def test_body_of_a_get_is_not_a_request(clean_server: Server) -> None:
    """A GET with a body: the declared body is read as a body."""
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    statuses, seen = send(
        clean_server, head + b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED
    )
    assert statuses == [200]
    assert seen == ["GET / 200"]


def test_valid_chunked_body_is_read_whole(clean_server: Server) -> None:
    """The checks above refuse broken framing only: chunks and extensions are fine."""
    body = b"5\r\nhello\r\n3;name=value\r\nabc\r\n0\r\n\r\n"
    answer = clean_server.exchange(CHUNKED + b"Connection: close\r\n\r\n" + body)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'{"size":8}')
