"""The request being answered, found by templates without passing it around.

A context variable set by :func:`bind_request`, the middleware ``Templates.init_app``
installs: only apps that use templates pay for it. Sync handlers run in worker threads
with the caller's context variables, so they see it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from satchel.middleware import CallNext
from satchel.requests import Request
from satchel.responses import Response

__all__ = ["Current", "bind_request", "current", "current_request", "rendering_for"]


class Current(NamedTuple):
    """The request and the event loop answering it."""

    request: Request
    #: Where a sync handler's worker thread sends its rendering (``render_sync``).
    loop: asyncio.AbstractEventLoop


_current: ContextVar[Current | None] = ContextVar("satchel.templates.current", default=None)


async def bind_request(request: Request, call_next: CallNext) -> Response:
    """Middleware: make ``request`` the current one while the app answers it."""
    token = _current.set(Current(request, asyncio.get_running_loop()))
    try:
        return await call_next(request)
    finally:
        _current.reset(token)


def current() -> Current | None:
    """The request being answered in this context, with its loop; None outside one."""
    return _current.get()


def current_request() -> Request:
    """The request being answered (or rendered for) in this context.

    Raises:
        RuntimeError: there is none: the app has no ``Templates`` (``init_app``), or the
            code runs outside a request; pass ``request=`` explicitly there.
    """
    found = _current.get()
    if found is None:
        raise RuntimeError(
            "No current request: call templates.init_app(app), or pass request= "
            "when rendering outside a request"
        )
    return found.request


@contextmanager
def rendering_for(request: Request) -> Iterator[None]:
    """Make ``request`` the current one while a template renders (on the running loop)."""
    token = _current.set(Current(request, asyncio.get_running_loop()))
    try:
        yield
    finally:
        _current.reset(token)
