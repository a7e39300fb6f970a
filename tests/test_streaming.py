"""Streamed and file responses stop, and close their iterators, when the client goes away.

Checked through the test client, through hand-written ASGI and RSGI servers, and against
real servers (Granian in RSGI and ASGI mode, uvicorn) with a raw socket client that reads a
few chunks and hangs up.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from satchel import App, FileResponse, Request, Settings, StreamingResponse
from satchel.bodies import FILE_CHUNK_SIZE
from satchel.testing import AsyncTestClient, TestClient
from tests.servers import SERVER_KINDS, ServerKind, serve_source

T = TypeVar("T")
Message = MutableMapping[str, Any]
WAIT_S = 5.0  # how long a stopped stream may take to run its generator's finally


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def ticks(closed: threading.Event) -> AsyncIterator[str]:
    """Events forever; ``closed`` is set by the generator's ``finally``."""
    try:
        while True:
            yield "data: tick\n\n"
            await asyncio.sleep(0.001)
    finally:
        closed.set()


def sync_ticks(closed: threading.Event) -> Iterator[bytes]:
    """Events forever from a sync generator; ``closed`` is set by its ``finally``."""
    try:
        while True:
            yield b"data: tick\n\n"
            time.sleep(0.001)
    finally:
        closed.set()


class Closable:
    """Sync content with a ``close()`` method, which sets ``closed``."""

    def __init__(self, closed: threading.Event) -> None:
        self._closed = closed

    def __iter__(self) -> Iterator[bytes]:
        return iter([b"never sent"])

    def close(self) -> None:
        self._closed.set()


def endless_app(closed: threading.Event, **settings: Any) -> App[Any]:
    """An app whose streams never end by themselves; ``closed`` is set by their ``finally``."""
    app = App(settings=Settings(access_log=False, **settings))

    @app.route("/async", methods=["GET", "HEAD", "POST"])
    async def endless() -> StreamingResponse:
        return StreamingResponse(ticks(closed), media_type="text/event-stream")

    @app.route("/sync", methods=["GET", "HEAD"])
    async def endless_sync() -> StreamingResponse:
        return StreamingResponse(sync_ticks(closed), media_type="text/event-stream")

    @app.head("/closable")
    async def closable() -> StreamingResponse:
        return StreamingResponse(Closable(closed))

    @app.post("/read-then-stream")
    async def read_then_stream(request: Request) -> StreamingResponse:
        await request.body()
        return StreamingResponse(ticks(closed), media_type="text/event-stream")

    @app.post("/read-one-chunk-then-stream")
    async def read_one_chunk(request: Request) -> StreamingResponse:
        async for _ in request.stream():
            break
        return StreamingResponse(ticks(closed), media_type="text/event-stream")

    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        return StreamingResponse(request.stream())

    @app.post("/late-body")
    async def late_body(request: Request) -> StreamingResponse:
        async def content() -> AsyncIterator[bytes]:
            yield b"start;"
            await asyncio.sleep(0.01)  # the disconnect watch is reading by now
            yield await request.body()

        return StreamingResponse(content())

    return app


# -- through the test client ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_closing_a_streamed_response_early_runs_the_generators_finally(path: str) -> None:
    closed = threading.Event()
    with TestClient(endless_app(closed)) as client, client.stream("GET", path) as response:
        assert response.status_code == 200
        for count, _ in enumerate(response.iter_bytes(), 1):
            if count == 3:
                break
    assert closed.wait(WAIT_S)


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_async_client_closing_early_runs_the_generators_finally(path: str) -> None:
    closed = threading.Event()

    async def main() -> None:
        async with AsyncTestClient(endless_app(closed)) as client:
            async with client.stream("GET", path) as response:
                async for _ in response.aiter_bytes():
                    break
            assert await asyncio.to_thread(closed.wait, WAIT_S)

    run(main())


def test_head_closes_the_content_without_iterating_it() -> None:
    closed = threading.Event()
    with TestClient(endless_app(closed)) as client:
        response = client.head("/closable")
    assert (response.status_code, response.content) == (200, b"")
    assert closed.is_set()


# -- through a hand-written ASGI server ----------------------------------------------------------


