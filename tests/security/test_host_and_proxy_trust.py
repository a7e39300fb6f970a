"""Host-header and proxy-header trust.

The app answers only to its allowed hosts, and believes ``X-Forwarded-*`` only from
the proxies it trusts: otherwise any client could choose the host in password-reset
links, the scheme that decides HSTS and secure cookies, or the address a rate limit
counts.
"""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Depends, Request, Settings
from satchel.ratelimit import RateLimit
from tests.security.granian import Server, status_of
from tests.security.helpers import assert_refused
from tests.support import RawResponse, call_asgi

PROXY = ("10.0.0.2", 40000)
USER = ("198.51.100.7", 50000)


def build_app(**settings: Any) -> App[Any]:
    app = App(settings=Settings(allowed_hosts=["shop.example"], access_log=False, **settings))

    @app.get("/reset-link")
    async def reset_link(request: Request) -> dict[str, Any]:
        return {"link": str(request.url_for("reset_link")), "client": request.client}

    @app.get("/limited", dependencies=[Depends(RateLimit(1, 60))])
    async def limited() -> str:
        return "ok"

    return app


def get(app: App[Any], path: str, *headers: tuple[bytes, bytes], **options: Any) -> RawResponse:
    """GET ``path`` for ``shop.example`` unless ``headers`` name another Host."""
    host = [(b"host", b"shop.example")] if not any(h[0] == b"host" for h in headers) else []
    return call_asgi(app, path=path, headers=[*host, *headers], **options)


@pytest.mark.parametrize(
    "hosts",
    [
        [b"evil.example"],
        [b"shop.example.evil.example"],
        [b"shop.example@evil.example"],
        [b"shop.example:443@evil.example"],
        [b"shop.example/evil"],
        [b"shop.example#@evil.example"],
        [b"shop.example\\evil.example"],
        [b"shop.example:evil"],
        [b"shop.example\x00.evil.example"],
        [b""],
        [b"shop.example", b"evil.example"],
    ],
    ids=repr,
)
def test_foreign_or_malformed_host_is_400(hosts: list[bytes]) -> None:
    """Django's Host-header poisoning advisories (ALLOWED_HOSTS), Starlette CVE-2026-48710
    (GHSA-86qp-5c8j-p5mr) and GHSA-jp82-jpqv-5vv3: an unchecked Host went into
    absolute links (password reset poisoning) and into ``request.url``.
    """
    result = get(build_app(), "/reset-link", *[(b"host", host) for host in hosts])
    assert_refused(result, 400)


def test_links_use_the_allowed_host() -> None:
    result = get(build_app(), "/reset-link")
    assert result.json()["link"] == "http://shop.example/reset-link"


@pytest.mark.parametrize("trusted", [False, True], ids=["untrusted-peer", "trusted-proxy"])
def test_forwarded_host_is_believed_only_from_trusted_proxies(trusted: bool) -> None:
    """``X-Forwarded-Host`` from anyone: ignored; from a trusted proxy: checked like Host."""
    app = build_app(trusted_proxies=["10.0.0.0/8"])
    peer = PROXY if trusted else USER
    result = get(app, "/reset-link", (b"x-forwarded-host", b"evil.example"), client=peer)
    if trusted:
        assert_refused(result, 400)
    else:
        assert result.json()["link"] == "http://shop.example/reset-link"


def test_forwarded_proto_from_an_untrusted_peer_does_not_claim_https() -> None:
    """A forged ``X-Forwarded-Proto: https`` would mark plain HTTP as secure (HSTS, links)."""
    headers = (b"x-forwarded-proto", b"https")
    untrusted = get(build_app(), "/reset-link", headers, client=USER)
    assert untrusted.json()["link"].startswith("http://")
    assert untrusted.header("strict-transport-security") is None
    trusted = get(build_app(trusted_proxies=["10.0.0.0/8"]), "/reset-link", headers, client=PROXY)
    assert trusted.json()["link"].startswith("https://")
    assert trusted.header("strict-transport-security") == "max-age=31536000"


@pytest.mark.parametrize("trusted", [False, True], ids=["untrusted-peer", "trusted-proxy"])
def test_forged_forwarded_for_does_not_escape_a_rate_limit(trusted: bool) -> None:
    """Rate-limit bypass by a fresh ``X-Forwarded-For`` per request (CWE-807): the header is
    ignored from untrusted peers, and behind a proxy only the hop it appended counts.
    """
    app = build_app(trusted_proxies=["10.0.0.0/8"])
    peer = PROXY if trusted else USER
    statuses = []
    for forged in (b"203.0.113.1", b"203.0.113.2", b"203.0.113.3"):
        chain = forged + b", 198.51.100.7" if trusted else forged
        result = get(app, "/limited", (b"x-forwarded-for", chain), client=peer)
        statuses.append(result.status)
    assert statuses == [200, 429, 429]


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"GET / HTTP/1.0\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: evil.example\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n", 400),
        (b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: evil.example\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Host: evil.example\r\n", 200),
    ],
    ids=["no-host", "foreign", "two-hosts", "absolute-form", "forwarded-host"],
)
def test_host_checks_through_granian(
    clean_server: Server, request_head: bytes, status: int
) -> None:
    """Over a real socket, as a client (or a misrouting proxy) sends them."""
    answer = clean_server.exchange(request_head + b"Connection: close\r\n\r\n")
    assert status_of(answer) == status
    assert b"evil" not in answer
