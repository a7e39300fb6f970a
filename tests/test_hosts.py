"""The Host allow-list, alone and enforced by the app (HTTP and WebSocket)."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App, Request, Settings
from satchel.hosts import AllowedHosts, split_host
from tests.support import assert_problem, request


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


def test_empty_list_checks_nothing() -> None:
    assert request(_app(), "GET", "http://anything.test/where").status_code == 200
