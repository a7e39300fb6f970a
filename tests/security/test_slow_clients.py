"""Slow clients (slowloris): headers or bodies that trickle in, or stop half-way.

Against a real Granian server. Headers that never finish are cut off by the server's
header timeout. A body that stalls holds only its own request: other clients are
served at once, and when the slow client leaves, its request is dropped (never
processed as if complete) with its descriptors and temporary files.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

from tests.security.granian import HEADER_READ_TIMEOUT_MS, Server, read_all
from tests.security.helpers import QUICK_S, answers_quickly, multipart

#: Each round stalls three requests: a raw body, a chunked one and an upload.
STALLED_ROUNDS = 7


@contextlib.contextmanager
def stalled(server: Server, heads: list[bytes]) -> Iterator[list[socket.socket]]:
    """Open one connection per ``heads`` entry, send it, and leave it hanging."""
    sockets = []
    try:
        for head in heads:
            sock = server.connect()
            sockets.append(sock)
            sock.sendall(head)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_headers_that_never_end_are_cut_off(clean_server: Server) -> None:
    """Slowloris (CVE-2007-6750 for Apache httpd): one header line at a time, forever.

    Granian closes the connection after its header read timeout (here 2 s; 30 s by
    default) counted from the first byte, however often a new line arrives.
    """
    clean_server.requests_seen()
    bound = HEADER_READ_TIMEOUT_MS / 1000 + QUICK_S
    with clean_server.connect() as sock, answers_quickly(bound):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(3):
            time.sleep(0.2)
            sock.sendall(b"X-Slow: 1\r\n")
        answer = read_all(sock)
    assert answer == b""  # closed without an answer
    assert clean_server.requests_seen() == []  # and the request never reached the app


def test_stalled_bodies_do_not_hold_up_other_clients(clean_server: Server) -> None:
    """Bodies that stop half-way keep their own requests waiting, no one else's."""
    clean_server.requests_seen()
    upload = multipart([("f", "big.bin", b"y" * 4096)])[:3000]
    heads = [
        b"POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789",
        b"POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
        b"boundary=B0und\r\nContent-Length: %d\r\n\r\n%s" % (len(upload) + 5000, upload),
    ] * STALLED_ROUNDS
    with stalled(clean_server, heads):
        time.sleep(0.5)  # let the app start reading every stalled body
        with answers_quickly():
            answer = clean_server.exchange(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
        assert answer.endswith(b"\r\n\r\nok")
    requests = [r for r in clean_server.requests_seen() if r != "GET / 200"]
    deadline = time.monotonic() + QUICK_S
    while len(requests) < len(heads) and time.monotonic() < deadline:
        time.sleep(0.1)
        requests += clean_server.requests_seen()
    # Every stalled request ended when its client left, none as if its body were whole.
    assert sorted(requests) == sorted(
        f"POST {path} 400" for path in ["/body", "/body", "/form"] * STALLED_ROUNDS
    ), requests
