"""The same app behaves the same under Granian (RSGI and ASGI) and uvicorn."""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import SERVER_KINDS, ServerKind, serve_source

APP = textwrap.dedent(
    """
    from collections.abc import AsyncIterator

    from satchel import App, Request, Settings, StreamingResponse
    from satchel.files import FileResponse

    app = App(settings=Settings(max_body_size=1024))
    events: list[str] = []

    @app.on_startup
    def started() -> None:
        events.append("started")

    @app.get("/")
    def index() -> str:
        return "Hello, World!"

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/nothing")
    async def nothing() -> None:
        return None

    @app.get("/lifespan")
    async def lifespan() -> list[str]:
        return events

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, object]:
        return {"json": await request.json(), "client": request.client}

    @app.post("/form")
    async def form(request: Request) -> dict[str, object]:
        data = await request.form()
        upload = data["file"]
        return {"name": data["name"], "size": upload.size, "filename": upload.filename}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[str]:
            for i in range(3):
                yield f"{i};"
        return StreamingResponse(numbers(), media_type="text/plain")

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(__file__, media_type="text/plain")

    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("secret detail")
    """
)


@pytest.fixture(scope="module", params=SERVER_KINDS)
def base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    kind: ServerKind = request.param
    with serve_source(kind, APP, tmp_path_factory.mktemp(kind)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        yield http


def test_plaintext_json_and_path_parameter(client: httpx.Client) -> None:
    response = client.get("/")
    assert (response.status_code, response.text) == (200, "Hello, World!")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/users/7").json() == {"id": 7}
    assert client.get("/users/x").status_code == 404


def test_lifespan_ran(client: httpx.Client) -> None:
    assert client.get("/lifespan").json() == ["started"]


def test_head_and_405(client: httpx.Client) -> None:
    head = client.head("/")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "13"
    empty = client.head("/nothing")
    assert empty.status_code == 204
    assert "content-length" not in empty.headers  # RFC 9110 8.6
    response = client.delete("/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_bodies(client: httpx.Client) -> None:
    echoed = client.post("/echo", json={"a": [1, 2]}).json()
    assert echoed == {"json": {"a": [1, 2]}, "client": "127.0.0.1"}
    assert (
        client.post("/echo", content=b"{", headers={"content-type": "application/json"}).status_code
        == 400
    )
    assert client.post("/echo", json={"big": "x" * 2000}).status_code == 413
    uploaded = client.post("/form", data={"name": "n"}, files={"file": ("a.txt", b"x" * 5000)})
    assert uploaded.json() == {"name": "n", "size": 5000, "filename": "a.txt"}


def test_streaming_and_file(client: httpx.Client) -> None:
    assert client.get("/stream").text == "0;1;2;"
    full = client.get("/file")
    assert full.status_code == 200
    assert full.headers["accept-ranges"] == "bytes"
    part = client.get("/file", headers={"range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == full.content[:10]
    assert client.get("/file", headers={"if-none-match": full.headers["etag"]}).status_code == 304


def test_server_error_is_generic(client: httpx.Client) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"] in response.text


def test_hostile_paths(client: httpx.Client) -> None:
    assert client.get("/%FF").status_code == 400
    assert client.get("/a/%2e%2e/b").status_code == 400
    assert client.get("/users/7/").status_code == 308


def test_a_body_cut_short_of_its_content_length_is_a_400(base_url: str) -> None:
    # Raw socket: httpx never sends less than it declares. The fast whole-body read
    # (RSGI) and the receive loop (ASGI) both see the client leave mid-body.
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    request = (
        b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"a":'
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = sock.recv(65536)
    # The server may also just close the connection; it never answers 2xx or 500.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400")