@dataclass
class Peer:
    """The server's side of one ASGI http connection, played by the test.

    ``receive`` hands out ``body`` one message per chunk (yielding to the loop first, as
    a socket would), then waits until the client is gone and reports ``http.disconnect``.
    The client goes once the app has sent ``leave_after`` body messages. Concurrent
    ``receive()`` calls, which ASGI forbids, are counted.
    """

    body: Sequence[bytes] = (b"",)
    body_complete: bool = True  # else the last chunk says more is coming, which never does
    leave_after: int | None = None
    send_error_after: int | None = None  # raise OSError then, as ASGI 2.4 servers do
    sent: list[Message] = field(default_factory=list)
    attempts: int = 0  # body messages sent, dropped ones included
    received: int = 0
    in_receive: int = 0
    most_in_receive: int = 0
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self) -> Message:
        self.in_receive += 1
        self.most_in_receive = max(self.most_in_receive, self.in_receive)
        try:
            await asyncio.sleep(0)
            if self.received < len(self.body):
                self.received += 1
                more = self.received < len(self.body) or not self.body_complete
                return {
                    "type": "http.request",
                    "body": self.body[self.received - 1],
                    "more_body": more,
                }
            await self.gone.wait()
            return {"type": "http.disconnect"}
        finally:
            self.in_receive -= 1

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body":
            self.attempts += 1
            if self.send_error_after is not None and self.body_messages >= self.send_error_after:
                raise OSError("client gone")
            if self.gone.is_set():
                return  # what uvicorn and Granian do: drop it silently
        self.sent.append(message)
        if self.leave_after is not None and self.body_messages >= self.leave_after:
            self.gone.set()

    @property
    def body_messages(self) -> int:
        return sum(1 for m in self.sent if m["type"] == "http.response.body")

    @property
    def response_body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")

    @property
    def complete(self) -> bool:
        last = self.sent[-1] if self.sent else {}
        return last.get("type") == "http.response.body" and not last.get("more_body", False)


def serve_asgi(app: App[Any], peer: Peer, path: str, method: str = "GET") -> None:
    """Run one request through ``app`` with ``peer``; fail if the app is still busy later."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def main() -> None:
        await asyncio.wait_for(app(scope, peer.receive, peer.send), WAIT_S)

    run(main())


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_a_stream_stops_when_the_client_disconnects(path: str) -> None:
    closed = threading.Event()
    peer = Peer(leave_after=3)
    serve_asgi(endless_app(closed), peer, path)
    assert closed.is_set()
    assert peer.body_messages == 3
    assert peer.attempts < 8
    assert not peer.complete  # nothing is sent after the client has gone
    assert peer.most_in_receive == 1


def test_a_file_stops_when_the_client_disconnects(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * FILE_CHUNK_SIZE * 64)
    app = App(settings=Settings(access_log=False))

    @app.get("/file")
    async def big() -> FileResponse:
        return FileResponse(path)

    peer = Peer(leave_after=2)
    serve_asgi(app, peer, "/file")
    assert peer.body_messages == 2
    assert peer.attempts < 8  # not the 64 chunks of the whole file


def test_a_file_is_sent_whole_while_the_client_stays(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"y" * (FILE_CHUNK_SIZE * 3 + 5))
    app = App(settings=Settings(access_log=False))

    @app.get("/file")
    async def big() -> FileResponse:
        return FileResponse(path)

    peer = Peer()
    serve_asgi(app, peer, "/file")
    assert peer.response_body == path.read_bytes()
    assert peer.complete


def test_send_raising_oserror_stops_the_stream_quietly(caplog: pytest.LogCaptureFixture) -> None:
    closed = threading.Event()
    peer = Peer(send_error_after=3)
    with caplog.at_level(logging.DEBUG):
        serve_asgi(endless_app(closed), peer, "/async")
    assert closed.is_set()
    assert [r.levelname for r in caplog.records if r.levelno > logging.DEBUG] == []


def test_a_plain_disconnect_logs_nothing_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        serve_asgi(endless_app(threading.Event()), Peer(leave_after=2), "/sync")
    assert [r.levelname for r in caplog.records if r.levelno > logging.DEBUG] == []


def test_a_body_read_before_streaming_is_followed_by_the_watch() -> None:
    closed = threading.Event()
    peer = Peer(body=[b"a", b"b", b"c"], leave_after=3)
    serve_asgi(endless_app(closed), peer, "/read-then-stream", "POST")
    assert closed.is_set()
    assert peer.most_in_receive == 1


def test_an_unread_body_is_read_past_to_see_the_disconnect() -> None:
    closed = threading.Event()
    peer = Peer(body=[b"a" * 100] * 5, leave_after=3)
    serve_asgi(endless_app(closed), peer, "/async", "POST")
    assert closed.is_set()
    assert peer.received == 5
    assert peer.most_in_receive == 1


def test_an_unread_body_over_the_limit_is_dropped_and_the_watch_goes_on() -> None:
    closed = threading.Event()
    peer = Peer(body=[b"a" * 1000] * 5, leave_after=3)
    serve_asgi(endless_app(closed, max_body_size=1024), peer, "/async", "POST")
    assert closed.is_set()
    assert peer.received == 5


def test_an_abandoned_body_is_read_past_to_see_the_disconnect() -> None:
    closed = threading.Event()
    peer = Peer(body=[b"a", b"b", b"c", b"d"], leave_after=3)
    serve_asgi(endless_app(closed), peer, "/read-one-chunk-then-stream", "POST")
    assert closed.is_set()
    assert peer.most_in_receive == 1


def test_content_that_streams_the_request_body_gets_all_of_it() -> None:
    body = [b"one;", b"two;", b"three;", b"four;"]
    peer = Peer(body=body)
    serve_asgi(endless_app(threading.Event()), peer, "/echo", "POST")
    assert peer.response_body == b"".join(body)
    assert peer.complete
    assert peer.most_in_receive == 1


def test_a_client_that_leaves_mid_upload_stops_an_echo_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    peer = Peer(body=[b"one;", b"two;"], body_complete=False, leave_after=1)
    with caplog.at_level(logging.DEBUG):
        serve_asgi(endless_app(threading.Event()), peer, "/echo", "POST")
    assert peer.response_body == b"one;"
    assert not peer.complete
    assert [r.levelname for r in caplog.records if r.levelno > logging.DEBUG] == []


def test_content_that_reads_the_body_late_gets_all_of_it() -> None:
    body = [b"one;", b"two;", b"three;"]
    peer = Peer(body=body)
    serve_asgi(endless_app(threading.Event()), peer, "/late-body", "POST")
    assert peer.response_body == b"start;" + b"".join(body)
    assert peer.most_in_receive == 1


def test_content_that_reads_a_dropped_body_fails() -> None:
    app = App(settings=Settings(access_log=False, max_body_size=10))

    @app.post("/late")
    async def late(request: Request) -> StreamingResponse:
        async def content() -> AsyncIterator[bytes]:
            yield b"start;"
            await asyncio.sleep(0.01)
            yield await request.body()

        return StreamingResponse(content())

    peer = Peer(body=[b"a" * 8] * 3)
    with pytest.raises(Exception, match="too large"):
        serve_asgi(app, peer, "/late", "POST")


# -- through a hand-written RSGI server ----------------------------------------------------------


class _Headers:
    def items(self) -> list[tuple[str, str]]:
        return [("host", "testserver")]

    def get_all(self, name: str) -> list[str]:
        return ["testserver"] if name == "host" else []


@dataclass
class RSGIScope:
    path: str
    method: str = "GET"
    query_string: str = ""
    headers: _Headers = field(default_factory=_Headers)
    client: str = "127.0.0.1:5000"
    scheme: str = "http"
    http_version: str = "1.1"
    proto: str = "http"


class RSGIProtocolClosed(RuntimeError):
    """Named like Granian's exception for a send to a client that has gone."""


