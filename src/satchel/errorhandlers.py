"""Running an app's error handlers, and the debug page answer for unhandled errors."""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from satchel.errorpages import wants_html
from satchel.errors import HTTPError
from satchel.requests import Request
from satchel.responses import PlainTextResponse, Response
from satchel.serialization import to_response
from satchel.threads import run_in_thread

if TYPE_CHECKING:
    from satchel.routers import ErrorHandler, ErrorKey

__all__ = ["debug_response", "find_error_handler", "run_error_handler"]


def find_error_handler(
    handlers: Mapping[ErrorKey, ErrorHandler], exc: Exception
) -> ErrorHandler | None:
    """The handler for ``exc``: the most specific exception type, or its status code."""
    if not handlers:
        return None
    keys: tuple[ErrorKey, ...] = type(exc).__mro__
    if isinstance(exc, HTTPError):
        # A status handler (404) ranks just above HTTPError: a handler for a
        # subclass is more specific, one for HTTPError or Exception less.
        cut = keys.index(HTTPError)
        keys = (*keys[:cut], exc.status_code, *keys[cut:])
    for key in keys:
        handler = handlers.get(key)
        if handler is not None:
            return handler
    return None


def debug_response(request: Request, exc: Exception, request_id: str) -> Response:
    """The debug-mode answer to an unhandled error: a traceback page (HTML) or text."""
    # Imported here: the debug page is only needed in debug mode, after an error.
    from satchel.debug_page import render_debug_page, render_debug_text

    headers = [("cache-control", "no-store"), ("x-request-id", request_id)]
    if not wants_html(request):
        text = render_debug_text(
            exc, method=request.method, url=request.path, request_id=request_id
        )
        return PlainTextResponse(text, 500, headers)
    nonce = os.urandom(16).hex()
    page = render_debug_page(
        exc,
        method=request.method,
        url=request.path + ("?" + request.query_string if request.query_string else ""),
        headers=request.headers.multi_items(),
        request_id=request_id,
        nonce=nonce,
    )
    csp = f"default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; frame-ancestors 'none'"
    headers.append(("content-security-policy", csp))
    return Response(page, 500, headers, media_type="text/html; charset=utf-8")


async def run_error_handler(handler: ErrorHandler, request: Request, exc: Exception) -> Response:
    """Call an error handler and turn what it returns into the response."""
    # Sync handlers run in a worker thread, like sync route handlers: they may block.
    if inspect.iscoroutinefunction(handler):
        result = await handler(request, exc)
    else:
        result = await run_in_thread(handler, request, exc)
        if inspect.isawaitable(result):
            result = await result
    if not isinstance(exc, HTTPError):
        return to_response(result, 500)
    response = to_response(result, exc.status_code)
    if exc.headers and not isinstance(result, Response):
        # A handler returning plain data keeps the error's Allow, WWW-Authenticate, ...
        present = {name for name, _ in response.header_list}
        response.header_list.extend(
            (name.lower(), value)
            for name, value in exc.headers.items()
            if name.lower() not in present
        )
    return response
