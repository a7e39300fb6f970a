"""The application: the root router, its compiled route table and its lifecycle."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload
from urllib.parse import quote

from satchel.asgi import ASGIApp, serve_asgi
from satchel.converters import CONVERTER_FOR_TYPE, Converter, default_converters
from satchel.csrf import SAFE_METHODS, CSRFProtection, set_csrf_cookie
from satchel.errorhandlers import debug_response, find_error_handler, run_error_handler
from satchel.errorpages import (
    http_error_response,
    new_request_id,
    server_error_response,
)
from satchel.errors import BadRequest, ConfigurationError, HTTPError, MethodNotAllowed, NotFound
from satchel.handlers import CompiledHandler, Endpoint, compile_handler, handler_hints
from satchel.hosts import AllowedHosts
from satchel.injection import DependencyOverrides, Injector
from satchel.limits import FormLimits
from satchel.middleware import CallNext, Middleware, build_chain
from satchel.params import Dependency
from satchel.proxies import ProxyTrust
from satchel.requests import ClientDisconnected, Request, RequestConfig
from satchel.responses import RedirectResponse, Response
from satchel.routers import ErrorHandler, ErrorKey, RouteDoc, Router, RouteSpec
from satchel.routing import Param, RouteTable, parse_path
from satchel.rsgi import RSGIServer
from satchel.securityheaders import (
    SECURITY_HEADERS,
    DefaultHeaders,
    defaults_for,
    hsts_value,
    with_route_headers,
)
from satchel.settings import Settings
from satchel.typeforms import split_annotated

if TYPE_CHECKING:
    from satchel.cors import CORSConfig, CORSPolicy
    from satchel.openapi import OpenAPIConfig
    from satchel.websockets import WebSocketCall

__all__ = ["SECURITY_HEADERS", "App", "RouteInfo", "State"]

logger = logging.getLogger("satchel.error")

StateT = TypeVar("StateT")
HookT = TypeVar("HookT", bound=Callable[[], Any])
Lifespan = Callable[["App[Any]"], AbstractAsyncContextManager[Any]]


class _Default:
    """The default of a parameter whose real default is loaded lazily."""


_DEFAULT = _Default()


class State(SimpleNamespace):
    """Default application state: set any attribute (``app.state.db = ...``)."""


@dataclass(frozen=True, slots=True)
class _PathEndpoint:
    methods: dict[str, Endpoint]
    #: Answers a method the path does not have (405), inside the path's router chain.
    not_allowed: Endpoint


@dataclass(frozen=True, slots=True)
class _PathRoutes:
    segments: list[str | Param]
    converters: dict[str, Converter[Any]]
    methods: dict[str, Endpoint]
    #: The router's middleware and error handlers around an endpoint (None: the app's only).
    wrap: Callable[[Endpoint], Endpoint] | None


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """A compiled route, as listed by ``satchel routes`` and documented by OpenAPI."""

    path: str
    methods: tuple[str, ...]
    name: str
    handler: Callable[..., Any]
    websocket: bool
    status_code: int = 200
    doc: RouteDoc = field(default_factory=RouteDoc)
    #: Router tags followed by the route's own.
    tags: tuple[str, ...] = ()
    #: The call plan (inputs, dependencies, serializer); None for WebSocket routes.
    compiled: CompiledHandler | None = None


class App(Router, Generic[StateT]):
    """A Satchel application: an ASGI 3 app and a Granian RSGI app in one.

    Args:
        settings: Typed settings; read from ``SATCHEL_*`` variables and ``.env`` if omitted.
        debug: Overrides ``settings.debug``.
        state: The object behind ``app.state`` (type it for typed access).
        lifespan: ``lifespan(app)`` returns an async context manager entered at
            startup and exited at shutdown.
        middleware: App-wide middleware, outermost first; it sees every routed
            request, 404s and 405s included (not those refused earlier for a
            malformed path or a Host outside ``allowed_hosts``, nor CORS preflights).
        security_headers: Send the default security headers
            (``SECURITY_HEADERS``, and ``Strict-Transport-Security`` over HTTPS per
            ``settings.hsts_seconds``) on every response that does not set them.
        cors: Let the pages of other origins call the app (``satchel.cors``);
            None (the default) sends no CORS headers at all.
        openapi: How the app documents itself (``satchel.openapi.OpenAPIConfig``);
            the default serves ``/openapi.json`` and ``/docs``; None switches both off.
        csrf: Check unsafe requests for cross-site forgery before their handlers
            (``satchel.csrf``); ``csrf=False`` on a route exempts only that route.

    >>> app = App(settings=Settings())
    >>> @app.get("/")
    ... def index() -> str:
    ...     return "Hello, World!"
    """

    @overload
    def __init__(
        self: App[State],
        *,
        settings: Settings | None = None,
        debug: bool | None = None,
        state: None = None,
        lifespan: Lifespan | None = None,
        middleware: Iterable[Middleware] = (),
        security_headers: bool = True,
        cors: CORSConfig | None = None,
        openapi: OpenAPIConfig | _Default | None = _DEFAULT,
        csrf: bool = True,
    ) -> None: ...
    @overload
    def __init__(
        self,
        *,
        settings: Settings | None = None,
        debug: bool | None = None,
        state: StateT,
        lifespan: Lifespan | None = None,
        middleware: Iterable[Middleware] = (),
        security_headers: bool = True,
        cors: CORSConfig | None = None,
        openapi: OpenAPIConfig | _Default | None = _DEFAULT,
        csrf: bool = True,
    ) -> None: ...
    def __init__(
        self,
        *,
        settings: Settings | None = None,
        debug: bool | None = None,
        state: Any = None,
        lifespan: Lifespan | None = None,
        middleware: Iterable[Middleware] = (),
        security_headers: bool = True,
        cors: CORSConfig | None = None,
        openapi: OpenAPIConfig | _Default | None = _DEFAULT,
        csrf: bool = True,
    ) -> None:
        super().__init__(middleware=middleware)
        self.settings = settings if settings is not None else Settings.from_env()
        self.debug = self.settings.debug if debug is None else debug
        self.state: StateT = state if state is not None else cast(StateT, State())
        self.converters: dict[str, Converter[Any]] = default_converters()
        self._converter_for_type: dict[type, str] = dict(CONVERTER_FOR_TYPE)
        self._lifespan = lifespan
        self._on_startup: list[Callable[[], Any]] = []
        self._on_shutdown: list[Callable[[], Any]] = []
        self._asgi_wrappers: list[Callable[[ASGIApp], ASGIApp]] = []
        self._exit_stack: AsyncExitStack | None = None
        self._table: RouteTable[_PathEndpoint] = RouteTable()
        self._ws_table: RouteTable[WebSocketCall] = RouteTable()
        self._route_infos: list[RouteInfo] = []
        self._chain: CallNext = self._dispatch
        self._built = False
        self._build_error: Exception | None = None
        self._named: dict[str, tuple[Callable[..., Any], str]] = {}
        self.allowed_hosts = AllowedHosts(self.settings.allowed_hosts)
        #: Headers sent with every response lacking them; per route, see ``headers=``.
        self.header_defaults = DefaultHeaders(
            SECURITY_HEADERS if security_headers else (),
            hsts=hsts_value(self.settings) if security_headers else None,
        )
        self.default_headers = self.header_defaults.http.pairs
        #: The compiled CORS policy (None: no CORS headers).
        self.cors: CORSPolicy | None = None
        if cors is not None:
            # Loaded only by apps that configure CORS.
            from satchel.cors import CORSPolicy

            self.cors = CORSPolicy(cors)
        self.request_config = _request_config(self.settings)
        self.injector = Injector({App: "app"}, app=self)
        self._secret_keys: tuple[str, ...] | None = None
        self._openapi = openapi
        #: The CSRF checks run before every route's handler (None: switched off).
        self.csrf = CSRFProtection(self.settings.csrf_trusted_origins) if csrf else None
        self.asgi: ASGIApp = serve_asgi(self)
        self._rsgi = RSGIServer(self)

    @property
    def openapi_config(self) -> OpenAPIConfig | None:
        """How the app documents itself (None: it does not)."""
        if isinstance(self._openapi, _Default):
            from satchel.openapi import OpenAPIConfig

            self._openapi = OpenAPIConfig()
        return self._openapi

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """Signing keys, newest first: ``secret_key`` then ``secret_key_fallbacks``.

        Without a ``secret_key``, a random key for this process (logged once, on the
        first use): nothing is ever signed with a known or empty key.
        """
        if self._secret_keys is None:
            self._secret_keys = _secret_keys(self.settings)
        return self._secret_keys

    @property
    def dependency_overrides(self) -> DependencyOverrides:
        """Provider replacements (tests): ``app.dependency_overrides[get_db] = fake_db``."""
        return self.injector.overrides

    # -- registration --------------------------------------------------------------------

    def register_converter(
        self, name: str, converter: Converter[Any], *, for_type: type | None = None
    ) -> None:
        """Add a path converter usable as ``{param:name}`` (and by annotation ``for_type``)."""
        self._check_open()
        self.converters[name] = converter
        if for_type is not None:
            self._converter_for_type[for_type] = name

    def on_startup(self, hook: HookT) -> HookT:
        """Run ``hook`` (sync or async) when the app starts."""
        self._check_open()
        self._on_startup.append(hook)
        return hook

    def on_shutdown(self, hook: HookT) -> HookT:
        """Run ``hook`` (sync or async) when the app stops."""
        self._check_open()
        self._on_shutdown.append(hook)
        return hook

    def wrap_asgi(self, wrapper: Callable[..., ASGIApp], /, **options: Any) -> None:
        """Wrap the ASGI entry in third-party ASGI middleware: ``wrapper(app, **options)``.

        Applies to the ASGI interface only; the RSGI entry refuses to start
        while ASGI middleware is configured, rather than silently skip it.
        """
        self._check_open()
        self._asgi_wrappers.append(lambda inner: wrapper(inner, **options))

    # -- lifecycle -----------------------------------------------------------------------

    def build(self) -> None:
        """Compile every route and freeze registration (idempotent).

        Raises:
            ConfigurationError: a route cannot be served; raised again, unchanged,
                by every later call, so each request reports the real cause.
        """
        if self._built:
            return
        if self._build_error is not None:
            raise self._build_error
        config = self.openapi_config
        if config is not None and not self._frozen:
            # Loaded only by apps that document themselves (the default).
            from satchel.openapi.routes import install

            install(self, config)
        self.freeze()
        try:
            self._compile_router(self, "", (), (), (), [], {})
        except Exception as exc:
            self._build_error = exc
            raise
        if self.middleware:
            self._chain = build_chain(
                self._guard(self._dispatch, self.error_handlers), self.middleware
            )
        for wrap in self._asgi_wrappers:
            self.asgi = wrap(self.asgi)
        self._built = True

    async def startup(self) -> None:
        """Build the app, run startup hooks and enter the lifespan context."""
        if self._exit_stack is not None:  # already started
            return
        self.build()
        stack = AsyncExitStack()
        try:
            for hook in self._on_startup:
                await _maybe_await(hook())
            for hook in reversed(self._on_shutdown):
                stack.push_async_callback(_call_hook, hook)
            if self._lifespan is not None:
                await stack.enter_async_context(self._lifespan(self))
            # App-scoped providers start now (a failure stops startup) and stop first.
            stack.push_async_callback(self.injector.aclose)
            await self.injector.warm_up()
        except BaseException:
            await stack.aclose()
            raise
        self._exit_stack = stack

    async def shutdown(self) -> None:
        """Exit the lifespan context and run shutdown hooks."""
        if self._exit_stack is not None:
            stack, self._exit_stack = self._exit_stack, None
            await stack.aclose()

    def lifespan_context(self) -> AbstractAsyncContextManager[None]:
        """``async with app.lifespan_context():`` starts and stops the app (tests, scripts)."""
        return _LifespanContext(self)

    # -- compilation ---------------------------------------------------------------------

    def _compile_router(
        self,
        router: Router,
        prefix: str,
        names: tuple[str, ...],
        tags: tuple[str, ...],
        dependencies: tuple[Dependency, ...],
        middleware: list[Middleware],
        handlers: Mapping[ErrorKey, ErrorHandler],
    ) -> None:
        prefix += router.prefix
        tags = (*tags, *router.tags)
        dependencies = (*dependencies, *router.dependencies)
        if router.name:
            names = (*names, router.name)
        if router is not self:
            middleware = [*middleware, *router.middleware]
            handlers = {**handlers, **router.error_handlers}
        by_path: dict[str, _PathRoutes] = {}
        for spec in router.routes:
            self._compile_route(
                spec,
                prefix + spec.path,
                names,
                tags,
                (*dependencies, *spec.dependencies),
                middleware,
                handlers,
                by_path,
            )
        for path_routes in by_path.values():
            self._add_path(path_routes)
        for child, child_prefix in router.children:
            self._compile_router(
                child, prefix + child_prefix, names, tags, dependencies, middleware, handlers
            )

    def _compile_route(
        self,
        spec: RouteSpec,
        path: str,
        names: tuple[str, ...],
        tags: tuple[str, ...],
        dependencies: tuple[Dependency, ...],
        middleware: list[Middleware],
        handlers: Mapping[ErrorKey, ErrorHandler],
        by_path: dict[str, _PathRoutes],
    ) -> None:
        name = ".".join((*names, spec.name))
        segments = parse_path(path)
        converters = self._converters_for(spec, segments)
        tags = tuple(dict.fromkeys((*tags, *spec.doc.tags)))
        if spec.websocket:
            # Loaded only by apps that declare WebSocket routes.
            from satchel.websockets import compile_websocket_handler

            call = compile_websocket_handler(
                spec.handler, list(converters), self.injector, dependencies
            )
            self._ws_table.add(segments, converters, call)
            self._add_name(name, spec, path, segments, converters)
            self._route_infos.append(
                RouteInfo(path, spec.methods, name, spec.handler, True, doc=spec.doc, tags=tags)
            )
            return
        compiled = compile_handler(
            spec.handler,
            path_names=list(converters),
            status_code=spec.status_code,
            methods=spec.methods,
            injector=self.injector,
            dependencies=dependencies,
        )
        self._route_infos.append(
            RouteInfo(
                path,
                spec.methods,
                name,
                spec.handler,
                False,
                spec.status_code,
                spec.doc,
                tags,
                compiled,
            )
        )
        endpoint = compiled.endpoint
        if self.csrf is not None and spec.csrf and not SAFE_METHODS.issuperset(spec.methods):
            # Inside the router's middleware and error handlers, before dependencies and
            # body parsing: a forged request reaches no provider, a refusal gets the
            # router's 403 handler. Routes of safe methods only (GET) need no wrapper.
            endpoint = self.csrf.wrap(endpoint)
        wrap = self._router_wrapper(middleware, handlers)
        if wrap is not None:
            endpoint = wrap(endpoint)
        if spec.headers:
            # Outermost: the route's middleware and error responses get its headers too.
            route_defaults = self.header_defaults.overridden(spec.headers)
            endpoint = with_route_headers(endpoint, route_defaults)
        path_routes = by_path.setdefault(path, _PathRoutes(segments, converters, {}, wrap))
        if path_routes.converters != converters:
            raise ConfigurationError(
                f"Routes for {path!r} disagree on parameter types: {spec.handler.__qualname__}"
            )
        for method in spec.methods:
            if method in path_routes.methods:
                raise ConfigurationError(f"Two handlers for {method} {path}")
            path_routes.methods[method] = endpoint
        self._add_name(name, spec, path, segments, converters)

    def _add_name(
        self,
        name: str,
        spec: RouteSpec,
        path: str,
        segments: list[str | Param],
        converters: dict[str, Converter[Any]],
    ) -> None:
        # One function stacked under several method decorators is one named route.
        if self._named.get(name) == (spec.handler, path):
            return
        self._table.add_name(name, segments, converters)
        self._named[name] = (spec.handler, path)

    def _converters_for(
        self, spec: RouteSpec, segments: list[str | Param]
    ) -> dict[str, Converter[Any]]:
        hints = handler_hints(spec.handler)
        converters: dict[str, Converter[Any]] = {}
        for segment in segments:
            if isinstance(segment, str):
                continue
            converter_name = segment.converter
            if converter_name is None:
                annotation = split_annotated(hints.get(segment.name, str))[0]
                converter_name = self._converter_for_type.get(annotation)
                if converter_name is None:
                    raise ConfigurationError(
                        f"Route {spec.path!r}: no converter for parameter {segment.name!r} "
                        f"annotated {annotation!r}; name one, like '{{{segment.name}:str}}'"
                    )
            converter = self.converters.get(converter_name)
            if converter is None:
                raise ConfigurationError(
                    f"Route {spec.path!r}: unknown converter {converter_name!r}"
                )
            converters[segment.name] = converter
        return converters

    def _router_wrapper(
        self, middleware: list[Middleware], handlers: Mapping[ErrorKey, ErrorHandler]
    ) -> Callable[[Endpoint], Endpoint] | None:
        if not (middleware or handlers):
            return None
        merged = {**self.error_handlers, **handlers}
        return lambda endpoint: build_chain(self._guard(endpoint, merged), middleware)

    def _add_path(self, routes: _PathRoutes) -> None:
        methods = routes.methods
        if "GET" in methods and "HEAD" not in methods:
            methods["HEAD"] = methods["GET"]
        allowed = tuple(sorted({*methods, "OPTIONS"}))
        # Automatic answers run inside the router's chain too: a router's CORS
        # middleware sees its preflights, its 405 handler its 405s.
        wrap = routes.wrap or (lambda endpoint: endpoint)
        methods.setdefault("OPTIONS", wrap(_options_endpoint(allowed)))
        not_allowed = wrap(_not_allowed_endpoint(allowed))
        self._table.add(routes.segments, routes.converters, _PathEndpoint(methods, not_allowed))

    def _guard(self, endpoint: CallNext, handlers: Mapping[ErrorKey, ErrorHandler]) -> CallNext:
        async def guarded(request: Request) -> Response:
            try:
                return await endpoint(request)
            except Exception as exc:
                return await self.error_response(request, exc, handlers)

        return guarded

    # -- per request ---------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """Answer ``request``: host check, middleware, routing, handler, error handling."""
        try:
            self.check_host(request)
            if self.cors is not None and self.cors.is_preflight(request):
                preflight = self._preflight(request, self.cors)
                if preflight is not None:
                    return preflight
            response = await self._chain(request)
        except Exception as exc:
            try:
                response = await self.error_response(request, exc)
            except Exception as response_exc:  # e.g. an error page that cannot be built
                response = self._server_error(request, response_exc)
        if request._state is not None:  # most requests never touch request.state
            # Whatever answered (a route, middleware, an error handler), a CSRF token it
            # rendered or a secret it rotated needs its cookie on this response.
            set_csrf_cookie(request, response)
        return response

    def check_host(self, request: Request) -> None:
        """Refuse with 400 a request whose Host is not in ``settings.allowed_hosts``."""
        if not self.allowed_hosts.allows(request.host):
            raise BadRequest("Invalid Host header")

    def _preflight(self, request: Request, cors: CORSPolicy) -> Response | None:
        """Answer a CORS preflight to a routed path, before middleware and handlers.

        Preflights carry no credentials, so authentication middleware would refuse
        them; and no handler should run for one.
        """
        found = self._table.match(request.path)
        if found is None:
            return None
        methods = found[0].methods
        headers = [("allow", ", ".join(sorted(methods))), *cors.preflight_headers(request, methods)]
        return Response(b"", 204, headers)

    async def _dispatch(self, request: Request) -> Response:
        found = self._table.match(request.path)
        if found is None:
            return self._not_found(request)
        endpoint, params = found
        call = endpoint.methods.get(request.method, endpoint.not_allowed)
        request.path_params = params
        return await call(request)

    def _not_found(self, request: Request) -> Response:
        path = request.path
        if self.settings.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if self._table.match(other) is not None:
                location = _local_redirect_target(other, request.query_string)
                if location is not None:
                    return RedirectResponse(location, 308)
        raise NotFound()

    def websocket_endpoint(self, path: str) -> tuple[WebSocketCall, dict[str, Any]] | None:
        """Return the compiled WebSocket handler for ``path`` and its parameters, if any."""
        return self._ws_table.match(path)

    async def error_response(
        self,
        request: Request,
        exc: Exception,
        handlers: Mapping[ErrorKey, ErrorHandler] | None = None,
    ) -> Response:
        """Turn ``exc`` into a response with ``handlers`` (default: the app's)."""
        handler = find_error_handler(self.error_handlers if handlers is None else handlers, exc)
        if handler is not None:
            try:
                return await run_error_handler(handler, request, exc)
            except Exception as handler_exc:
                return self._server_error(request, handler_exc)
        if isinstance(exc, HTTPError):
            return http_error_response(request, exc)
        if isinstance(exc, ClientDisconnected):
            return Response(b"", 400)
        return self._server_error(request, exc)

    def _server_error(self, request: Request, exc: Exception) -> Response:
        request_id = new_request_id()
        logger.error(
            "Unhandled exception in %s %s [request id %s]",
            request.method,
            request.path,
            request_id,
            exc_info=exc,
        )
        if self.debug:
            return debug_response(request, exc, request_id)
        return server_error_response(request, request_id)

    def response_headers(self, request: Request, response: Response) -> list[tuple[str, str]]:
        """The headers to send for ``response`` to ``request``.

        The response's own, then the defaults it does not set (the route's, with
        HSTS over HTTPS and the request's CSP nonce), then CORS headers.
        """
        own = response.header_list
        headers = own + defaults_for(self.header_defaults, request).missing(own)
        if self.cors is not None:
            headers += self.cors.response_headers(request, own)
        return headers

    def asgi_response_headers(
        self, request: Request, response: Response
    ) -> list[tuple[bytes, bytes]]:
        """:meth:`response_headers` encoded for ASGI (defaults and CORS answers encoded once)."""
        own = response.header_list
        encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in own]
        encoded += defaults_for(self.header_defaults, request).missing_encoded(own)
        if self.cors is not None:
            encoded += self.cors.encoded_response_headers(request, own)
        return encoded

    def url_for(self, name: str, /, **params: Any) -> str:
        """Return the path of the route ``name`` with ``params`` filled in.

        Raises:
            KeyError: no route has that name.
            ValueError: parameters are missing or unexpected.
        """
        self.build()
        return self._table.url_path(name, params)

    def routes_info(self) -> list[RouteInfo]:
        """Every compiled route, in registration order."""
        self.build()
        return list(self._route_infos)

    # -- protocol entries ----------------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """The ASGI 3 entry point."""
        if not self._built and scope["type"] != "lifespan":
            # Building installs the wrap_asgi middleware: the first request must pass it
            # too. (Lifespan builds in startup(), where a failure is reported properly.)
            self.build()
        await self.asgi(scope, receive, send)

    def __rsgi__(self, scope: Any, protocol: Any) -> Awaitable[None]:
        """The Granian RSGI entry point."""
        if not self._built:
            self.build()
        return self._rsgi(scope, protocol)

    def check_rsgi(self) -> None:
        """Refuse to serve RSGI when the app relies on ASGI-only middleware.

        Raises:
            ConfigurationError: ``wrap_asgi`` middleware is configured.
        """
        if self._asgi_wrappers:
            raise ConfigurationError(
                "This app wraps its ASGI entry in ASGI middleware, which RSGI cannot run; "
                "serve it with --interface asgi"
            )

    def __rsgi_init__(self, loop: Any) -> None:
        """Granian calls this before serving: start the app on its loop."""
        self.check_rsgi()
        loop.run_until_complete(self.startup())

    def __rsgi_del__(self, loop: Any) -> None:
        """Granian calls this after serving: stop the app."""
        loop.run_until_complete(self.shutdown())


