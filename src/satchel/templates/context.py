"""The names every template sees besides its own context.

``url_for`` and ``static`` belong to the app; the others read the request being
rendered for (:mod:`satchel.templates.current`), so templates call them without
arguments: ``{{ csrf_input() }}``, ``<script nonce="{{ csp_nonce() }}">``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from satchel.csp import csp_nonce
from satchel.csrf import csrf_input, csrf_token
from satchel.templates.current import current_request
from satchel.templates.pagination import page_links, page_url

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.sessions.flash import FlashCategory, FlashMessage

__all__ = ["REQUEST_GLOBALS", "app_globals"]


def _csrf_token() -> str:
    return csrf_token(current_request())


def _csrf_input() -> Markup:
    # Hex inside fixed markup (see satchel.csrf.csrf_input): nothing to escape.
    return Markup(csrf_input(current_request()))  # noqa: S704


def _csp_nonce() -> str:
    return csp_nonce(current_request())


async def _get_flashed_messages(
    categories: Iterable[FlashCategory] | None = None,
) -> list[FlashMessage]:
    # Imported on first use: apps that never flash never load it.
    from satchel.sessions.flash import get_flashed_messages

    return await get_flashed_messages(current_request(), categories)


#: Globals that need the current request, under the names templates use.
REQUEST_GLOBALS: dict[str, Callable[..., Any]] = {
    "csrf_token": _csrf_token,
    "csrf_input": _csrf_input,
    "csp_nonce": _csp_nonce,
    "get_flashed_messages": _get_flashed_messages,
    "page_links": page_links,
    "page_url": page_url,
}


def app_globals(app: App[Any]) -> dict[str, Callable[..., Any]]:
    """The globals bound to ``app``: ``url_for(name, **params)`` and ``static(path)``."""

    def static(path: str) -> str:
        # Imported on first use: apps that serve no static files never load it.
        from satchel.staticfiles import static_url

        return static_url(app, path)

    return {"url_for": app.url_for, "static": static}
