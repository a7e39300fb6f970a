"""Oversized bodies, declared or not: refused at the limit, without reading the rest.

A limit that only looks at ``Content-Length`` is bypassed by a chunked body, which
has none; one that reads the whole body before checking is no limit at all.
"""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest

from tests.security.granian import Server, status_of
from tests.security.helpers import answers_quickly, assert_refused, multipart
from tests.security.served_app import MAX_BODY, MAX_UPLOAD, build_app
from tests.support import Receiver, call_asgi

CHUNK = 16 * 1024
FORM = (b"content-type", b"application/x-www-form-urlencoded")
MULTIPART = (b"content-type", b"multipart/form-data; boundary=B0und")


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/body", None, MAX_BODY),
        ("/json", (b"content-type", b"application/json"), MAX_BODY),
        ("/form", FORM, MAX_BODY),
        ("/form", MULTIPART, MAX_UPLOAD),
    ],
    ids=["raw", "json", "urlencoded", "multipart"],
)
def test_body_without_length_is_cut_at_the_limit(
    path: str, content_type: tuple[bytes, bytes] | None, limit: int
) -> None:
    """Size limits enforced on the declared ``Content-Length`` only (CWE-770), bypassed by a
    chunked body; nginx#1522 (``client_max_body_size`` on the discard path) is a recent case.
    """
    head = multipart([("f", "big.bin", b"")])[: -len(b"\r\n--B0und--\r\n")]
    first = head if content_type == MULTIPART else b"a="
    receive = Receiver([first, *[b"x" * CHUNK] * (4 * limit // CHUNK)])
    headers = [content_type] if content_type else []
    with answers_quickly():
        result = call_asgi(build_app(), method="POST", path=path, headers=headers, receive=receive)
    assert_refused(result, 413)
    assert receive.handed_out <= limit // CHUNK + 2  # the rest was never asked for


@pytest.mark.parametrize(("length", "status"), [(MAX_BODY + 1, 413), (10**12, 413), (2**64, 400)])
def test_declared_oversized_body_is_refused_unread(length: int, status: int) -> None:
    """Refused on the header alone (a length too long to be one is malformed): not one
    byte of the body is read.
    """
    receive = Receiver([b"x" * 10])
    headers = [(b"content-length", str(length).encode())]
    result = call_asgi(build_app(), method="POST", path="/body", headers=headers, receive=receive)
    assert_refused(result, status)
    assert receive.handed_out == 0


def stream_chunked(sock: socket.socket, total: int, sent: list[int]) -> None:
    """Send ``total`` bytes as chunks until done or until the server stops reading."""
    chunk = b"%x\r\n%s\r\n" % (CHUNK, b"x" * CHUNK)
    try:
        while sent[0] < total:
            sock.sendall(chunk)
            sent[0] += CHUNK
        sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered and closed: what the test wants


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/body", b"application/octet-stream"), ("/form", MULTIPART[1])],
    ids=["raw", "multipart"],
)
def test_chunked_flood_through_granian_is_413_early(
    clean_server: Server, path: str, content_type: bytes
) -> None:
    """Through a real server: the 413 comes while the client is still sending."""
    total = 64 * MAX_UPLOAD
    sent = [0]
    head = (
        b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Type: %s\r\n\r\n" % (path.encode(), content_type)
    )
    with clean_server.connect() as sock, answers_quickly():
        sock.sendall(head)
        sender = threading.Thread(target=stream_chunked, args=(sock, total, sent))
        sender.start()
        answer = sock.recv(65536)
        with contextlib.suppress(OSError):  # the server may have closed already
            sock.shutdown(socket.SHUT_RDWR)  # stops the sender
        sender.join()
    assert status_of(answer) == 413
    assert sent[0] < total


def test_declared_oversized_body_through_granian(clean_server: Server) -> None:
    """A huge ``Content-Length`` with no body behind it: answered at once, not awaited."""
    request = (
        b"POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Length: 1000000000\r\n\r\nxyz"
    )
    with answers_quickly():
        assert status_of(clean_server.exchange(request)) == 413
