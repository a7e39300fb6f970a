"""Decoding and vetting the request path before routing.

Invalid UTF-8, control characters (NUL, CR, LF, ...), dot segments and absurd lengths are refused
with a 4xx instead of being silently repaired and routed.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from satchel.errors import BadRequest, HTTPError

__all__ = ["MAX_PATH_LENGTH", "check_path", "decode_path", "path_or_error"]

_CONTROL = re.compile("[\x00-\x1f\x7f]")

#: Longer paths answer 414; real URLs are far shorter and servers cap them too.
MAX_PATH_LENGTH = 8192


def decode_path(raw: bytes) -> str:
    """Percent-decode a raw path strictly as UTF-8, then :func:`check_path` it.

    >>> decode_path(b"/caf%C3%A9")
    '/café'
    >>> decode_path(b"/%FF")
    Traceback (most recent call last):
    ...
    satchel.errors.BadRequest: 400: Path is not valid UTF-8
    """
    if len(raw) > MAX_PATH_LENGTH:
        raise HTTPError("Path too long", status_code=414)
    data = unquote_to_bytes(raw) if b"%" in raw else raw
    try:
        return check_path(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("Path is not valid UTF-8") from None


def check_path(path: str) -> str:
    """Check an already decoded path and return it.

    A U+FFFD replacement character means the server had to repair invalid
    UTF-8 (RSGI servers decode for us), so it is refused like invalid UTF-8.

    >>> check_path("/a/../etc/passwd")
    Traceback (most recent call last):
    ...
    satchel.errors.BadRequest: 400: Path contains a '.' or '..' segment

    Raises:
        BadRequest: invalid UTF-8, a control character, a dot segment, or no leading slash.
        HTTPError: 414 when longer than ``MAX_PATH_LENGTH``.
    """
    if len(path) > MAX_PATH_LENGTH:
        raise HTTPError("Path too long", status_code=414)
    if "\ufffd" in path:
        raise BadRequest("Path is not valid UTF-8")
    if not path.isprintable() and _CONTROL.search(path):
        # Also keeps CR/LF out of log lines that quote the path (log injection).
        raise BadRequest("Path contains a control character")
    if "/." in path and any(s in (".", "..") for s in path.split("/")):
        raise BadRequest("Path contains a '.' or '..' segment")
    if not path.startswith("/"):
        raise BadRequest("Path must start with '/'")
    return path


def path_or_error(raw: bytes | None, decoded: str) -> tuple[str, HTTPError | None]:
    """Vet the path of a new request for a protocol adapter.

    Uses the raw bytes when the server gives them (ASGI ``raw_path``), else the
    server-decoded path. Returns the path to route and None, or ``"/"`` and the
    error to answer with (the adapter still builds a request to answer it).

    >>> path_or_error(b"/a%20b", "ignored"), path_or_error(None, "/a/../b")[1]
    (('/a b', None), BadRequest(status_code=400, detail="Path contains a '.' or '..' segment"))
    """
    try:
        return (decode_path(raw) if raw else check_path(decoded)), None
    except HTTPError as exc:
        return "/", exc
