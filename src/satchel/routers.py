"""Routers: groups of routes with their own prefix, middleware and error handlers.

A :class:`Router` is a module of an application, like a Flask blueprint or a
Django app. Routers nest with :meth:`Router.include`; the application itself is
the root router. Registration only records what was declared: everything is
compiled once, when the application starts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar, Unpack

from satchel.errors import ConfigurationError
from satchel.middleware import Middleware
from satchel.requests import Request

__all__ = ["ErrorHandler", "RouteOptions", "RouteSpec", "Router"]

F = TypeVar("F", bound=Callable[..., Any])
ErrorHandler = Callable[[Request, Exception], Awaitable[Any] | Any]
ErrorKey = int | type[BaseException]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY"})


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """A route as declared (before compilation)."""

    path: str
    methods: tuple[str, ...]
    handler: Callable[..., Any]
    name: str
    status_code: int = 200
    websocket: bool = False


class RouteOptions(TypedDict, total=False):
    """Keyword arguments every method decorator takes (``get``, ``post``, ...)."""

    name: str | None
    status_code: int


class Router:
    """A group of routes sharing a path prefix, middleware and error handlers.

    Args:
        prefix: Prepended to every route path (e.g. ``"/api"``).
        name: Prepended to route names as ``"name."``, for ``url_for``.
        middleware: Middleware run only for this router's routes (outermost first).

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
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ConfigurationError(f"Router prefix {prefix!r} must start and not end with '/'")
        self.prefix = prefix
        self.name = name
        self.routes: list[RouteSpec] = []
        self.children: list[tuple[Router, str]] = []
        self.middleware: list[Middleware] = list(middleware)
        self.error_handlers: dict[ErrorKey, ErrorHandler] = {}
        self._frozen = False

    # -- registration --------------------------------------------------------------------

    def route(
        self,
        path: str,
        methods: Iterable[str] = ("GET",),
        *,
        name: str | None = None,
        status_code: int = 200,
    ) -> Callable[[F], F]:
        """Register the decorated function for ``path`` and ``methods``.

        Args:
            path: The path pattern, e.g. ``"/users/{user_id}"``.
            methods: HTTP methods answered by the handler.
            name: The route's name for ``url_for`` (default: the function's name).
            status_code: The status of responses built from return values.
        """
        wanted = tuple(dict.fromkeys(m.upper() for m in methods))
        unknown = set(wanted) - _METHODS
        if unknown or not wanted:
            raise ConfigurationError(f"Unknown HTTP method(s) {sorted(unknown)} for {path!r}")

        def decorator(handler: F) -> F:
            self._check_open()
            self.routes.append(
                RouteSpec(path, wanted, handler, name or handler.__name__, status_code)
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

    def websocket(self, path: str, *, name: str | None = None) -> Callable[[F], F]:
        """Register a WebSocket handler, called with a ``WebSocket`` argument."""

        def decorator(handler: F) -> F:
            self._check_open()
            self.routes.append(
                RouteSpec(path, ("WEBSOCKET",), handler, name or handler.__name__, websocket=True)
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
