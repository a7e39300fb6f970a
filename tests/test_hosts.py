"""The Host allow-list, alone and enforced by the app (HTTP and WebSocket)."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Request, Settings
from satchel.hosts import AllowedHosts, split_host
from tests.support import assert_problem, call_asgi, request


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.com", True),
        ("EXAMPLE.com:8443", True),
        ("example.com.", True),
        ("api.example.com", True),
        ("deep.api.example.com", True),
        ("badexample.com", False),
        ("example.com.evil.test", False),
        ("localhost", True),
        ("localhost:8000", True),
        ("[::1]:8000", False),
        ("evil.test", False),
        ("", False),
        ("exa mple.com", False),
        ("example.com:80:80", False),
        ("example.com:http", False),
        ("exa\x00mple.com", False),
    ],
)
def test_allowed_hosts(host: str, allowed: bool) -> None:
    hosts = AllowedHosts([".example.com", "LOCALHOST", ""])
    assert hosts.allows(host) is allowed


def test_wildcard_still_requires_a_well_formed_host() -> None:
    hosts = AllowedHosts(["*"])
    assert hosts.allows("anything.test:1")
    assert not hosts.allows("bad host")


def test_split_host_ipv6() -> None:
    assert split_host("[2001:db8::1]") == ("[2001:db8::1]", "")
    assert split_host("[2001:db8::1]x") is None
    assert split_host("[nothex]") is None


def _app(**settings: object) -> App[Any]:
    app = App(settings=Settings(**settings))  # type: ignore[arg-type]

    @app.get("/where")
    async def where(request: Request) -> str:
        return request.url_for("where")

    return app


def test_app_refuses_foreign_hosts_before_routing() -> None:
    app = _app(allowed_hosts=["example.com"])
    ok = request(app, "GET", "http://example.com/where")
    assert ok.text == "http://example.com/where"
    refused = request(app, "GET", "http://attacker.test/where")
    assert refused.status_code == 400
    assert_problem(refused.json(), 400)
    assert request(app, "GET", "http://attacker.test/missing").status_code == 400


def test_forwarded_host_is_checked_too() -> None:
    app = _app(allowed_hosts=["example.com"], trusted_proxies=["127.0.0.1"])
    response = request(
        app, "GET", "http://example.com/where", headers={"x-forwarded-host": "attacker.test"}
    )
    assert response.status_code == 400


def test_default_answers_only_local_names() -> None:
    app = App(settings=Settings())

    @app.get("/where")
    async def where(request: Request) -> str:
        return request.url_for("where")

    for host in ("localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "testserver"):
        assert request(app, "GET", f"http://{host}/where").text == f"http://{host}/where"
    for host in ("example.com", "localhost.example.com", "127.0.0.2", "[::2]", "sub.localhost"):
        assert request(app, "GET", f"http://{host}/where").status_code == 400, host


def test_debug_mode_does_not_widen_the_default() -> None:
    app = _app(debug=True)
    assert request(app, "GET", "http://example.com/where").status_code == 400
    assert request(app, "GET", "http://localhost/where").status_code == 200


def test_empty_list_refuses_every_host() -> None:
    app = _app(allowed_hosts=[])
    for host in ("localhost", "testserver", "example.com"):
        assert request(app, "GET", f"http://{host}/where").status_code == 400


def test_star_allows_any_well_formed_host() -> None:
    app = _app(allowed_hosts=["*"])
    assert request(app, "GET", "http://anything.test:8080/where").status_code == 200
    assert call_asgi(app, path="/where", headers=[(b"host", b"bad host")]).status == 400


def test_remembered_hosts_stay_bounded_and_correct() -> None:
    hosts = AllowedHosts(["*"])
    for number in range(1000):
        assert hosts.allows(f"host{number}.test")
    assert not hosts.allows("bad host")
    exact = AllowedHosts(["example.com"])
    assert [exact.allows("example.com") for _ in range(2)] == [True, True]  # then remembered
    assert not exact.allows("evil.test")


# -- X-Forwarded-Host ----------------------------------------------------------------------------

PROXIED = {"allowed_hosts": ["example.com"], "trusted_proxies": ["10.0.0.0/8"]}


def test_forwarded_host_from_an_untrusted_peer_is_ignored() -> None:
    app = _app(**PROXIED)  # the peer, 127.0.0.1, is no trusted proxy
    headers = {"x-forwarded-host": "example.com"}
    assert request(app, "GET", "http://attacker.test/where", headers=headers).status_code == 400
    headers = {"x-forwarded-host": "attacker.test"}
    real = request(app, "GET", "http://example.com/where", headers=headers)
    assert real.text == "http://example.com/where"  # URLs keep the real Host


def test_forwarded_host_from_a_trusted_proxy_is_checked_and_used() -> None:
    app = _app(**PROXIED)
    proxy = ("10.0.0.5", 1234)
    forwarded = [(b"x-forwarded-host", b"example.com")]
    result = call_asgi(app, path="/where", headers=forwarded, client=proxy)
    assert (result.status, result.body) == (200, b"http://example.com/where")
    # Only the value the proxy appended (the last) counts; the client's is ignored.
    appended = [(b"x-forwarded-host", b"example.com, attacker.test")]
    assert call_asgi(app, path="/where", headers=appended, client=proxy).status == 400
    prepended = [(b"x-forwarded-host", b"attacker.test, example.com")]
    result = call_asgi(app, path="/where", headers=prepended, client=proxy)
    assert (result.status, result.body) == (200, b"http://example.com/where")


def test_the_host_is_read_without_parsing_every_header_and_duplicates_conflict() -> None:
    app = App(settings=Settings(allowed_hosts=["good.example"]), openapi=None)

    @app.get("/where")
    async def where(request: Request) -> str:
        return request.host

    same = [(b"host", b"good.example"), (b"Host", b"good.example")]
    assert call_asgi(app, path="/where", headers=same).body == b"good.example"
    # Two different Host headers: which one a proxy used is unknowable, so neither is.
    conflicting = [(b"host", b"good.example"), (b"host", b"evil.example")]
    assert call_asgi(app, path="/where", headers=conflicting).status == 400
    assert call_asgi(app, path="/where", headers=[(b"HOST", b"evil.example")]).status == 400
