"""Content-Security-Policy nonces for inline ``<script>`` and ``<style>`` elements.

A handler that renders an inline script asks for the request's nonce and puts it
in the element; the app then adds ``'nonce-…'`` to the ``script-src`` and
``style-src`` of that response's policy. Requests that never ask pay nothing.
"""

from __future__ import annotations

import binascii
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from satchel.requests import Request

__all__ = ["NONCE_STATE_KEY", "csp_nonce", "nonce_template"]

#: Where the request's nonce is kept in ``request.state``.
NONCE_STATE_KEY = "satchel.csp_nonce"

# 18 bytes: 144 random bits (the CSP spec asks for at least 128) and no "=" padding.
_NONCE_BYTES = 18
_NONCE_DIRECTIVES = ("script-src", "style-src")
# Header values cannot hold NUL, so it marks where the nonce goes without ambiguity.
_NONCE = "\0"
_MARK = f"'nonce-{_NONCE}'"


def csp_nonce(request: Request) -> str:
    """Return the CSP nonce of ``request``, the same on every call for that request.

    The response to the request gets the app's (or the route's) policy with
    ``'nonce-<value>'`` added to ``script-src`` and ``style-src``. A response that
    sets its own ``Content-Security-Policy`` keeps it unchanged: put the nonce in
    it yourself.

    >>> from satchel import App, HTMLResponse, Request, Settings
    >>> from satchel.testing import TestClient
    >>> app = App(settings=Settings())
    >>> @app.get("/")
    ... def page(request: Request) -> HTMLResponse:
    ...     return HTMLResponse(f"<script nonce='{csp_nonce(request)}'>go()</script>")
    >>> with TestClient(app) as client:
    ...     response = client.get("/")
    >>> nonce = response.text.split("'")[1]
    >>> f"script-src 'self' 'nonce-{nonce}'" in response.headers["content-security-policy"]
    True
    """
    state = request.state
    nonce: str | None = state.get(NONCE_STATE_KEY)
    if nonce is None:
        # os.urandom is what secrets uses, without the modules secrets imports.
        nonce = binascii.b2a_base64(os.urandom(_NONCE_BYTES), newline=False).decode("ascii")
        state[NONCE_STATE_KEY] = nonce
    return nonce


def nonce_template(policy: str) -> tuple[str, ...] | None:
    """Split ``policy`` around where a nonce goes: ``nonce.join(parts)`` is the policy.

    ``script-src`` and ``style-src`` get ``'nonce-…'``; when one is missing it is
    added with the sources of ``default-src``, so the policy allows nothing more
    than before except elements carrying the nonce. A directive whose only source
    is ``'none'`` stays as it is: the policy said no scripts (or styles) at all.
    None when no directive can take a nonce.

    >>> nonce_template("default-src 'self'")
    ("default-src 'self'; script-src 'self' 'nonce-", "'; style-src 'self' 'nonce-", "'")
    >>> nonce_template("default-src 'none'") is None
    True
    """
    directives = [directive.split() for directive in policy.split(";")]
    directives = [d for d in directives if d]
    # The first of a repeated directive is the one browsers enforce.
    first: dict[str, list[str]] = {}
    for directive in directives:
        first.setdefault(directive[0].lower(), directive)
    fallback = first.get("default-src")
    for name in _NONCE_DIRECTIVES:
        target = first.get(name)
        if target is None:
            if fallback is None:
                continue  # the policy does not restrict these: no nonce needed
            target = [name, *fallback[1:]]
            directives.append(target)
        if [source.lower() for source in target[1:]] in ([], ["'none'"]):
            continue
        target.append(_MARK)
    parts = "; ".join(" ".join(directive) for directive in directives).split(_NONCE)
    return tuple(parts) if len(parts) > 1 else None
