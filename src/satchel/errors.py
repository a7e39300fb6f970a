"""Exceptions raised by and for Satchel applications.

``HTTPError`` and its subclasses turn into HTTP responses; everything else that
escapes a handler is a server error (500).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from satchel.headerchecks import check_header
from satchel.status import reason_phrase

__all__ = [
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "HTTPError",
    "MethodNotAllowed",
    "MissingDependencyError",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "RequestHeaderFieldsTooLarge",
    "ServerError",
    "TooManyRequests",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsupportedMediaType",
]


class HTTPError(Exception):
    """An error that becomes an HTTP response with ``status_code``.

    Args:
        detail: A message safe to show to the client; defaults to the reason phrase.
        headers: Extra response headers (for example ``WWW-Authenticate``), validated
            like response headers (``ValueError`` for CR, LF or NUL).
        status_code: Overrides the class's status code.

    >>> raise HTTPError(detail="Teapot here", status_code=418)
    Traceback (most recent call last):
    ...
    satchel.errors.HTTPError: 418: Teapot here
    """

    status_code: int = 500

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        status_code: int | None = None,
    ) -> None:
        if status_code is not None:
            self.status_code = status_code
        self.detail = detail if detail is not None else reason_phrase(self.status_code)
        self.headers: dict[str, str] = dict(headers) if headers else {}
        for name, value in self.headers.items():
            check_header(name, value)
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def problem_members(self) -> dict[str, Any]:
        """Extra members for the problem+json body (RFC 9457 extensions); none by default."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, detail={self.detail!r})"


class BadRequest(HTTPError):
    """400: the request is malformed."""

    status_code = 400


class Unauthorized(HTTPError):
    """401: credentials are missing or wrong."""

    status_code = 401


class Forbidden(HTTPError):
    """403: the client may not do this."""

    status_code = 403


class NotFound(HTTPError):
    """404: nothing lives at this URL."""

    status_code = 404


class MethodNotAllowed(HTTPError):
    """405: the URL exists but not for this method; carries the ``Allow`` header."""

    status_code = 405

    def __init__(self, allowed: Iterable[str], detail: str | None = None) -> None:
        self.allowed = tuple(sorted(allowed))
        super().__init__(detail, headers={"allow": ", ".join(self.allowed)})


class NotAcceptable(HTTPError):
    """406: no representation matches the ``Accept`` header."""

    status_code = 406


class Conflict(HTTPError):
    """409: the request conflicts with the current state of the resource."""

    status_code = 409


class PayloadTooLarge(HTTPError):
    """413: the body (or a part of it) exceeds a configured limit."""

    status_code = 413


class UnsupportedMediaType(HTTPError):
    """415: the body's Content-Type is not one this endpoint reads."""

    status_code = 415


class UnprocessableEntity(HTTPError):
    """422: the body is well-formed but its content is invalid."""

    status_code = 422


class TooManyRequests(HTTPError):
    """429: a rate limit was hit."""

    status_code = 429


class RequestHeaderFieldsTooLarge(HTTPError):
    """431: a header (or a multipart part header) is too large."""

    status_code = 431


class ServerError(HTTPError):
    """500: a deliberate internal error with a safe message."""

    status_code = 500


class ConfigurationError(Exception):
    """The application is set up wrongly; raised when it is built, before serving.

    If a server skips startup and builds on the first request, every request
    re-raises the same error (and answers 500) until the setup is fixed.
    """


class MissingDependencyError(ImportError):
    """An optional dependency is missing; the message names the ``pip install`` line."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package!r} is not installed; install it with: pip install 'satchel[{extra}]'"
        )
        self.package = package
        self.extra = extra
