"""A real Granian server for the framing tests, with a window into its worker process.

The served app is :mod:`tests.security.served_app`. Tests talk to it over raw
sockets (clients such as httpx never send malformed framing) and look at the
worker's open file descriptors and temporary folder to see that nothing leaked.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import ServerKind, free_port, running, server_command

__all__ = ["REPO_ROOT", "Server", "serve_security_app"]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: How long a raw exchange may wait for the server before the test fails.
SOCKET_TIMEOUT_S = 10.0
#: Headers must arrive within this many milliseconds (Granian's default is 30 s).
HEADER_READ_TIMEOUT_MS = 2000


@dataclass
class Server:
    """A running Granian serving the security app."""

    kind: ServerKind
    port: int
    worker: int
    tmpdir: Path
    log: Path

    @property
    def url(self) -> str:
        """The base URL, for httpx."""
        return f"http://127.0.0.1:{self.port}"

    def connect(self) -> socket.socket:
        """Open a raw connection to the server."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=SOCKET_TIMEOUT_S)

    def exchange(self, data: bytes) -> bytes:
        """Send ``data`` and return everything the server answers until it closes.

        The requests say ``Connection: close`` (or are refused): a server that keeps
        waiting fails the test with a socket timeout.
        """
        with self.connect() as sock:
            sock.sendall(data)
            return read_all(sock)

    def requests_seen(self) -> list[str]:
        """The requests the app saw since the last call, as ``"METHOD /path status"``."""
        answer = self.exchange(
            b"GET /seen HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        seen: list[str] = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        return seen

    def open_fds(self) -> int:
        """How many file descriptors the worker holds open."""
        return len(os.listdir(f"/proc/{self.worker}/fd"))

    def settled_fds(self, baseline: int, within: float = 5.0) -> int:
        """Wait (up to ``within`` s) for the worker to close what it opened; return the count."""
        deadline = time.monotonic() + within
        count = self.open_fds()
        while count > baseline and time.monotonic() < deadline:
            time.sleep(0.05)
            count = self.open_fds()
        return count

    def temp_files(self) -> list[Path]:
        """What the worker left in its temporary folder."""
        return list(self.tmpdir.iterdir())


def read_all(sock: socket.socket) -> bytes:
    """Read until the server closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    """The status of the first response in ``answer`` (0 when the server sent nothing)."""
    if not answer:
        return 0
    return int(answer.split(b" ", 2)[1])


@contextmanager
def serve_security_app(kind: ServerKind, folder: Path) -> Iterator[Server]:
    """Serve the security app with ``kind``, one worker, temporary files under ``folder``."""
    tmpdir = folder / "tmp"
    tmpdir.mkdir()
    log = folder / f"{kind}.log"
    port = free_port()
    options = ["--workers", "1", "--http1-header-read-timeout", str(HEADER_READ_TIMEOUT_MS)]
    command = server_command(kind, "tests.security.served_app:app", port, options)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TMPDIR": str(tmpdir)}
    with running(command, port, cwd=REPO_ROOT, log=log, env=env) as process:
        server = Server(kind, port, _only_child(process.pid), tmpdir, log)
        _warm_up(server)
        yield server


def _warm_up(server: Server) -> None:
    """Serve a few requests, so that what the worker opens once (its event loop's and
    runtime threads' descriptors) is open before tests count descriptors.
    """
    for _ in range(3):
        server.exchange(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        body = b"--B\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\nx\r\n--B--\r\n"
        server.exchange(
            b"POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )


def _only_child(pid: int) -> int:
    """The worker Granian spawned (one worker: one child process)."""
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    assert len(children) == 1, children
    return children[0]
