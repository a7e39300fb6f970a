"""Unicode and NUL in paths, query strings and headers.

Paths must be valid UTF-8 without control characters (a NUL cut C-level file names
short; overlong and surrogate encodings slipped ``..`` past filters); header bytes
are read as Latin-1, never normalized, so no Unicode look-alike turns into ASCII.
"""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Request, Settings
from tests.security.granian import Server, status_of
from tests.security.helpers import assert_refused
from tests.support import call_asgi


def build_app() -> App[Any]:
    app = App(settings=Settings(access_log=False))

    @app.get("/items/{name}")
    async def item(name: str) -> str:
        return name

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        return {"q": request.query_params.get("q"), "header": request.headers.get("x-a")}

    return app


@pytest.mark.parametrize(
    ("raw_path", "detail"),
    [
        (b"/items/a%00b", "control character"),
        (b"/items/a\x00b", "control character"),
        (b"/items/%0D%0A", "control character"),
        (b"/items/%FF", "not valid UTF-8"),
        (b"/items/%C0%AE%C0%AE", "not valid UTF-8"),
        (b"/items/%E0%80%AE", "not valid UTF-8"),
        (b"/items/%ED%A0%80", "not valid UTF-8"),
        (b"/items/%E2%82", "not valid UTF-8"),
    ],
    ids=repr,
)
def test_control_characters_and_invalid_utf8_in_paths_are_400(raw_path: bytes, detail: str) -> None:
    """The class behind IIS's overlong-UTF-8 traversal (CVE-2000-0884) and NUL-byte file
    name truncation: decoders that accepted ``%C0%AE`` as ``.`` or passed NUL along.
    """
    result = call_asgi(build_app(), raw_path=raw_path, path=raw_path.decode("latin-1"))
    assert detail in assert_refused(result, 400)["detail"]


@pytest.mark.parametrize(
    ("raw_path", "name"),
    [
        (b"/items/caf%C3%A9", "café"),
        (b"/items/%E2%80%AEtxt.exe", "\u202etxt.exe"),
        (b"/items/%EF%BC%8E%EF%BC%8E", "\uff0e\uff0e"),
        (b"/items/%EF%AC%81le", "\ufb01le"),
    ],
)
def test_unicode_is_data_and_never_normalized(raw_path: bytes, name: str) -> None:
    """NFKC would turn fullwidth dots into ``..`` and ligatures into ASCII after any
    check ran; the path is decoded once, exactly.
    """
    result = call_asgi(build_app(), raw_path=raw_path, path=raw_path.decode("latin-1"))
    assert result.body.decode() == name


@pytest.mark.parametrize(
    "host",
    [b"\xe2\x84\xaaocalhost", b"localhost\xc2\xa0", b"127\xe3\x80\x820.0.1", b"local\x00host"],
    ids=["kelvin-sign", "nbsp", "ideographic-dot", "nul"],
)
def test_non_ascii_or_nul_host_is_400(host: bytes) -> None:
    """Host names are ASCII: a look-alike that lower-cases or normalizes into an allowed
    name (the Kelvin sign K lower-cases to k) must not pass the allow-list.
    """
    assert_refused(call_asgi(build_app(), path="/echo", headers=[(b"host", host)]), 400)


def test_header_bytes_are_latin1_text() -> None:
    """Any byte in a header value reaches the app as one Latin-1 character, unchanged."""
    headers = [(b"x-a", b"caf\xc3\xa9 \xff")]
    result = call_asgi(build_app(), path="/echo", query_string=b"q=a%00b", headers=headers)
    assert result.json() == {"q": "a\x00b", "header": "cafÃ© ÿ"}


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"GET /items/a\x00b HTTP/1.1\r\nHost: 127.0.0.1\r\n", 400),
        (b"GET /items/\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n", 400),
        (b"GET /%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n", 400),
        (b"GET /%C0%AE%C0%AE/ HTTP/1.1\r\nHost: 127.0.0.1\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x7fb\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: \xe2\x84\xaaocalhost\r\n", 400),
        (b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: 127.0.0.1\r\n", 404),
    ],
    ids=[
        "nul-path",
        "raw-ff",
        "nul-escape",
        "overlong",
        "nul-header",
        "del-header",
        "kelvin-host",
        "raw-utf8-path",
    ],
)
def test_unicode_and_nul_through_granian(
    clean_server: Server, request_head: bytes, status: int
) -> None:
    """On the wire: what the server refuses itself, and what reaches the app."""
    answer = clean_server.exchange(request_head + b"Connection: close\r\n\r\n")
    assert status_of(answer) == status
