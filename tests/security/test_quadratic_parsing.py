"""Quadratic (or worse) parsing of headers, cookies and query strings.

Each header below is a few hundred kilobytes shaped to make a naive parser rescan
its input: the app must answer in linear time. Range headers have their own
module (``test_range_abuse``).
"""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Request, Settings
from tests.security.helpers import answers_quickly, assert_refused
from tests.support import call_asgi


def build_app() -> App[Any]:
    app = App(settings=Settings(trusted_proxies=["127.0.0.1"], access_log=False))

    @app.get("/cookies")
    async def cookies(request: Request) -> dict[str, int]:
        return {"count": len(request.cookies)}

    @app.get("/query")
    async def query(request: Request) -> dict[str, list[str]]:
        params = request.query_params
        return {key: params.getall(key) for key in params}

    @app.get("/client")
    async def client(request: Request) -> str | None:
        return request.client

    @app.get("/headers")
    async def headers(request: Request) -> int:
        names = ("x-a", "accept", "cookie", "authorization", "origin", "x-forwarded-for")
        return sum(len(request.headers.getall(name)) for name in names)

    return app


@pytest.mark.parametrize(
    "header",
    [
        b'a="' + b'\\"' * 200_000 + b'"; b=1',
        b'a="' + b"\\\\" * 200_000 + b"\\",
        b'a="' + b'\\012\\"' * 50_000,
        b"a" + b"=" * 400_000,
        b'a="' * 100_000,
    ],
    ids=["escaped-quotes", "backslashes", "octal-escapes", "equals", "open-quotes"],
)
def test_cookie_header_is_parsed_in_linear_time(header: bytes) -> None:
    """CPython CVE-2024-7592 (``http.cookies._unquote``, used by Django), Tornado CVE-2024-52804.

    Backslashes inside a quoted cookie value made the unquoting loop quadratic.
    """
    with answers_quickly():
        result = call_asgi(build_app(), path="/cookies", headers=[(b"cookie", header)])
    assert result.status == 200


def test_cookie_header_with_countless_pairs_is_bounded() -> None:
    """The same class: a megabyte of ``k=v;`` pairs is cut at a fixed number of cookies."""
    header = b";".join(b"k%d=v" % i for i in range(200_000))
    with answers_quickly():
        result = call_asgi(build_app(), path="/cookies", headers=[(b"cookie", header)])
    assert result.json()["count"] <= 256


@pytest.mark.parametrize(
    ("query", "parsed"),
    [
        (b"a=1" + b";" * 500_000, {"a": ["1" + ";" * 500_000]}),
        (b"a=" + b"%41" * 200_000, {"a": ["A" * 200_000]}),
        (b"=" * 500_000, {"": ["=" * 499_999]}),
    ],
    ids=["semicolons", "escapes", "equals"],
)
def test_query_string_is_parsed_in_linear_time(query: bytes, parsed: dict[str, Any]) -> None:
    """python-multipart GHSA-5rvq-cxj2-64vf: semicolon separators made parsing quadratic.

    A semicolon is data, not a separator (GHSA-6jv3-5f52-599m: parameter smuggling).
    """
    with answers_quickly():
        result = call_asgi(build_app(), path="/query", query_string=query)
    assert result.json() == parsed


def test_query_string_with_countless_fields_is_400() -> None:
    """Counted before anything is split or decoded."""
    with answers_quickly():
        result = call_asgi(build_app(), path="/query", query_string=b"&" * 500_000)
    assert_refused(result, 400)


def test_forwarded_for_with_countless_hops_is_linear() -> None:
    """Proxy headers are parsed once, right to left, whatever their length."""
    hops = b", ".join(b"127.0.0.1" for _ in range(100_000))
    headers = [(b"x-forwarded-for", b"203.0.113.9, " + hops)]
    with answers_quickly():
        result = call_asgi(build_app(), path="/client", headers=headers)
    assert result.json() == "203.0.113.9"


def test_repeated_headers_are_not_coalesced_quadratically() -> None:
    """Tornado GHSA-c98p-7wgm-6p64: joining each repeated header re-copied the whole value."""
    headers = [(b"x-a", b"v" * 16)] * 50_000
    with answers_quickly():
        result = call_asgi(build_app(), path="/headers", headers=headers)
    assert result.json() == 50_000


def test_huge_accept_header_on_an_error_is_linear() -> None:
    """Django CVE-2023-23969 (Accept-Language): content negotiation on a huge header.

    Error pages choose HTML or JSON from ``Accept``; that choice is one linear scan.
    """
    accept = b", ".join([b"text/plain;q=0.1"] * 50_000 + [b"text/html"])
    with answers_quickly():
        result = call_asgi(build_app(), path="/missing", headers=[(b"accept", accept)])
    assert result.status == 404
    assert result.header("content-type") == "text/html; charset=utf-8"
