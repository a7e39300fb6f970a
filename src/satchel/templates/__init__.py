"""Templates: Jinja2, autoescaped, rendered async, with the request's helpers.

Needs the ``templates`` extra (``pip install 'satchel[templates]'``); without it
importing this package raises ``MissingDependencyError``. ``import satchel`` does
not import it.

>>> from satchel import App, HTMLResponse, Settings
>>> from satchel.templates import Templates, render
>>> app = App(settings=Settings())
>>> Templates("templates").init_app(app)
>>> @app.get("/")
... async def index() -> HTMLResponse:
...     return await render("index.html", {"title": "Home"})
"""

from __future__ import annotations

from satchel.errors import MissingDependencyError

try:
    import jinja2  # noqa: F401  (checked here; the modules below use it)
    from markupsafe import Markup
except ImportError as exc:
    raise MissingDependencyError("jinja2", "templates") from exc

from satchel.templates.environment import Templates, escapes, templates_of
from satchel.templates.pagination import PageLike, page_links, page_url
from satchel.templates.rendering import render, render_block, render_block_sync, render_sync

__all__ = [
    "Markup",
    "PageLike",
    "Templates",
    "escapes",
    "page_links",
    "page_url",
    "render",
    "render_block",
    "render_block_sync",
    "render_sync",
    "templates_of",
]
