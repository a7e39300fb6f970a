"""Handler compilation: each route's function becomes a call plan at startup.

The plan knows, from the signature and type hints read once, which arguments
to pass and how to turn the return value into a :class:`Response`. Nothing is
introspected per request. A handler that takes only path parameters and the
request runs a plan with no extraction step at all; one with typed inputs or
dependencies runs the injector's graph (:mod:`satchel.injection`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from functools import partial
from typing import Any

from satchel.errors import ConfigurationError
from satchel.injection import Injector, Plan, close_exits, finish_exits, resolve
from satchel.params import Dependency
from satchel.requests import Request
from satchel.responses import Response
from satchel.serialization import Serializer, serializer_for, to_response
from satchel.signatures import Input, Signature, Special, describe, type_hints
from satchel.threads import run_in_thread, run_in_thread_shielded

__all__ = [
    "CompiledHandler",
    "Endpoint",
    "Handler",
    "compile_handler",
    "handler_hints",
    "to_response",
]

Handler = Callable[..., Any]
Endpoint = Callable[[Request], Awaitable[Response]]


def handler_hints(handler: Handler) -> dict[str, Any]:
    """Return the resolved type hints of ``handler``, with a clear error on failure."""
    try:
        return type_hints(handler)
    except Exception as exc:
        raise ConfigurationError(
            f"Cannot resolve the type hints of handler {describe(handler)}: {exc}"
        ) from exc


class CompiledHandler:
    """A route's call plan: ``await compiled(request) -> Response``.

    Attributes:
        plan: The injector's plan (inputs, dependencies), for documentation.
        serializer: Turns the return value into a Response.
    """

    __slots__ = ("endpoint", "plan", "serializer")

    def __init__(self, plan: Plan, serializer: Serializer, endpoint: Endpoint) -> None:
        self.plan = plan
        self.serializer = serializer
        self.endpoint = endpoint

    @property
    def signature(self) -> Signature:
        return self.plan.signature


def compile_handler(
    handler: Handler,
    *,
    path_names: Collection[str],
    status_code: int = 200,
    methods: Collection[str] = ("GET",),
    injector: Injector | None = None,
    dependencies: Sequence[Dependency] = (),
) -> CompiledHandler:
    """Compile ``handler`` into its call plan.

    Args:
        handler: A sync or async function. Sync ones run in a worker thread.
        path_names: The route's path parameter names; each must be an argument.
        status_code: The status for return values that are not a Response.
        methods: The route's methods (a body parameter on GET is refused).
        injector: The app's injector (a private one when not given).
        dependencies: Run before the handler, values unused (route and router ``dependencies``).

    Raises:
        ConfigurationError: the signature cannot be served; the message names
            the handler and the parameter.
    """
    injector = injector if injector is not None else Injector({})
    plan = injector.plan(
        handler,
        connection="http",
        specials={Request: "connection"},
        path_names=path_names,
        methods=methods,
        dependencies=dependencies,
    )
    signature = plan.signature
    if signature.kind in ("generator", "asyncgen"):
        raise ConfigurationError(
            f"{signature.where} is a generator; return a StreamingResponse of it instead"
        )
    serializer = serializer_for(signature.return_type, status_code, signature.where)
    call = None if dependencies else _direct_call(handler, signature)
    is_async = signature.kind == "coroutine"
    if call is not None:
        endpoint = _direct_endpoint(call, is_async, serializer)
    else:
        endpoint = _planned_endpoint(handler, plan, is_async, serializer)
    return CompiledHandler(plan, serializer, endpoint)


def _direct_call(handler: Handler, signature: Signature) -> Callable[[Request], Any] | None:
    """The cheapest call for handlers that take only plain path parameters and the request."""
    path_only: list[str] = []
    request_name: str | None = None
    for name, arg in signature.arguments:
        if isinstance(arg, Input) and arg.converter_checks_all:
            path_only.append(name)
        elif isinstance(arg, Special) and arg.kind == "connection":
            request_name = name
        else:
            return None
    if not path_only:
        if request_name is None:
            return lambda request: handler()
        return lambda request: handler(**{request_name: request})
    if request_name is None:
        return lambda request: handler(**request.path_params)
    return lambda request: handler(**request.path_params, **{request_name: request})


def _direct_endpoint(
    call: Callable[[Request], Any], is_async: bool, serialize: Serializer
) -> Endpoint:
    if is_async:

        async def run_async(request: Request) -> Response:
            return serialize(await call(request))

        return run_async

    async def run_sync(request: Request) -> Response:
        return serialize(await run_in_thread(call, request))

    return run_sync


def _planned_endpoint(
    handler: Handler, plan: Plan, is_async: bool, serialize: Serializer
) -> Endpoint:
    injector = plan.injector

    async def run(request: Request) -> Response:
        graph = plan.graph  # replaced when dependency overrides change
        exits: list[Any] | None = [] if graph.tears_down else None
        values = await resolve(graph, request, exits, {}, injector)
        kwargs = graph.kwargs(values)
        if not exits:
            result = await handler(**kwargs) if is_async else await run_in_thread(handler, **kwargs)
            return serialize(result)
        try:
            # A cancelled sync handler is waited for: its providers must outlive it.
            if is_async:
                result = await handler(**kwargs)
            else:
                result = await run_in_thread_shielded(handler, **kwargs)
            response = serialize(result)
        except BaseException as exc:
            await close_exits(exits, exc)
            raise
        if response.body_kind == "bytes":
            # The body is complete: finish the providers before it is sent, so a failing
            # teardown (a commit the database refuses) answers this request as its error.
            await finish_exits(exits)
        else:
            # A stream or a file may still use them while it is sent.
            request.add_cleanup(partial(close_exits, exits, None))
        return response

    return run
