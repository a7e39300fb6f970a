"""The Host allow-list: exact names and ``.example.com`` suffixes, never regexes."""

from __future__ import annotations

from collections.abc import Iterable

from satchel.origins import split_host

__all__ = ["AllowedHosts", "split_host"]

# Host values seen and allowed, remembered so that the check costs a set lookup per
# request; bounded, so that a wildcard entry cannot be used to fill memory.
_MAX_REMEMBERED = 64


class AllowedHosts:
    """Decides which Host values an app answers.

    Entries are exact names (``example.com``), suffixes on label boundaries
    (``.example.com`` matches ``example.com`` and ``a.example.com`` but not
    ``badexample.com``), or ``*`` for any well-formed host. No entries: no host.

    >>> hosts = AllowedHosts([".example.com", "localhost"])
    >>> [hosts.allows(h) for h in ("example.com", "api.example.com:443", "evilexample.com")]
    [True, True, False]
    """

    __slots__ = ("_any", "_exact", "_remembered", "_suffixes")

    def __init__(self, entries: Iterable[str]) -> None:
        cleaned = [e.strip().lower().removesuffix(".") for e in entries if e.strip()]
        self._any = "*" in cleaned
        self._exact = frozenset(e for e in cleaned if not e.startswith("."))
        self._suffixes = tuple(e for e in cleaned if e.startswith("."))
        self._remembered: set[str] = set()

    def allows(self, host: str) -> bool:
        """Return whether a request for ``host`` (a Host header value) is answered."""
        if host in self._remembered:
            return True
        parts = split_host(host)
        if parts is None:
            return False
        name = parts[0]
        allowed = (
            self._any
            or name in self._exact
            or any(name.endswith(s) or name == s[1:] for s in self._suffixes)
        )
        if allowed and len(self._remembered) < _MAX_REMEMBERED:
            self._remembered.add(host)
        return allowed
