"""Page links: which numbers to show, and the shipped macro that renders them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from satchel import HTMLResponse
from satchel.db import Page
from satchel.templates import page_links, render
from satchel.testing import TestClient
from tests.templates.support import make_app

USES_MACRO = '{% from "satchel/pagination.html" import pagination %}{{ pagination(page) }}'


@dataclass
class Numbers:
    page: int
    pages: int


@pytest.mark.parametrize(
    ("page", "pages", "window", "expected"),
    [
        (1, 0, 2, []),
        (1, 1, 2, [1]),
        (2, 3, 2, [1, 2, 3]),
        (1, 10, 2, [1, 2, 3, None, 10]),
        (5, 10, 2, [1, 2, 3, 4, 5, 6, 7, None, 10]),
        (6, 12, 1, [1, None, 5, 6, 7, None, 12]),
        (10, 10, 2, [1, None, 8, 9, 10]),
        (4, 9, 0, [1, None, 4, None, 9]),
        (3, 9, 0, [1, 2, 3, None, 9]),
        (50, 10, 2, [1, None, 8, 9, 10]),  # past the end: as the last page
        (-3, 10, 1, [1, 2, None, 10]),
    ],
)
def test_page_links(page: int, pages: int, window: int, expected: list[int | None]) -> None:
    assert page_links(Numbers(page, pages), window) == expected


def test_page_links_refuses_a_negative_window() -> None:
    with pytest.raises(ValueError, match="window"):
        page_links(Numbers(1, 5), -1)


def test_the_macro_renders_accessible_links_keeping_the_query(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {"list.html": USES_MACRO})

    @app.get("/items")
    async def items(page: int = 1) -> HTMLResponse:
        return await render("list.html", {"page": Page(["a"], page, 1, 7, 7)})

    with TestClient(app) as client:
        text = client.get("/items?q=red+shoes&tag=a&tag=b&page=4").text
    assert text.startswith('<nav class="pagination" aria-label="Pagination">\n<ul>')
    links = re.findall(r'<a href="([^"]*)"([^>]*)>([^<]*)</a>', text)
    keep = "?q=red+shoes&amp;tag=a&amp;tag=b&amp;page="
    assert links == [
        (keep + "3", ' rel="prev"', "Previous"),
        (keep + "1", "", "1"),
        (keep + "2", "", "2"),
        (keep + "3", "", "3"),
        (keep + "4", ' aria-current="page"', "4"),
        (keep + "5", "", "5"),
        (keep + "6", "", "6"),
        (keep + "7", "", "7"),
        (keep + "5", ' rel="next"', "Next"),
    ]


def test_the_macro_marks_gaps_and_ends(tmp_path: Path) -> None:
    app, _ = make_app(
        tmp_path,
        {
            "first.html": USES_MACRO,
            "one.html": USES_MACRO,
            "custom.html": '{% from "satchel/pagination.html" import pagination %}'
            '{{ pagination(page, window=0, param="p", label="Results", next_label="More") }}',
        },
    )

    @app.get("/{name}")
    async def show(name: str, number: int = 1, pages: int = 20) -> HTMLResponse:
        return await render(f"{name}.html", {"page": Numbers(number, pages)})

    with TestClient(app) as client:
        first = client.get("/first").text
        single = client.get("/one?pages=1").text
        custom = client.get("/custom?number=20&pages=20&p=20").text
    assert "Previous" not in first
    assert '<li><span aria-hidden="true">&hellip;</span></li>' in first
    assert '<a href="?page=20">20</a>' in first
    assert single == ""  # one page: nothing to navigate
    assert 'aria-label="Results"' in custom
    assert "More" not in custom  # the last page has no next
    assert '<a href="?number=20&amp;pages=20&amp;p=19" rel="prev">Previous</a>' in custom


def test_hostile_query_parameters_are_encoded(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {"list.html": USES_MACRO})

    @app.get("/items")
    async def items() -> HTMLResponse:
        return await render("list.html", {"page": Numbers(1, 3)})

    hostile = '"><script>alert(1)</script>'
    with TestClient(app) as client:
        text = client.get("/items", params={hostile: hostile, "page": "1"}).text
    assert "<script>" not in text
    assert '"><' not in text
    encoded = "%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"
    assert f'<a href="?{encoded}={encoded}&amp;page=2">2</a>' in text


def test_labels_are_escaped(tmp_path: Path) -> None:
    app, _ = make_app(
        tmp_path,
        {
            "list.html": '{% from "satchel/pagination.html" import pagination %}'
            "{{ pagination(page, label=label, previous_label=label) }}"
        },
    )

    @app.get("/")
    async def index(label: str) -> HTMLResponse:
        return await render("list.html", {"page": Numbers(2, 3), "label": label})

    with TestClient(app) as client:
        text = client.get("/", params={"label": '"><img src=x onerror=alert(1)>'}).text
    assert "<img" not in text
    assert 'aria-label="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in text