class _LifespanContext:
    def __init__(self, app: App[Any]) -> None:
        self._app = app

    async def __aenter__(self) -> None:
        await self._app.startup()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._app.shutdown()


def _request_config(settings: Settings) -> RequestConfig:
    form = FormLimits(
        max_body_size=settings.max_body_size,
        max_upload_size=settings.max_upload_size,
        max_fields=settings.max_form_fields,
        max_files=settings.max_form_files,
        max_part_header_size=settings.max_part_header_size,
        spool_max_size=settings.spool_max_size,
    )
    return RequestConfig(
        form=form,
        max_json_depth=settings.max_json_depth,
        max_query_fields=settings.max_form_fields,
        proxies=ProxyTrust(settings.trusted_proxies),
    )


def _options_endpoint(allowed: tuple[str, ...]) -> Endpoint:
    allow = ", ".join(allowed)

    async def options(request: Request) -> Response:
        return Response(b"", 204, [("allow", allow)])

    return options


def _not_allowed_endpoint(allowed: tuple[str, ...]) -> Endpoint:
    async def not_allowed(request: Request) -> Response:
        raise MethodNotAllowed(allowed)

    return not_allowed


def _local_redirect_target(path: str, query: str) -> str | None:
    """Quote ``path`` for a same-site Location, or None if a browser could read it as a host."""
    location = quote(path, safe="/:@!$&'()*+,;=-._~")
    if not location.startswith("/") or location.startswith("//"):
        return None
    if query:
        location += "?" + quote(query, safe="/:@!$&'()*+,;=-._~?%")
    return location


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


async def _call_hook(hook: Callable[[], Any]) -> None:
    await _maybe_await(hook())


def _secret_keys(settings: Settings) -> tuple[str, ...]:
    """The configured keys, or a random one for this process (signatures then end with it)."""
    if settings.secret_key:
        return (settings.secret_key, *settings.secret_key_fallbacks)
    logging.getLogger("satchel.security").warning(
        "No secret_key is set: using a random key, so sessions and signed cookies end "
        "when the process stops. Set SATCHEL_SECRET_KEY."
    )
    return (os.urandom(32).hex(), *settings.secret_key_fallbacks)
