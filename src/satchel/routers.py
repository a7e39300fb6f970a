"""Routers: groups of routes with their own prefix, middleware and error handlers.

A :class:`Router` is a module of an application, like a Flask blueprint or a
Django app. Routers nest with :meth:`Router.include`; the application itself is
the root router. Registration only records what was declared: everything is
compiled once, when the application starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TypedDict, TypeVar, Unpack

from satchel.errors import ConfigurationError
from satchel.middleware import Middleware
from satchel.params import Dependency
from satchel.requests import Request

__all__ = ["ErrorHandler", "ResponseDoc", "RouteDoc", "RouteOptions", "RouteSpec", "Router"]

F = TypeVar("F", bound=Callable[..., Any])
ErrorHandler = Callable[[Request, Exception], Awaitable[Any] | Any]
ErrorKey = int | type[BaseException]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY"})


@dataclass(frozen=True, slots=True)
class ResponseDoc:
    """An extra response a route documents: ``responses={404: ResponseDoc("No such item")}``.

    Attributes:
        description: What the response means.
        type: The body's type (None: the default problem+json body for errors).
        media_type: The body's media type.
    """

    description: str
    type: Any = None
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class RouteDoc:
    """How a route appears in the OpenAPI document (documentation only)."""

    summary: str | None = None
    #: Defaults to the handler's docstring.
    description: str | None = None
    tags: tuple[str, ...] = ()
    deprecated: bool = False
    operation_id: str | None = None
    responses: Mapping[int, str | ResponseDoc] = field(default_factory=dict)
    include_in_schema: bool = True
    #: Security requirements, e.g. ``[{"bearerAuth": []}]``; None: the app's default.
    security: tuple[Mapping[str, list[str]], ...] | None = None


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """A route as declared (before compilation)."""

    path: str
    methods: tuple[str, ...]
    handler: Callable[..., Any]
    name: str
    status_code: int = 200
    websocket: bool = False
    doc: RouteDoc = field(default_factory=RouteDoc)
    #: Dependencies run before the handler, their values unused (rate limits, permission checks).
    dependencies: tuple[Dependency, ...] = ()
    #: Whether unsafe methods of this route get the app's CSRF protection.
    csrf: bool = True
    #: Response headers for this route: a value replaces the app's default, None removes it.
    headers: Mapping[str, str | None] = field(default_factory=dict)


class RouteOptions(TypedDict, total=False):
    """Keyword arguments every method decorator takes (``get``, ``post``, ...).

    ``name`` names the route for ``url_for``; ``status_code`` is the status of
    responses built from return values; ``dependencies`` are ``Depends(...)``
    markers run before the handler (their values unused); ``csrf=False`` exempts
    the route from CSRF protection (webhooks signed otherwise); ``headers``
    replaces (or, with None, removes) default response headers for this route.
    The rest document the route in OpenAPI (see :class:`RouteDoc`).
    """

    name: str | None
    status_code: int
    summary: str
    description: str
    tags: Iterable[str]
    deprecated: bool
    operation_id: str
    responses: Mapping[int, str | ResponseDoc]
    include_in_schema: bool
    security: Iterable[Mapping[str, list[str]]]
    dependencies: Iterable[Any]
    csrf: bool
    headers: Mapping[str, str | None]


class Router:
    """A group of routes sharing a path prefix, middleware and error handlers.

    Args:
        prefix: Prepended to every route path (e.g. ``"/api"``).
        name: Prepended to route names as ``"name."``, for ``url_for``.
        middleware: Middleware run only for this router's routes (outermost first).
        tags: OpenAPI tags added to every route of this router (and its children).
        dependencies: ``Depends(...)`` markers run before every handler of this router
            (and its children), e.g. a rate limit or an authentication check.
        template_folder: A folder of templates this router brings (``satchel.templates``
            searches it after the app's own directories, so a project can override
            them). A relative path is relative to the directory of the module that
            creates the router (the working directory where there is none, as in a REPL).

    >>> api = Router(prefix="/api", name="api")
    >>> @api.get("/ping")
    ... async def ping() -> str:
    ...     return "pong"
    >>> [(r.path, r.methods, r.name) for r in api.routes]
    [('/ping', ('GET',), 'ping')]
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        name: str | None = None,
        middleware: Iterable[Middleware] = (),
        tags: Iterable[str] = (),
        dependencies: Iterable[Any] = (),
        template_folder: str | os.PathLike[str] | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(f"Router prefix {prefix!r} must start and not end with '/'")
        self.prefix = prefix
        self.name = name
        self.tags = tuple(tags)
        self.dependencies = _dependencies(dependencies, prefix or "/")
        self.routes: list[RouteSpec] = []
        self.children: list[tuple[Router, str]] = []
        self.middleware: list[Middleware] = list(middleware)
        self.error_handlers: dict[ErrorKey, ErrorHandler] = {}
        #: The absolute path of this router's template folder, if it has one.
        self.template_folder = (
            None if template_folder is None else _beside_caller(template_folder, sys._getframe(1))
        )
        self._frozen = False

    # -- registration --------------------------------------------------------------------

    def route(
        self, path: str, methods: Iterable[str] = ("GET",), **options: Unpack[RouteOptions]
    ) -> Callable[[F], F]:
        """Register the decorated function for ``path`` and ``methods``.

        Args:
            path: The path pattern, e.g. ``"/users/{user_id}"``.
            methods: HTTP methods answered by the handler.
            options: ``name`` for ``url_for`` (default: the function's name),
                ``status_code`` for return values, and OpenAPI documentation.
        """
        wanted = tuple(dict.fromkeys(m.upper() for m in methods))
        unknown = set(wanted) - _METHODS
        if unknown or not wanted:
            raise ConfigurationError(f"Unknown HTTP method(s) {sorted(unknown)} for {path!r}")
        misspelt = options.keys() - RouteOptions.__annotations__.keys()
        if misspelt:  # what a plain keyword-only signature would have refused
            raise TypeError(f"route() got unexpected keyword argument(s) {sorted(misspelt)}")
        doc = _route_doc(options)
        status_code = options.get("status_code", 200)
        dependencies = _dependencies(options.get("dependencies", ()), path)

        def decorator(handler: F) -> F:
            self._check_open()
            name = options.get("name") or _default_name(handler)
            self.routes.append(
                RouteSpec(
                    path,
                    wanted,
                    handler,
                    name,
                    status_code,
                    False,
                    doc,
                    dependencies,
                    options.get("csrf", True),
                    dict(options.get("headers", {})),
                )
            )
            return handler

        return decorator

    def get(self, path: str, **kwargs: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a GET route (HEAD is answered by it too)."""
        return self.route(path, ("GET",), **kwargs)

    def post(self, path: str, **kwargs: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a POST route."""
        return self.route(path, ("POST",), **kwargs)

    def put(self, path: str, **kwargs: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a PUT route."""
        return self.route(path, ("PUT",), **kwargs)

    def patch(self, path: str, **kwargs: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a PATCH route."""
        return self.route(path, ("PATCH",), **kwargs)

    def delete(self, path: str, **kwargs: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a DELETE route."""
        return self.route(path, ("DELETE",), **kwargs)

    def head(self, path: str, **kwargs: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a HEAD route (only needed when HEAD differs from GET)."""
        return self.route(path, ("HEAD",), **kwargs)

    def options(self, path: str, **kwargs: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register an OPTIONS route (otherwise OPTIONS is answered with ``Allow``)."""
        return self.route(path, ("OPTIONS",), **kwargs)

    def websocket(
        self, path: str, *, name: str | None = None, dependencies: Iterable[Any] = ()
    ) -> Callable[[F], F]:
        """Register a WebSocket handler, called with a ``WebSocket`` argument.

        ``dependencies`` (and the router's) run before the handler, during the
        handshake: one raising an ``HTTPError`` (a guard) refuses the connection.
        """
        markers = _dependencies(dependencies, path)

        def decorator(handler: F) -> F:
            self._check_open()
            self.routes.append(
                RouteSpec(
                    path,
                    ("WEBSOCKET",),
                    handler,
                    name or _default_name(handler),
                    websocket=True,
                    dependencies=markers,
                )
            )
            return handler

        return decorator

    def include(self, router: Router, *, prefix: str = "") -> None:
        """Mount ``router`` (and its children) under this one, with an extra ``prefix``."""
        self._check_open()
        if router is self:
            raise ConfigurationError("A router cannot include itself")
        self.children.append((router, prefix))

    def add_middleware(self, middleware: Middleware) -> None:
        """Append a middleware (it runs inside the ones added before it)."""
        self._check_open()
        self.middleware.append(middleware)

    def middleware_function(self, middleware: F) -> F:
        """Decorator form of :meth:`add_middleware`."""
        self.add_middleware(middleware)
        return middleware

    def error_handler(self, key: ErrorKey) -> Callable[[F], F]:
        """Handle an exception type or an HTTP status code for this router's routes.

        The handler is called as ``handler(request, exc)`` (sync or async) and
        returns a Response or any value a route handler may return.
        """

        def decorator(handler: F) -> F:
            self._check_open()
            self.error_handlers[key] = handler
            return handler

        return decorator

    def _check_open(self) -> None:
        if self._frozen:
            raise ConfigurationError(
                "The application has started; routes, middleware and handlers are frozen"
            )

    def freeze(self) -> None:
        """Refuse any further registration (called when the app starts)."""
        self._frozen = True
        for child, _ in self.children:
            child.freeze()


def _beside_caller(folder: str | os.PathLike[str], caller: FrameType) -> str:
    # The creating module's file, as Flask resolves a blueprint's folders from its import name.
    module_file = caller.f_globals.get("__file__")
    base = os.path.dirname(os.path.abspath(module_file)) if isinstance(module_file, str) else ""
    return os.path.abspath(os.path.join(base, folder))


def _dependencies(markers: Iterable[Any], where: str) -> tuple[Dependency, ...]:
    found = tuple(markers)
    for marker in found:
        if not isinstance(marker, Dependency):
            raise ConfigurationError(
                f"Route {where!r}: dependencies takes Depends(...) markers, got {marker!r}"
            )
    return found


def _route_doc(options: RouteOptions) -> RouteDoc:
    security = options.get("security")
    return RouteDoc(
        summary=options.get("summary"),
        description=options.get("description"),
        tags=tuple(options.get("tags", ())),
        deprecated=options.get("deprecated", False),
        operation_id=options.get("operation_id"),
        responses=dict(options.get("responses", {})),
        include_in_schema=options.get("include_in_schema", True),
        security=None if security is None else tuple(security),
    )


def _default_name(handler: Callable[..., Any]) -> str:
    # A callable object or a functools.partial has no __name__ of its own.
    name = getattr(handler, "__name__", None) or getattr(handler, "func", None)
    if isinstance(name, str):
        return name
    target = name if name is not None else type(handler)
    return str(getattr(target, "__name__", type(handler).__name__))
