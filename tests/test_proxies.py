"""Tests for the trusted-proxy list: who may tell us the client's address."""

from __future__ import annotations

import pytest

from satchel.proxies import ProxyTrust


def test_empty_trust_believes_nobody() -> None:
    trust = ProxyTrust()
    assert not trust
    assert not trust.is_trusted("127.0.0.1")
    assert trust.client_address("10.0.0.1", "203.0.113.9") == "10.0.0.1"


def test_addresses_and_networks() -> None:
    trust = ProxyTrust(["10.0.0.0/8", " 192.168.1.1 ", "::1", "fd00::/8", "172.16.0.5/16"])
    assert trust
    assert trust.is_trusted("10.200.3.4")
    assert trust.is_trusted("192.168.1.1")
    assert not trust.is_trusted("192.168.1.2")
    assert trust.is_trusted("::1")
    assert trust.is_trusted("fd12::5")
    assert trust.is_trusted("172.16.99.1")
    assert not trust.is_trusted("not-an-ip")
    assert not trust.is_trusted("")


@pytest.mark.parametrize("entry", ["example.com", "10.0.0.0/33", "", "1.2.3"])
def test_invalid_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="Invalid trusted proxy"):
        ProxyTrust([entry])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.1", "203.0.113.9, 10.0.0.7", "203.0.113.9"),
        # The left-most hops are the client's to write: only the right-most untrusted counts.
        ("10.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        ("10.0.0.1", "203.0.113.9, , 10.0.0.7", "203.0.113.9"),
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
        ("198.51.100.1", "203.0.113.9", "198.51.100.1"),
        ("10.0.0.1", "10.0.0.5, 10.0.0.7", "10.0.0.5"),
        ("10.0.0.1", "garbage, 10.0.0.7", "10.0.0.1"),
        ("10.0.0.1", "unknown", "10.0.0.1"),
        ("10.0.0.1", ", 10.0.0.7", "10.0.0.1"),
        ("10.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, client: str) -> None:
    trust = ProxyTrust(["10.0.0.0/8"])
    assert trust.client_address(peer, forwarded) == client
