"""Default error responses: problem+json for APIs, small HTML pages for browsers.

Nothing here echoes request data into HTML without escaping, and a server
error never reveals anything beyond a request id unless debug mode is on.
"""

from __future__ import annotations

import html
import os
from typing import Any

from satchel.errors import HTTPError
from satchel.requests import Request
from satchel.responses import HTMLResponse, JSONResponse, Response
from satchel.status import reason_phrase

__all__ = ["http_error_response", "new_request_id", "server_error_response", "wants_html"]

_NO_STORE = ("cache-control", "no-store")


def new_request_id() -> str:
    """Return a fresh random id to quote in a server-error page and its log line."""
    return os.urandom(8).hex()


def wants_html(request: Request) -> bool:
    """Whether the client prefers HTML (a browser) over JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


def _page(status: int, title: str, message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{status} {html.escape(title)}</title></head>"
        f"<body><main><h1>{status} {html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></main></body></html>"
    )


def http_error_response(request: Request, exc: HTTPError) -> Response:
    """The default response for an :class:`HTTPError` (RFC 9457 problem details)."""
    headers = dict(exc.headers)
    if exc.status_code >= 500:
        headers.setdefault(*_NO_STORE)
    return _problem(
        request, exc.status_code, exc.detail, list(headers.items()), **exc.problem_members()
    )


def server_error_response(request: Request, request_id: str) -> Response:
    """The generic 500 shown in production: no detail, just a request id."""
    message = f"The server could not complete the request. Request id: {request_id}"
    headers = [_NO_STORE, ("x-request-id", request_id)]
    return _problem(request, 500, message, headers, request_id=request_id)


def _problem(
    request: Request, status: int, detail: str, headers: list[tuple[str, str]], **extra: Any
) -> Response:
    """A small HTML page for browsers, problem+json for everyone else."""
    title = reason_phrase(status) or "Error"
    if wants_html(request):
        return HTMLResponse(_page(status, title, detail), status, headers)
    problem = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(problem, status, headers, media_type="application/problem+json")
