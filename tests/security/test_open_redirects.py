"""Open redirects: ``?next=`` targets, and the trailing-slash redirect.

A redirect must keep the browser on this site unless the app names another host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from satchel import App, Settings
from satchel.redirects import MAX_REDIRECT_URL_LENGTH, is_safe_url
from tests.security.granian import Server, status_of
from tests.security.helpers import answers_quickly
from tests.security.served_app import build_app
from tests.support import call_asgi

HOSTILE_TARGETS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "/./\\evil.example",
    "/.//evil.example",
    "/a/..//evil.example",
    "https:evil.example",
    "https:1234567890",
    "https:/evil.example",
    "https:///evil.example",
    "https://evil.example",
    "https://localhost@evil.example",
    "https://localhost:443\\@evil.example",
    "HTTPS://EVIL.EXAMPLE",
    "https://evil。example",
    "https://[::1]/",
    " //evil.example",
    "//evil.example\u200b",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/" + "a" * MAX_REDIRECT_URL_LENGTH,
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS, ids=range(len(HOSTILE_TARGETS)))
def test_hostile_next_parameter_falls_back_home(target: str) -> None:
    """Django CVE-2015-0220 (leading whitespace) and CVE-2017-7233 (numeric URLs) in
    ``is_safe_url``: targets that a URL parser reads as a path, but a browser reads as
    another host or a script.
    """
    query = ("next=" + quote(target, safe="")).encode()
    result = call_asgi(build_app(), path="/go", query_string=query)
    assert result.status == 303
    assert result.header("location") == "/"


def test_own_paths_are_followed() -> None:
    result = call_asgi(build_app(), path="/go", query_string=b"next=%2Faccount%3Ftab%3D2")
    assert result.header("location") == "/account?tab=2"


def test_checking_a_huge_target_is_bounded() -> None:
    """The check refuses over-long targets before any work on them."""
    with answers_quickly():
        assert not is_safe_url("/" + "%2e/" * 1_000_000)


def slash_app() -> App[Any]:
    app = App(settings=Settings(access_log=False))

    @app.get("/{slug}")
    async def page(slug: str) -> str:
        return slug

    return app


@pytest.mark.parametrize(
    ("raw_path", "status", "location"),
    [
        (b"//evil.example/", 404, None),
        (b"///evil.example/", 404, None),
        (b"/%2F%2Fevil.example/", 404, None),
        (b"/\\evil.example/", 308, "/%5Cevil.example"),
        (b"/%5C%5Cevil.example/", 308, "/%5C%5Cevil.example"),
        (b"/%09/evil.example/", 400, None),
        (b"/page/", 308, "/page"),
    ],
)
def test_trailing_slash_redirect_stays_on_this_site(
    raw_path: bytes, status: int, location: str | None
) -> None:
    """Django CVE-2018-14574 (CommonMiddleware), aiohttp CVE-2021-21330 (GHSA-v6wp-4m6f-gcjg):
    "add or remove the slash" redirected ``//evil.example/`` to ``//evil.example``.
    """
    result = call_asgi(slash_app(), raw_path=raw_path, path=raw_path.decode("latin-1"))
    assert result.status == status
    assert result.header("location") == location


@pytest.mark.parametrize(
    ("target", "status"),
    [(b"http://evil.example/file/", 308), (b"//evil.example/file/", 404), (b"/file/", 308)],
)
def test_trailing_slash_redirect_through_granian(
    clean_server: Server, target: bytes, status: int
) -> None:
    """aiohttp #13153: an absolute-form request target became an absolute Location."""
    request = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % target
    answer = clean_server.exchange(request)
    assert status_of(answer) == status
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b"evil" not in head
    if status == 308:
        assert b"\r\nlocation: /file\r\n" in head + b"\r\n"
