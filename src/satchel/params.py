"""Markers saying where a handler parameter comes from: ``Query()``, ``Header()``, ``Depends()``.

They are read once, when the app compiles its routes. Put them in
``Annotated`` (``limit: Annotated[int, Query(ge=1)] = 10``) or use them as the
default value (``limit: int = Query(10, ge=1)``); both mean the same. The
functions are typed as returning ``Any`` so the second form type-checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack

import msgspec

__all__ = [
    "Body",
    "Cookie",
    "Dependency",
    "Depends",
    "File",
    "Form",
    "Header",
    "Location",
    "Param",
    "ParamOptions",
    "Path",
    "Query",
]

#: Where a request input comes from; the same names appear in 422 errors and OpenAPI.
Location = Literal["path", "query", "header", "cookie", "body", "form"]

_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "pattern", "min_length", "max_length")


class ParamOptions(TypedDict, total=False):
    """Keyword arguments shared by every parameter marker.

    The constraints (``gt`` ... ``max_length``) are enforced (422 when broken)
    and documented; the rest only describe the parameter in OpenAPI.
    """

    alias: str
    gt: float
    ge: float
    lt: float
    le: float
    multiple_of: float
    pattern: str
    min_length: int
    max_length: int
    title: str
    description: str
    examples: list[Any]
    deprecated: bool
    include_in_schema: bool


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter marker: where to read the value and what it must satisfy.

    Attributes:
        location: Where the value comes from.
        default: The value when the input is absent (``msgspec.NODEFAULT``: required).
        options: Constraints and documentation, as given to the marker.
        convert_underscores: For headers: ``x_request_id`` reads ``X-Request-Id``.
    """

    location: Location
    default: Any = msgspec.NODEFAULT
    options: ParamOptions = field(default_factory=lambda: ParamOptions())
    convert_underscores: bool = True

    def __post_init__(self) -> None:
        # What a plain keyword signature would refuse: ``Query(maxlength=3)`` must not
        # quietly constrain nothing where no type checker runs.
        unknown = self.options.keys() - ParamOptions.__annotations__.keys()
        if unknown:
            raise TypeError(f"unexpected parameter option(s) {sorted(unknown)}")

    @property
    def meta(self) -> msgspec.Meta | None:
        """The constraints and descriptions as a ``msgspec.Meta`` (None when there are none)."""
        keys = (*_CONSTRAINTS, "title", "description", "examples")
        given: dict[str, Any] = {k: self.options[k] for k in keys if k in self.options}  # type: ignore[literal-required]
        return msgspec.Meta(**given) if given else None


def Query(default: Any = msgspec.NODEFAULT, **options: Unpack[ParamOptions]) -> Any:
    """Read the parameter from the query string.

    Scalars, lists (``?tag=a&tag=b``) and a Struct or dataclass whose fields
    are query parameters. Unannotated-by-marker scalars are query parameters
    already; use ``Query`` for constraints, an alias or documentation.

    >>> Query(10, ge=1, le=100).meta
    msgspec.Meta(ge=1, le=100)
    """
    return Param("query", default, options)


def Header(
    default: Any = msgspec.NODEFAULT,
    *,
    convert_underscores: bool = True,
    **options: Unpack[ParamOptions],
) -> Any:
    """Read the parameter from a request header (``user_agent`` reads ``User-Agent``)."""
    return Param("header", default, options, convert_underscores)


def Cookie(default: Any = msgspec.NODEFAULT, **options: Unpack[ParamOptions]) -> Any:
    """Read the parameter from a cookie."""
    return Param("cookie", default, options)


def Path(**options: Unpack[ParamOptions]) -> Any:
    """Add constraints or documentation to a path parameter (always required)."""
    return Param("path", msgspec.NODEFAULT, options)


def Body(default: Any = msgspec.NODEFAULT, **options: Unpack[ParamOptions]) -> Any:
    """Read the parameter from the JSON body (Structs, dataclasses and dicts are already)."""
    return Param("body", default, options)


def Form(default: Any = msgspec.NODEFAULT, **options: Unpack[ParamOptions]) -> Any:
    """Read the parameter from an urlencoded or multipart form field (or a Struct of them)."""
    return Param("form", default, options)


def File(default: Any = msgspec.NODEFAULT, **options: Unpack[ParamOptions]) -> Any:
    """Read an uploaded file from a multipart form (``UploadFile`` parameters are already)."""
    return Param("form", default, options)


Scope = Literal["request", "app"]


@dataclass(frozen=True, slots=True)
class Dependency:
    """A dependency marker; see :func:`Depends`."""

    provider: Callable[..., Any] | None
    use_cache: bool = True
    scope: Scope = "request"
    thread: bool = False


def Depends(
    provider: Callable[..., Any] | None = None,
    *,
    use_cache: bool = True,
    scope: Scope = "request",
    thread: bool = False,
) -> Any:
    """Inject the value ``provider`` returns (or yields) for each request.

    Args:
        provider: A sync or async function, or a sync or async generator whose
            code after ``yield`` runs once the response is built, before it is sent
            (after the last chunk of a stream), so an error there answers the request;
            the exception is thrown into it instead when the handler fails. Its own parameters
            are resolved like a handler's: query, headers, other dependencies.
            ``None`` uses the parameter's annotation (a class) as the provider.
        use_cache: Call the provider once per request however many parameters
            ask for it (``False``: once per parameter).
        scope: ``"app"`` calls it once for the app's lifetime (a connection pool,
            a client); a generator's teardown then runs at shutdown.
        thread: Run a sync provider in a worker thread (for blocking I/O); sync
            providers otherwise run on the event loop and must be quick.

    >>> def settings() -> dict[str, str]:
    ...     return {"region": "eu"}
    >>> Depends(settings, scope="app").scope
    'app'
    """
    return Dependency(provider, use_cache, scope, thread)