@dataclass
class RSGIPeer:
    """Granian's side of one RSGI request, played by the test."""

    leave_after: int | None = None
    raise_on_send: bool = False  # after leaving: raise like Granian, instead of dropping
    announces_disconnect: bool = True  # False: a send fails before client_disconnect() fires
    sent: list[bytes] = field(default_factory=list)
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    async def client_disconnect(self) -> None:
        await self.gone.wait()
        if not self.announces_disconnect:
            await asyncio.Event().wait()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._body()

    async def _body(self) -> AsyncIterator[bytes]:
        return
        yield b""

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> RSGIPeer:
        return self

    async def send_bytes(self, data: bytes) -> None:
        if self.gone.is_set():
            if self.raise_on_send:
                raise RSGIProtocolClosed("RSGI transport is closed")
            return
        self.sent.append(data)
        if self.leave_after is not None and len(self.sent) >= self.leave_after:
            self.gone.set()


def serve_rsgi(app: App[Any], peer: RSGIPeer, scope: RSGIScope) -> None:
    async def main() -> None:
        await asyncio.wait_for(app.__rsgi__(scope, peer), WAIT_S)

    run(main())


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_rsgi_stream_stops_on_client_disconnect(path: str) -> None:
    closed = threading.Event()
    peer = RSGIPeer(leave_after=3)
    serve_rsgi(endless_app(closed), peer, RSGIScope(path))
    assert closed.is_set()
    assert len(peer.sent) == 3


@pytest.mark.parametrize("announces_disconnect", [True, False])
def test_rsgi_send_to_a_closed_transport_stops_quietly(
    announces_disconnect: bool, caplog: pytest.LogCaptureFixture
) -> None:
    closed = threading.Event()
    peer = RSGIPeer(leave_after=3, raise_on_send=True, announces_disconnect=announces_disconnect)
    with caplog.at_level(logging.DEBUG):
        serve_rsgi(endless_app(closed), peer, RSGIScope("/sync"))
    assert closed.is_set()
    assert [r.levelname for r in caplog.records if r.levelno > logging.DEBUG] == []


