"""The middleware model: one async callable per layer, chained once at startup.

A middleware receives the request and ``call_next``; it returns a Response.
Because responses are descriptions (see :mod:`satchel.responses`), a
middleware may change the status or headers of a streaming response without
buffering it, so every middleware is streaming-safe.

>>> async def timing(request, call_next):
...     response = await call_next(request)
...     response.headers["server-timing"] = "app"
...     return response
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from satchel.requests import Request
from satchel.responses import Response

__all__ = ["CallNext", "Middleware", "build_chain"]

CallNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, CallNext], Awaitable[Response]]


def build_chain(endpoint: CallNext, middleware: Sequence[Middleware]) -> CallNext:
    """Wrap ``endpoint`` so that ``middleware[0]`` runs first (outermost).

    An empty sequence returns ``endpoint`` itself: no layer, no cost.
    """
    chain = endpoint
    for layer in reversed(middleware):
        chain = _bind(layer, chain)
    return chain


def _bind(layer: Middleware, call_next: CallNext) -> CallNext:
    async def call(request: Request) -> Response:
        return await layer(request, call_next)

    call.__qualname__ = f"chain[{getattr(layer, '__qualname__', type(layer).__qualname__)}]"
    return call
