"""Responses: plain descriptions of what to send, never touching the socket.

A protocol adapter reads ``status_code``, the header list and one of three
body kinds (bytes, a stream, a file) and sends them. Because a response is only
a description until the adapter sends it, middleware can change the status or
headers of a streaming response without consuming its body.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self
from urllib.parse import quote

from satchel.encoding import json_encode
from satchel.headerchecks import TOKEN, check_header
from satchel.httpdate import format_http_date

if TYPE_CHECKING:
    from satchel.requests import Request

__all__ = [
    "FileResponseBase",
    "HTMLResponse",
    "JSONResponse",
    "MutableHeaders",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]

HeadersInput = Mapping[str, str] | Sequence[tuple[str, str]] | None

_COOKIE_VALUE = re.compile(r"[!#-+\--:<-\[\]-~]*")  # RFC 6265 cookie-octet


def _checked_headers(headers: HeadersInput) -> list[tuple[str, str]]:
    if not headers:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    result = []
    for name, value in pairs:
        check_header(name, value)
        result.append((name.lower(), value))
    return result


class MutableHeaders(MutableMapping[str, str]):
    """A case-insensitive view of a response's header list that validates writes.

    Setting a name replaces every value it had; ``add`` appends another one.
    """

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def __getitem__(self, key: str) -> str:
        key = key.lower()
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __setitem__(self, key: str, value: str) -> None:
        check_header(key, value)
        key = key.lower()
        self._items[:] = [(n, v) for n, v in self._items if n != key]
        self._items.append((key, value))

    def __delitem__(self, key: str) -> None:
        key = key.lower()
        before = len(self._items)
        self._items[:] = [(n, v) for n, v in self._items if n != key]
        if len(self._items) == before:
            raise KeyError(key)

    def add(self, key: str, value: str) -> None:
        """Append a header without replacing existing values of that name."""
        check_header(key, value)
        self._items.append((key.lower(), value))

    def getall(self, key: str) -> list[str]:
        """Return every value of ``key``."""
        key = key.lower()
        return [v for n, v in self._items if n == key]

    def add_vary(self, field: str) -> None:
        """Add ``field`` to ``Vary`` unless a ``Vary`` value names it already, or ``*``."""
        wanted = field.lower()
        for name, value in self._items:
            if name == "vary" and any(
                item.strip().lower() in (wanted, "*") for item in value.split(",")
            ):
                return
        self.add("vary", field)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(n for n, _ in self._items))

    def __len__(self) -> int:
        return len(dict.fromkeys(n for n, _ in self._items))

    def __repr__(self) -> str:
        return f"MutableHeaders({self._items!r})"


class Response:
    """A response with a body held in memory.

    Args:
        content: The body; ``str`` is encoded as UTF-8.
        status_code: The HTTP status.
        headers: Extra headers; names are case-insensitive, values may not contain
            CR, LF or NUL (``ValueError``).
        media_type: The Content-Type; ``charset=utf-8`` is added for text types.

    >>> r = Response("hi", media_type="text/plain", headers={"X-Id": "1"})
    >>> r.status_code, r.body, r.headers["content-type"], r.headers["x-id"]
    (200, b'hi', 'text/plain; charset=utf-8', '1')
    """

    __slots__ = ("_headers", "body", "status_code")

    media_type: ClassVar[str | None] = None
    #: How an adapter sends the body: "bytes", "stream" or "file".
    body_kind: ClassVar[Literal["bytes", "stream", "file"]] = "bytes"

    def __init__(
        self,
        content: bytes | str = b"",
        status_code: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = content.encode() if isinstance(content, str) else content
        self._headers = _checked_headers(headers)
        self._set_content_type(media_type or self.media_type)

    def _set_content_type(self, media_type: str | None) -> None:
        if media_type is None or any(n == "content-type" for n, _ in self._headers):
            return
        if media_type.startswith("text/") and "charset" not in media_type:
            media_type += "; charset=utf-8"
        self._headers.append(("content-type", media_type))

    @classmethod
    def make(cls, body: bytes, status_code: int, content_type: str | None) -> Self:
        """Build a response from trusted parts without validation (the fast path).

        ``content_type`` must be a constant the framework chose, never user input.
        """
        response = cls.__new__(cls)
        response.status_code = status_code
        response.body = body
        response._headers = [("content-type", content_type)] if content_type else []
        return response

    @property
    def headers(self) -> MutableHeaders:
        """The response headers, validated on every write."""
        return MutableHeaders(self._headers)

    @property
    def header_list(self) -> list[tuple[str, str]]:
        """The raw ``(lower-case name, value)`` list the adapter sends."""
        return self._headers

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: datetime | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool = True,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a Set-Cookie header with secure defaults (Secure, HttpOnly, SameSite=Lax).

        Names starting with ``__Host-`` must be Secure, have path ``/`` and no
        domain; ``__Secure-`` ones must be Secure; ``SameSite=None`` needs Secure.

        Raises:
            ValueError: an invalid name or value, or a violated prefix rule.
        """
        _check_cookie(key, value, path=path, domain=domain, secure=secure, samesite=samesite)
        parts = [f"{key}={value}", f"Path={path}"]
        if domain:
            parts.append(f"Domain={domain}")
        if max_age is not None:
            parts.append(f"Max-Age={int(max_age)}")
        if expires is not None:
            parts.append("Expires=" + format_http_date(expires.timestamp()))
        parts.extend(
            flag
            for flag, on in (
                ("Secure", secure),
                ("HttpOnly", httponly),
                ("Partitioned", partitioned),
            )
            if on
        )
        parts.append(f"SameSite={samesite.capitalize()}")
        header = "; ".join(parts)
        check_header("set-cookie", header)
        self._headers.append(("set-cookie", header))

    def delete_cookie(
        self, key: str, *, path: str = "/", domain: str | None = None, secure: bool = True
    ) -> None:
        """Expire the cookie ``key`` in the client."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=datetime(1970, 1, 1, tzinfo=UTC),
            path=path,
            domain=domain,
            secure=secure,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


def _check_cookie(
    key: str, value: str, *, path: str, domain: str | None, secure: bool, samesite: str
) -> None:
    if not TOKEN.fullmatch(key):
        raise ValueError(f"Invalid cookie name {key!r}")
    if not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(f"Invalid characters in the value of cookie {key!r}; encode it first")
    for attribute in (path, domain or ""):
        if any(c in attribute for c in ";\r\n\0"):
            raise ValueError(f"Invalid path or domain for cookie {key!r}")
    if samesite not in ("lax", "strict", "none"):
        raise ValueError("samesite must be 'lax', 'strict' or 'none'")
    if (key.startswith(("__Host-", "__Secure-")) or samesite == "none") and not secure:
        raise ValueError(f"Cookie {key!r} must be Secure")
    if key.startswith("__Host-") and (domain or path != "/"):
        raise ValueError(f"Cookie {key!r} must have path '/' and no domain")


class PlainTextResponse(Response):
    """A ``text/plain; charset=utf-8`` response."""

    __slots__ = ()
    media_type = "text/plain; charset=utf-8"


class HTMLResponse(Response):
    """A ``text/html; charset=utf-8`` response."""

    __slots__ = ()
    media_type = "text/html; charset=utf-8"


class JSONResponse(Response):
    """A JSON response encoded by msgspec (dicts, lists, Structs, dataclasses, ...).

    >>> JSONResponse({"id": 1}, status_code=201).body
    b'{"id":1}'
    """

    __slots__ = ()
    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(json_encode(content), status_code, headers, media_type)


class RedirectResponse(Response):
    """A redirect (307 by default, which keeps the method and body).

    Non-ASCII characters in ``url`` are percent-encoded. The URL is sent as
    given: to redirect to a URL that came from the user, check it first with
    a safe-redirect helper. A URL containing CR, LF or NUL raises ``ValueError``.

    >>> RedirectResponse("/caf\u00e9?x=1").headers["location"]
    '/caf%C3%A9?x=1'
    """

    __slots__ = ()

    def __init__(self, url: str, status_code: int = 307, headers: HeadersInput = None) -> None:
        if status_code not in (301, 302, 303, 307, 308):
            raise ValueError(f"{status_code} is not a redirect status")
        if any(c in url for c in "\r\n\0"):
            # Always an injection attempt, never a URL: refuse rather than encode it.
            raise ValueError("Redirect URL contains CR, LF or NUL")
        super().__init__(b"", status_code, headers)
        self.headers["location"] = quote(url, safe=":/%#?=@[]!$&'()*+,;~")


class StreamingResponse(Response):
    """A response whose body is produced piece by piece (sync or async iterable).

    ``str`` chunks are encoded as UTF-8. Sync iterators run in a worker thread
    so they may block.
    """

    __slots__ = ("content",)
    body_kind = "stream"

    def __init__(
        self,
        content: Iterable[bytes | str] | AsyncIterable[bytes | str],
        status_code: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, media_type)
        self.content = content


class FileResponseBase(Response):
    """Base of responses whose body is (part of) a file the adapter sends itself.

    Before sending, the adapter calls :meth:`prepare`, which may settle the
    status and headers from the request (conditional and range requests).
    """

    __slots__ = ()
    body_kind = "file"

    async def prepare(self, request: Request) -> tuple[str, int, int] | None:
        """Return ``(path, start, end)`` (end exclusive) to send, or None to send ``body``."""
        raise NotImplementedError