def test_rsgi_other_send_errors_propagate() -> None:
    app = App(settings=Settings(access_log=False))

    @app.get("/")
    async def stream() -> StreamingResponse:
        return StreamingResponse([b"a"])

    class Broken(RSGIPeer):
        async def send_bytes(self, data: bytes) -> None:
            raise RuntimeError("protocol error")

    with pytest.raises(RuntimeError, match="protocol error"):
        serve_rsgi(app, Broken(), RSGIScope("/"))


def test_rsgi_head_closes_the_content() -> None:
    closed = threading.Event()
    peer = RSGIPeer()
    serve_rsgi(endless_app(closed), peer, RSGIScope("/closable", method="HEAD"))
    assert closed.is_set()
    assert peer.sent == []


# -- against real servers ------------------------------------------------------------------------

SERVED_APP = textwrap.dedent(
    """
    import asyncio
    import time
    from pathlib import Path

    from satchel import App, Request, Settings, StreamingResponse

    MARKS = Path(__file__).with_name("marks")
    app = App(settings=Settings(access_log=False))


    def mark(name: str) -> None:
        with MARKS.open("a") as marks:
            marks.write(name + "\\n")


    @app.route("/sse", methods=["GET", "POST"])
    async def sse(request: Request) -> StreamingResponse:
        tag = request.query_params["tag"]

        async def events():
            try:
                while True:
                    yield "data: tick\\n\\n"
                    await asyncio.sleep(0.01)
            finally:
                mark(tag)

        return StreamingResponse(events(), media_type="text/event-stream")


    @app.get("/sse-sync")
    async def sse_sync(request: Request) -> StreamingResponse:
        tag = request.query_params["tag"]

        def events():
            try:
                while True:
                    yield "data: tick\\n\\n"
                    time.sleep(0.01)
            finally:
                mark(tag)

        return StreamingResponse(events(), media_type="text/event-stream")


    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        return StreamingResponse(request.stream(), media_type="application/octet-stream")
    """
)


@dataclass
class Served:
    url: str
    folder: Path
    kind: ServerKind

    def marked(self, tag: str) -> bool:
        """Wait until the app has marked ``tag`` (its generator's ``finally`` ran)."""
        marks = self.folder / "marks"
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if marks.exists() and tag in marks.read_text().split():
                return True
            time.sleep(0.02)
        return False

    @property
    def log(self) -> str:
        return (self.folder / f"{self.kind}.log").read_text(errors="replace")


@pytest.fixture(scope="module", params=SERVER_KINDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    kind: ServerKind = request.param
    folder = tmp_path_factory.mktemp(f"streaming-{kind}")
    with serve_source(kind, SERVED_APP, folder) as url:
        yield Served(url, folder, kind)


def read_a_few_events_and_hang_up(url: str, target: str, body: bytes = b"") -> bytes:
    """Send one request over a raw socket, read three events, close the socket."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port is not None
    method = "POST" if body else "GET"
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n\r\n"
    received = b""
    with socket.create_connection(("127.0.0.1", parts.port), timeout=WAIT_S) as sock:
        sock.sendall(head.encode() + body)
        while received.count(b"data: tick") < 3:
            data = sock.recv(4096)
            assert data, received
            received += data
    return received


@pytest.mark.parametrize("route", ["/sse", "/sse-sync"])
def test_real_server_stops_an_endless_stream_when_the_client_hangs_up(
    served: Served, route: str
) -> None:
    tag = f"{served.kind}{route.replace('/', '-')}"
    received = read_a_few_events_and_hang_up(served.url, f"{route}?tag={tag}")
    assert received.startswith(b"HTTP/1.1 200")
    assert served.marked(tag), served.log[-2000:]


def test_real_server_stops_a_stream_whose_body_was_not_read(served: Served) -> None:
    tag = f"{served.kind}-unread-body"
    read_a_few_events_and_hang_up(served.url, f"/sse?tag={tag}", body=b"x" * 100_000)
    assert served.marked(tag), served.log[-2000:]


def test_real_server_echoes_a_streamed_request_body(served: Served) -> None:
    chunks = [bytes([65 + i]) * 70_000 for i in range(5)]

    def upload() -> Iterator[bytes]:
        yield from chunks

    with httpx.Client(base_url=served.url, timeout=WAIT_S) as client:
        response = client.post("/echo", content=upload())
    assert response.content == b"".join(chunks)


def test_real_server_logs_no_error_for_a_client_that_hung_up(served: Served) -> None:
    tag = f"{served.kind}-quiet"
    read_a_few_events_and_hang_up(served.url, f"/sse?tag={tag}")
    assert served.marked(tag)
    time.sleep(0.1)
    assert "Traceback" not in served.log
    assert "ERROR" not in served.log
