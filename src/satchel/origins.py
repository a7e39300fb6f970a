"""Host and Origin header values, parsed and normalized (no I/O).

The one reading of hosts and origins that the Host allow-list, CORS and CSRF share.
"""

from __future__ import annotations

__all__ = ["normalize_origin", "split_host"]

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def split_host(value: str) -> tuple[str, str] | None:
    """Split a Host header into ``(lower-case name, port)``; None if malformed.

    >>> split_host("Example.COM:8000"), split_host("[::1]:80"), split_host("a b")
    (('example.com', '8000'), ('[::1]', '80'), None)
    """
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value.partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        name += "]"
        port = rest[1:]
        valid_name = all(c in "0123456789abcdef:." for c in name[1:-1])
    else:
        name, _, port = value.partition(":")
        name = name.removesuffix(".")
        valid_name = bool(name) and all(c in _HOST_CHARS for c in name)
    if not valid_name or (port and not (port.isascii() and port.isdigit())):
        return None
    return name, port


def normalize_origin(value: str) -> str | None:
    """``value`` as an origin, ``scheme://host[:port]``: lower case, without the scheme's
    default port; None unless it is exactly one (no path, user info or wildcard).

    >>> normalize_origin("HTTPS://App.Example:443"), normalize_origin("http://[::1]:8000")
    ('https://app.example', 'http://[::1]:8000')
    >>> normalize_origin("https://app.example/"), normalize_origin(" https://app.example")
    (None, None)
    """
    if value != value.strip():  # never in an Origin header; strip configured ones first
        return None
    scheme, separator, rest = value.lower().partition("://")
    if not (separator and scheme[:1].isalpha() and _SCHEME_CHARS.issuperset(scheme)):
        return None
    host = split_host(rest)
    if host is None:
        return None
    name, port = host
    if port and port != _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{name}:{port}"
    return f"{scheme}://{name}"
