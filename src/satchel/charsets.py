"""Turning client-sent charset labels into codecs we are willing to decode with."""

from __future__ import annotations

import codecs

from satchel.errors import BadRequest

__all__ = ["resolve_charset"]

# Codecs that decode more than text (escapes, DNS labels): never a body's charset.
_REFUSED_CODECS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape"})


def resolve_charset(charset: str) -> str:
    """Return the codec name for a client-sent charset label.

    Raises:
        BadRequest: The label is unknown, not a text encoding, or one of the
            codecs that no form is sent in (``idna``, ``punycode``, the
            ``unicode-escape`` family).
    """
    try:
        name = codecs.lookup(charset.strip()).name
        if name not in _REFUSED_CODECS:
            b"a".decode(name, "ignore")  # refuses bytes-to-bytes codecs such as base64
    except (LookupError, UnicodeError, ValueError):
        name = ""
    if not name or name in _REFUSED_CODECS:
        raise BadRequest(f"Unsupported form charset {charset!r}")
    return name
