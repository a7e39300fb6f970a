"""The incoming HTTP request, parsed lazily.

A :class:`Request` is created per request by a protocol adapter (ASGI or RSGI)
with only what is free to obtain: method, path and raw query string. Headers,
query parameters, cookies, the body, JSON and forms are parsed on first access
and cached, each bounded by the limits in :class:`RequestConfig`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from satchel import defaults
from satchel.charsets import resolve_charset
from satchel.datastructures import (
    URL,
    Headers,
    QueryParams,
    parse_cookie_header,
    parse_options_header,
)
from satchel.encoding import json_decode
from satchel.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from satchel.limits import FormLimits
from satchel.proxies import ProxyTrust

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.formparsers import FormData

__all__ = ["ClientDisconnected", "Request", "RequestConfig", "check_length"]

logger = logging.getLogger("satchel.error")


class ClientDisconnected(Exception):
    """The client went away before the request body was complete."""


@dataclass(frozen=True, slots=True)
class RequestConfig:
    """Limits and trust settings shared by every request of an app."""

    form: FormLimits = field(default_factory=FormLimits)
    max_json_depth: int = defaults.MAX_JSON_DEPTH
    max_query_fields: int = defaults.MAX_FORM_FIELDS
    proxies: ProxyTrust = field(default_factory=ProxyTrust)

    @property
    def max_body_size(self) -> int:
        return self.form.max_body_size


_JSON_TYPES = ("application/json",)


class Request:
    """An HTTP request.

    Attributes:
        app: The application handling the request.
        method: The upper-case method, e.g. ``"GET"``.
        path: The percent-decoded path, e.g. ``"/users/42"``.
        path_params: Path parameters, converted by the route's converters.
        state: A per-request dict for middleware and handlers to share data.
    """

    __slots__ = (
        "_body",
        "_cleanups",
        "_cookies",
        "_form",
        "_headers",
        "_json",
        "_peer_trusted",
        "_query",
        "_state",
        "_stream_used",
        "app",
        "config",
        "method",
        "path",
        "path_params",
        "query_string",
    )

    def __init__(
        self,
        app: App[Any],
        config: RequestConfig,
        method: str,
        path: str,
        query_string: str,
    ) -> None:
        self.app = app
        self.config = config
        self.method = method
        self.path = path
        self.query_string = query_string
        self.path_params: dict[str, Any] = {}
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._body: bytes | None = None
        self._form: FormData | None = None
        self._json: Any = _MISSING
        self._peer_trusted: bool | None = None
        self._state: dict[str, Any] | None = None
        self._stream_used = False
        self._cleanups: list[Callable[[], Awaitable[None]]] | None = None

    # -- what the protocol adapter provides ----------------------------------------------

    def _raw_headers(self) -> list[tuple[str, str]]:
        """Return the headers as ``(lower-case name, value)`` pairs."""
        raise NotImplementedError

    def _host_header(self) -> str | None:
        """The Host header read without parsing every header (adapters read it directly)."""
        return self.headers.get_single("host")

    def _receive(self) -> AsyncIterator[bytes]:
        """Yield the raw body chunks; raise ClientDisconnected if the client leaves."""
        raise NotImplementedError

    @property
    def _peer(self) -> str:
        """The address of the direct peer (may be a proxy)."""
        raise NotImplementedError

    @property
    def _server_scheme(self) -> str:
        raise NotImplementedError

    @property
    def http_version(self) -> str:
        """The HTTP version, e.g. ``"1.1"`` or ``"2"``."""
        raise NotImplementedError

    # -- lazily parsed views -------------------------------------------------------------

    @property
    def headers(self) -> Headers:
        """The request headers (case-insensitive, multi-valued)."""
        if self._headers is None:
            self._headers = Headers.from_lowercase(self._raw_headers())
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        """The query-string parameters; 400 for invalid UTF-8 or too many fields."""
        if self._query is None:
            self._query = QueryParams.parse(
                self.query_string, max_fields=self.config.max_query_fields
            )
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        """The request cookies; the first of duplicate names wins."""
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for header in self.headers.getall("cookie"):
                for name, value in parse_cookie_header(header).items():
                    cookies.setdefault(name, value)
            self._cookies = cookies
        return self._cookies

    @property
    def state(self) -> dict[str, Any]:
        """Per-request storage for middleware and handlers."""
        if self._state is None:
            self._state = {}
        return self._state

    @property
    def client(self) -> str:
        """The client's IP address, from X-Forwarded-For only via trusted proxies."""
        proxies = self.config.proxies
        if not proxies:
            return self._peer
        return proxies.client_address(self._peer, self._forwarded("x-forwarded-for"))

    @property
    def scheme(self) -> str:
        """``"http"`` or ``"https"``; X-Forwarded-Proto only from a trusted proxy."""
        if not self.config.proxies:  # read for every response while HSTS is on
            return self._server_scheme
        forwarded = self._forwarded_by_trusted("x-forwarded-proto")
        if forwarded is not None and forwarded.lower() in ("http", "https"):
            return forwarded.lower()
        return self._server_scheme

    @property
    def host(self) -> str:
        """The requested host (with port if given); X-Forwarded-Host only when trusted."""
        forwarded = self._forwarded_by_trusted("x-forwarded-host")
        if forwarded:
            return forwarded
        if self._headers is None:  # every request's Host is checked: skip parsing the rest
            return self._host_header() or ""
        return self._headers.get_single("host") or ""

    @property
    def url(self) -> URL:
        """The full URL the client asked for."""
        return URL.build(
            scheme=self.scheme, netloc=self.host, path=self.path, query=self.query_string
        )

    def url_for(self, name: str, /, **params: Any) -> str:
        """Return the absolute URL of the route ``name``."""
        return f"{self.scheme}://{self.host}{self.app.url_for(name, **params)}"

    @property
    def content_type(self) -> tuple[str, dict[str, str]]:
        """The media type (lower case) and its parameters from Content-Type."""
        return parse_options_header(self.headers.get("content-type", ""))

    @property
    def content_length(self) -> int | None:
        """The declared body length; 400 if malformed or given twice differently."""
        value = self.headers.get_single("content-length")
        if value is None:
            return None
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            raise BadRequest("Invalid Content-Length header")
        return int(value)

    # -- body ----------------------------------------------------------------------------

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, without buffering it.

        The body can be consumed once: by ``stream()`` or by the buffered
        accessors (``body``, ``text``, ``json``, ``form``), not both.
        """
        if self._body is not None:
            yield self._body
            return
        if self._stream_used:
            raise RuntimeError("The request body has already been consumed")
        self._stream_used = True
        async for chunk in self._receive():
            if chunk:
                yield chunk

    async def body(self) -> bytes:
        """Return the whole body, refusing more than ``max_body_size`` bytes with 413."""
        if self._body is None:
            self._body = await self._read_limited(self.config.max_body_size)
        return self._body

    async def text(self) -> str:
        """Return the body decoded with its declared charset (UTF-8 by default)."""
        charset = resolve_charset(self.content_type[1].get("charset", "utf-8"))
        try:
            return (await self.body()).decode(charset)
        except UnicodeError:
            raise BadRequest(f"Body is not valid {charset} text") from None

    async def json(self) -> Any:
        """Return the decoded JSON body.

        Answers 415 unless Content-Type is ``application/json`` or ``*/*+json``
        (so a cross-site ``text/plain`` form cannot pose as JSON), and 400 for
        malformed or too deeply nested documents.
        """
        if self._json is _MISSING:
            media_type = self.content_type[0]
            if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
                raise UnsupportedMediaType("Expected an application/json body")
            self._json = json_decode(await self.body(), max_depth=self.config.max_json_depth)
        return self._json

    async def form(self) -> FormData:
        """Return the parsed urlencoded or multipart form (uploads spooled to disk)."""
        if self._form is None:
            self._form = await self._parse_form()
        return self._form

    async def _parse_form(self) -> FormData:
        # Deferred: the parsers (and tempfile) load only for apps that read forms.
        from satchel.formparsers import parse_multipart, parse_urlencoded

        media_type, params = self.content_type
        limits = self.config.form
        charset = params.get("charset", "utf-8")
        if media_type == "application/x-www-form-urlencoded":
            return parse_urlencoded(await self.body(), limits=limits, charset=charset)
        if media_type == "multipart/form-data":
            boundary = params.get("boundary")
            if not boundary:
                raise BadRequest("Multipart body without a boundary")
            length = self.content_length
            if length is not None and length > limits.max_upload_size:
                raise PayloadTooLarge(f"Upload larger than {limits.max_upload_size} bytes")
            return await parse_multipart(
                self.stream(), boundary=boundary, limits=limits, charset=charset
            )
        raise UnsupportedMediaType("Expected a form body")

    async def _read_limited(self, limit: int) -> bytes:
        """Read the whole body, refusing more than ``limit`` bytes (adapters read faster)."""
        length = self._declared_length(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"Body larger than {limit} bytes")
            chunks.append(chunk)
        check_length(size, length)
        return b"".join(chunks)

    def _declared_length(self, limit: int) -> int | None:
        """Content-Length, refused with 413 before reading when it exceeds ``limit``."""
        length = self.content_length
        if length is not None and length > limit:
            raise PayloadTooLarge(f"Body larger than {limit} bytes")
        return length

    def add_cleanup(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``await callback()`` once the response has been sent (or the client left).

        Dependency teardown uses this; callbacks run newest first, and an error
        in one is logged without stopping the others.
        """
        if self._cleanups is None:
            self._cleanups = []
        self._cleanups.append(callback)

    @property
    def holds_resources(self) -> bool:
        """Whether :meth:`close` has anything to release (adapters skip it otherwise)."""
        return self._form is not None or self._cleanups is not None

    async def close(self) -> None:
        """Run cleanups and release what the request holds (uploaded temp files)."""
        try:
            cleanups, self._cleanups = self._cleanups or [], None
            for callback in reversed(cleanups):
                try:
                    await callback()
                except Exception:
                    logger.exception("Error in a cleanup of %r", self)
        finally:
            if self._form is not None:
                await self._form.close()

    # -- helpers -------------------------------------------------------------------------

    def _forwarded(self, name: str) -> str | None:
        values = self.headers.getall(name)
        return ", ".join(values) if values else None

    def _forwarded_by_trusted(self, name: str) -> str | None:
        """The value our trusted proxy appended: the last item of the last header line.

        Items to its left came from the client (or from proxies we know nothing
        about) when the proxy appends rather than replaces, so they are ignored.
        """
        trusted = self._peer_trusted
        if trusted is None:  # decided once: Host and the scheme are both read per request
            proxies = self.config.proxies
            trusted = self._peer_trusted = bool(proxies) and proxies.is_trusted(self._peer)
        if not trusted:
            return None
        values = self.headers.getall(name)
        if not values:
            return None
        return values[-1].rsplit(",", 1)[-1].strip() or None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


def check_length(size: int, declared: int | None) -> None:
    """Refuse a body whose size differs from its Content-Length (a truncated upload)."""
    if declared is not None and size != declared:
        raise BadRequest("Body length does not match Content-Length")


class _Missing:
    __slots__ = ()


_MISSING: Any = _Missing()
