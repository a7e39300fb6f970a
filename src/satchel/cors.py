"""Cross-Origin Resource Sharing: which other sites' pages may read this app's responses.

Off by default: without CORS headers a browser lets no page from another origin
read a response. ``App(cors=CORSConfig(allow_origins=[...]))`` opens the app to
the origins listed, for the whole app. Preflights (``OPTIONS`` with ``Origin``
and ``Access-Control-Request-Method``) to a routed path are answered before
middleware, CSRF and handlers; every other response to an allowed origin gets
``Access-Control-Allow-Origin``. A request that is not allowed is answered
without CORS headers (not with an error status): the browser then blocks it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from satchel.errors import ConfigurationError
from satchel.headerchecks import TOKEN
from satchel.origins import normalize_origin

if TYPE_CHECKING:
    from satchel.requests import Request

__all__ = ["CORSConfig", "CORSPolicy"]

Headers = Sequence[tuple[str, str]]
EncodedHeaders = Sequence[tuple[bytes, bytes]]
# One answer to actual requests, as text (RSGI) and encoded for ASGI, both built once.
_Answer = tuple[Headers, EncodedHeaders]

_VARY: Headers = (("vary", "Origin"),)
_ALLOW_ORIGIN = "access-control-allow-origin"
_REQUEST_METHOD = "access-control-request-method"
# Requests may always carry these (browsers send most without a preflight); allowing
# Content-Type also lets an allowed origin send JSON.
_SAFELISTED = frozenset({"accept", "accept-language", "content-language", "content-type"})


@dataclass(frozen=True, slots=True)
class CORSConfig:
    """Which cross-origin requests browsers may make, and which responses they may read.

    Args:
        allow_origins: Origins (``https://app.example.com``, ``http://localhost:3000``)
            whose pages may call the app, compared exactly; ``*`` for any origin
            (never with credentials); ``null`` only when listed.
        allow_methods: Methods a preflight may ask for; ``*`` for any.
        allow_headers: Request headers a preflight may ask for, besides
            Accept, Accept-Language, Content-Language and Content-Type; ``*`` for any.
        allow_credentials: Let pages send cookies and read the responses.
        expose_headers: Response headers the page may read besides the safelisted ones.
        max_age: Seconds a browser may cache a preflight answer.

    Raises:
        ConfigurationError: an origin, method or header name is malformed, or ``*``
            is combined with credentials.
    """

    allow_origins: Sequence[str] = ()
    allow_methods: Sequence[str] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    allow_headers: Sequence[str] = ()
    allow_credentials: bool = False
    expose_headers: Sequence[str] = ()
    max_age: int = 600

    def __post_init__(self) -> None:
        for field in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
            if isinstance(getattr(self, field), str):
                raise ConfigurationError(f"CORSConfig.{field} must be a list of strings")
        if self.allow_credentials and "*" in (*self.allow_origins, *self.expose_headers):
            raise ConfigurationError(
                "CORSConfig: '*' cannot be used with allow_credentials=True; "
                "list the origins (and exposed headers) instead"
            )
        if self.max_age < 0:
            raise ConfigurationError("CORSConfig.max_age must be >= 0")
        for origin in self.allow_origins:
            _configured_origin(origin)
        for name in (*self.allow_methods, *self.allow_headers, *self.expose_headers):
            if not TOKEN.fullmatch(name):
                raise ConfigurationError(f"CORSConfig: {name!r} is not a method or header name")


class CORSPolicy:
    """A :class:`CORSConfig` compiled for answering requests (built by the app).

    Attributes:
        config: The configuration it was built from.
    """

    __slots__ = (
        "_any_header",
        "_any_method",
        "_any_origin",
        "_headers",
        "_methods",
        "_origins",
        "_preflight",
        "_responses",
        "config",
    )

    def __init__(self, config: CORSConfig) -> None:
        self.config = config
        origins = [_configured_origin(origin) for origin in config.allow_origins]
        self._any_origin = "*" in origins
        self._origins = frozenset(origin for origin in origins if origin != "*")
        self._any_method = "*" in config.allow_methods
        self._methods = frozenset(config.allow_methods)
        self._any_header = "*" in config.allow_headers
        self._headers = _SAFELISTED | {name.lower() for name in config.allow_headers}
        common: list[tuple[str, str]] = [("vary", "Origin")]
        if config.allow_credentials:
            common.append(("access-control-allow-credentials", "true"))
        actual = list(common)
        if config.expose_headers:
            exposed = ", ".join(name.lower() for name in config.expose_headers)
            actual.append(("access-control-expose-headers", exposed))
        # Every answer an actual request can get, built once.
        self._responses: dict[str | None, _Answer] = {
            origin: _as_answer(((_ALLOW_ORIGIN, origin), *actual)) for origin in self._origins
        }
        if self._any_origin:
            self._responses["*"] = _as_answer(((_ALLOW_ORIGIN, "*"), *actual))
        self._responses[None] = _as_answer(_VARY)  # the origin is not allowed
        self._preflight = (*common, ("access-control-max-age", str(config.max_age)))

    def is_preflight(self, request: Request) -> bool:
        """Return whether ``request`` is a CORS preflight."""
        return (
            request.method == "OPTIONS"
            and _REQUEST_METHOD in request.headers
            and "origin" in request.headers
        )

    def preflight_headers(
        self, request: Request, path_methods: Collection[str]
    ) -> list[tuple[str, str]]:
        """The CORS headers answering the preflight ``request`` to a path serving ``path_methods``.

        Without ``Access-Control-Allow-Origin`` when the origin, the method or one
        of the headers asked for is not allowed.
        """
        headers = request.headers
        origin = self._allowed_origin(headers.getall("origin"))
        methods = headers.getall(_REQUEST_METHOD)
        method = methods[0] if len(methods) == 1 else ""
        requested = _header_names(headers.getall("access-control-request-headers"))
        if (
            origin is None
            or not TOKEN.fullmatch(method)
            or method not in path_methods
            or not (self._any_method or method in self._methods)
            or requested is None
            or not (self._any_header or self._headers.issuperset(requested))
        ):
            return list(_VARY)
        answer = [
            (_ALLOW_ORIGIN, origin),
            *self._preflight,
            ("access-control-allow-methods", method),
        ]
        if requested:
            answer.append(("access-control-allow-headers", ", ".join(requested)))
        return answer

    def response_headers(self, request: Request, own: Headers) -> Headers:
        """The CORS headers for the response to an actual (not preflight) request.

        None but ``Vary: Origin`` when the origin is not allowed; nothing when the
        response set ``Access-Control-Allow-Origin`` itself or answers a preflight.
        """
        return self._answer(request, own)[0]

    def encoded_response_headers(self, request: Request, own: Headers) -> EncodedHeaders:
        """:meth:`response_headers` encoded for ASGI (encoded once, at startup)."""
        return self._answer(request, own)[1]

    def _answer(self, request: Request, own: Headers) -> _Answer:
        if any(name == _ALLOW_ORIGIN for name, _ in own) or self.is_preflight(request):
            return _NO_ANSWER
        return self._responses[self._allowed_origin(request.headers.getall("origin"))]

    def _allowed_origin(self, values: list[str]) -> str | None:
        """The Allow-Origin value for these Origin header values, or None if not allowed.

        The value returned is the configured origin, never the request's text.
        """
        if len(values) != 1:
            return None
        origin = values[0].lower()
        if origin in self._origins:
            return origin
        if self._any_origin and normalize_origin(origin) is not None:
            return "*"
        return None


def _as_answer(headers: Headers) -> _Answer:
    return headers, tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in headers)


_NO_ANSWER: _Answer = ((), ())


def _configured_origin(origin: str) -> str:
    """An ``allow_origins`` entry, normalized; ConfigurationError if malformed."""
    value = origin.strip().lower()
    if value in ("*", "null"):
        return value
    normalized = normalize_origin(value)
    if normalized is None:
        raise ConfigurationError(
            f"CORSConfig: {origin!r} is not an origin: expected scheme://host[:port], "
            "without a path (like 'https://app.example.com'), '*' or 'null'"
        )
    return normalized


def _header_names(values: Iterable[str]) -> list[str] | None:
    """The names listed in Access-Control-Request-Headers, lower case; None if malformed."""
    names: list[str] = []
    for value in values:
        for item in value.split(","):
            name = item.strip().lower()
            if not name:
                continue
            if not TOKEN.fullmatch(name):
                return None
            names.append(name)
    return names
