"""Validation of outgoing header names and values (no response splitting)."""

from __future__ import annotations

import re

__all__ = ["TOKEN", "check_header"]

#: RFC 9110 token characters, for header and cookie names.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_VALUE_CHARS = ("\r", "\n", "\0")


def check_header(name: str, value: str) -> None:
    """Refuse header names that are not tokens and values with CR, LF, NUL or non-Latin-1.

    >>> check_header("X-Ok", "fine")
    >>> check_header("X-Bad", "a\\r\\nSet-Cookie: x=1")
    Traceback (most recent call last):
    ...
    ValueError: Header 'X-Bad' has a value containing CR, LF or NUL

    Raises:
        ValueError: the header would allow response splitting or cannot be sent.
    """
    if not TOKEN.fullmatch(name):
        raise ValueError(f"Invalid header name {name!r}")
    if any(c in value for c in _FORBIDDEN_VALUE_CHARS):
        raise ValueError(f"Header {name!r} has a value containing CR, LF or NUL")
    if not value.isascii():
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"Header {name!r} has characters outside Latin-1") from None
