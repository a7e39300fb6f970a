"""Page links for templates: which numbers to show, and their URLs.

The macro ``satchel/pagination.html`` renders them as an accessible ``<nav>``::

    {% from "satchel/pagination.html" import pagination %}
    {{ pagination(page) }}
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlencode

from satchel.templates.current import current

__all__ = ["PageLike", "page_links", "page_url"]


class PageLike(Protocol):
    """One page of results: ``satchel.db.Page`` or anything with ``page`` and ``pages``."""

    @property
    def page(self) -> int:
        """The page's number, from 1."""

    @property
    def pages(self) -> int:
        """How many pages there are (0 when there are no results)."""


def page_links(page: PageLike, window: int = 2) -> list[int | None]:
    """The page numbers to link to: the first, the last and ``window`` on each side of the current.

    None marks a gap (render it as an ellipsis); a gap of a single page shows that page
    instead. Pages outside ``1..pages`` are treated as the nearest end.

    >>> from types import SimpleNamespace
    >>> page_links(SimpleNamespace(page=5, pages=10))
    [1, 2, 3, 4, 5, 6, 7, None, 10]
    >>> page_links(SimpleNamespace(page=1, pages=20), window=1)
    [1, 2, None, 20]
    >>> page_links(SimpleNamespace(page=1, pages=0))
    []

    Raises:
        ValueError: ``window`` is negative.
    """
    if window < 0:
        raise ValueError("window must be 0 or more")
    last = page.pages
    if last < 1:
        return []
    here = min(max(page.page, 1), last)
    shown = sorted({1, last, *range(max(here - window, 1), min(here + window, last) + 1)})
    links: list[int | None] = []
    previous = 0
    for number in shown:
        if number - previous == 2:
            links.append(number - 1)
        elif number - previous > 2:
            links.append(None)
        links.append(number)
        previous = number
    return links


def page_url(number: int, param: str = "page") -> str:
    """A relative URL (``?...``) to page ``number``, keeping the request's other query parameters.

    Outside a request (nothing to keep) it is just ``?page=<number>``. Every name and
    value is percent-encoded.

    >>> page_url(3)
    '?page=3'
    """
    found = current()
    pairs = [] if found is None else found.request.query_params.multi_items()
    kept = [(name, value) for name, value in pairs if name != param]
    kept.append((param, str(number)))
    return "?" + urlencode(kept)
