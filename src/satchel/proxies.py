"""Which peers may tell us the real client address, scheme and host.

``X-Forwarded-*`` headers are believed only when the direct peer is a
configured trusted proxy; the client is then the right-most address in
``X-Forwarded-For`` that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["ProxyTrust"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyTrust:
    """A parsed trusted-proxy list.

    >>> trust = ProxyTrust(["10.0.0.0/8"])
    >>> trust.client_address("10.1.2.3", "203.0.113.9, 10.0.0.7")
    '203.0.113.9'
    >>> trust.client_address("198.51.100.1", "203.0.113.9")  # untrusted peer: header ignored
    '198.51.100.1'
    """

    __slots__ = ("_networks",)

    def __init__(self, proxies: Iterable[str] = ()) -> None:
        networks: list[_Network] = []
        for entry in proxies:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"Invalid trusted proxy {entry!r}: not an IP address or network"
                ) from None
        self._networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def is_trusted(self, address: str) -> bool:
        """Return whether ``address`` belongs to a trusted proxy."""
        if not self._networks:
            return False
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in self._networks)

    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        """Return the client address for a request from ``peer``."""
        if not forwarded_for or not self.is_trusted(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        for hop in reversed(hops):
            if not hop:
                continue
            if not self.is_trusted(hop):
                return hop if _is_ip(hop) else peer
        # Every hop is a trusted proxy: the left-most one is the best we know.
        return hops[0] if hops[0] and _is_ip(hops[0]) else peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
