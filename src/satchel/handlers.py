"""Handler compilation: each route's function becomes a call plan at startup.

The plan knows, from the signature and type hints read once, which arguments
to pass and how to turn the return value into a :class:`Response`. Nothing is
introspected per request, and a handler that takes nothing runs a plan with no
argument-building step at all.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from satchel.encoding import json_encode
from satchel.errors import ConfigurationError
from satchel.requests import Request
from satchel.responses import JSONResponse, PlainTextResponse, Response
from satchel.threads import run_in_thread

__all__ = ["Endpoint", "Handler", "compile_handler", "handler_hints", "to_response"]

Handler = Callable[..., Any]
Endpoint = Callable[[Request], Awaitable[Response]]

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"
_OCTETS = "application/octet-stream"


def handler_hints(handler: Handler) -> dict[str, Any]:
    """Return the resolved type hints of ``handler``, with a clear error on failure."""
    try:
        return typing.get_type_hints(handler, include_extras=True)
    except Exception as exc:
        raise ConfigurationError(
            f"Cannot resolve the type hints of handler {_describe(handler)}: {exc}"
        ) from exc


def _describe(handler: Handler) -> str:
    name = getattr(handler, "__qualname__", repr(handler))
    return f"{getattr(handler, '__module__', '?')}.{name}"


@dataclass(frozen=True, slots=True)
class _Signature:
    path_names: tuple[str, ...]
    request_name: str | None


def _read_signature(handler: Handler, path_names: Collection[str]) -> _Signature:
    hints = handler_hints(handler)
    used_path: list[str] = []
    request_name: str | None = None
    for param in inspect.signature(handler).parameters.values():
        where = f"handler {_describe(handler)}, parameter {param.name!r}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ConfigurationError(
                f"{where}: *args, **kwargs and positional-only are not supported"
            )
        annotation = hints.get(param.name)
        if param.name in path_names:
            used_path.append(param.name)
        elif isinstance(annotation, type) and issubclass(annotation, Request):
            request_name = param.name
        else:
            raise ConfigurationError(
                f"{where}: not a path parameter and not annotated as Request "
                f"(annotation: {annotation!r})"
            )
    missing = set(path_names) - set(used_path)
    if missing:
        raise ConfigurationError(
            f"handler {_describe(handler)} does not take path parameter(s) {sorted(missing)}"
        )
    return _Signature(tuple(used_path), request_name)


def compile_handler(
    handler: Handler, *, path_names: Collection[str], status_code: int = 200
) -> Endpoint:
    """Return the call plan for ``handler``: ``await plan(request) -> Response``.

    Args:
        handler: A sync or async function. Sync ones run in a worker thread.
        path_names: The route's path parameter names; each must be an argument.
        status_code: The status for return values that are not a Response.

    Raises:
        ConfigurationError: the signature cannot be served.
    """
    signature = _read_signature(handler, path_names)
    convert = (
        to_response
        if status_code == 200
        else functools.partial(to_response, status_code=status_code)
    )
    call = _caller(handler, signature)
    if inspect.iscoroutinefunction(handler):

        async def run_async(request: Request) -> Response:
            return convert(await call(request))

        return run_async

    async def run_sync(request: Request) -> Response:
        return convert(await run_in_thread(call, request))

    return run_sync


def _caller(handler: Handler, signature: _Signature) -> Callable[[Request], Any]:
    """Pick the cheapest way to pass arguments for this signature."""
    request_name = signature.request_name
    if not signature.path_names:
        if request_name is None:
            return lambda request: handler()
        return lambda request: handler(**{request_name: request})
    if request_name is None:
        return lambda request: handler(**request.path_params)
    return lambda request: handler(**request.path_params, **{request_name: request})


def to_response(value: Any, status_code: int = 200) -> Response:
    """Turn a handler's return value into a Response.

    ``str`` becomes text/plain, ``bytes`` application/octet-stream, ``None``
    an empty 204 (or ``status_code`` if set), a Response passes through, and
    anything else (dict, list, msgspec Struct, dataclass, ...) is JSON.

    >>> to_response({"id": 1}).body, to_response("hi").headers["content-type"]
    (b'{"id":1}', 'text/plain; charset=utf-8')
    """
    kind = type(value)
    if kind is str:
        return PlainTextResponse.make(value.encode(), status_code, _TEXT)
    if isinstance(value, Response):
        return value
    if kind is bytes:
        return Response.make(value, status_code, _OCTETS)
    if value is None:
        return Response.make(b"", 204 if status_code == 200 else status_code, None)
    if isinstance(value, str):  # str subclasses (enums, slugs, ...)
        return PlainTextResponse.make(str(value).encode(), status_code, _TEXT)
    if isinstance(value, bytes | bytearray | memoryview):
        return Response.make(bytes(value), status_code, _OCTETS)
    return JSONResponse.make(json_encode(value), status_code, _JSON)
