"""StaticFiles under a real Granian server, over RSGI (Granian sends the file) and ASGI."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from satchel import App, Settings
from satchel.staticfiles import StaticFiles
from tests.servers import ServerKind, serve
from tests.staticfiles.conftest import APP_JS, write

REPO_ROOT = Path(__file__).resolve().parents[2]


def app_from_env() -> App[Any]:
    """The factory the Granian subprocess calls."""
    app = App(settings=Settings(access_log=False))
    StaticFiles(os.environ["SATCHEL_TEST_STATIC_ROOT"]).init_app(app)
    return app


@pytest.fixture(scope="module", params=["granian-rsgi", "granian-asgi"], ids=["rsgi", "asgi"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    kind: ServerKind = request.param
    base = tmp_path_factory.mktemp("static-server")
    root = base / "static"
    write(root, "js/app.js", APP_JS)
    write(root, "js/app.js.gz", gzip.compress(APP_JS, mtime=0), 1_800_000_000 * 10**9)
    write(root, ".env", b"SECRET=1")
    write(base, "secret.txt", b"SECRET=1")
    (root / "link.txt").symlink_to(base / "secret.txt")
    with serve(
        kind,
        "tests.staticfiles.test_server:app_from_env",
        cwd=REPO_ROOT,
        options=["--workers", "1", "--no-ws", "--log-level", "warning", "--factory"],
        env={"SATCHEL_TEST_STATIC_ROOT": str(root)},
        log=base / f"{kind}.log",
    ) as url:
        yield url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10) as client:
        yield client


def raw(client: httpx.Client, url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def test_the_gzip_variant_goes_out_as_is(client: httpx.Client) -> None:
    response, body = raw(client, "/static/js/app.js", **{"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == APP_JS
    assert response.headers["content-length"] == str(len(body))
    etag = response.headers["etag"]
    again, _ = raw(
        client, "/static/js/app.js", **{"accept-encoding": "gzip", "if-none-match": etag}
    )
    assert again.status_code == 304


def test_a_range_gets_the_plain_bytes(client: httpx.Client) -> None:
    headers = {"accept-encoding": "gzip", "range": "bytes=8-14"}
    response, body = raw(client, "/static/js/app.js", **headers)
    assert response.status_code == 206
    assert body == APP_JS[8:15]
    assert "content-encoding" not in response.headers


@pytest.mark.parametrize("path", ["/static/.env", "/static/link.txt", "/static/..%5Csecret.txt"])
def test_refusals_are_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"SECRET" not in response.content
