"""Template errors: the debug page points into the template; production says nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from satchel import App, HTMLResponse, Settings
from satchel.debug_page import REDACTED
from satchel.templates import Templates, render, render_block
from satchel.testing import TestClient
from tests.support import FORBIDDEN_IN_BODY
from tests.templates.support import SECRET, make_app, write_templates

BASE = "<!doctype html>\n<main>\n{% block content %}{% endblock %}\n</main>\n"
SYNTAX = '{% extends "base.html" %}\n{% block content %}\n<p>{{ name }</p>\n{% endblock %}\n'
UNDEFINED = (
    '{% extends "base.html" %}\n{% block content %}\n<p>Hello</p>\n'
    "<p>{{ user.name.upper() }}</p>\n{% endblock %}\n"
)
FILES = {"base.html": BASE, "syntax.html": SYNTAX, "undefined.html": UNDEFINED}
HTML = {"accept": "text/html"}


def _app(folder: Path, *, debug: bool) -> App[Any]:
    app, _ = make_app(folder, FILES, debug=debug)

    @app.get("/{name}")
    async def page(name: str) -> HTMLResponse:
        secret = "k-" + str(41 * 3)  # built at run time: not in the source lines shown
        return await render(f"{name}.html", {"name": "Ada", "api_key": secret, "count": 3})

    @app.get("/block/{name}")
    async def block(name: str) -> HTMLResponse:
        return await render_block(f"{name}.html", "content", {"count": 3})

    return app


def _current_lines(page: str) -> list[str]:
    return re.findall(
        r'<li class="current"[^>]*><span class="ln">\d+</span><code>(.*?)</code>', page
    )


def test_debug_page_shows_a_syntax_error_in_the_template(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, debug=True)) as client:
        page = client.get("/syntax", headers=HTML).text
    assert "jinja2.exceptions.TemplateSyntaxError" in page
    assert "unexpected &#x27;}&#x27;" in page
    assert f"{tmp_path / 'syntax.html'}, line 3" in page
    assert '<code class="function">template</code>' in page
    assert _current_lines(page)[-1] == "&lt;p&gt;{{ name }&lt;/p&gt;"


def test_debug_page_shows_where_rendering_failed(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, debug=True)) as client:
        page = client.get("/undefined", headers=HTML).text
        text = client.get("/undefined", headers={"accept": "text/plain"}).text
    assert "jinja2.exceptions.UndefinedError" in page
    assert f"{tmp_path / 'undefined.html'}, line 4" in page
    assert f"{tmp_path / 'base.html'}, line 3" in page  # the block was called from the base
    assert '<code class="function">block &#x27;content&#x27;</code>' in page
    assert "&lt;p&gt;{{ user.name.upper() }}&lt;/p&gt;" in _current_lines(page)
    # The template's variables, secrets redacted; the environment's helpers left out.
    assert "<code>count</code></th><td><pre>3</pre>" in page
    assert f"<code>api_key</code></th><td><pre>{REDACTED}</pre>" in page
    assert "<code>lipsum</code>" not in page
    assert "<code>url_for</code>" not in page

    assert f"File \"{tmp_path / 'undefined.html'}\", line 4, in block 'content'" in text
    assert "    > 4 | <p>{{ user.name.upper() }}</p>" in text


@pytest.mark.parametrize("path", ["/undefined", "/block/undefined"])
def test_debug_page_redacts_jinja_contexts(tmp_path: Path, path: str) -> None:
    # Jinja2's Context objects (Template.render_async's `ctx`, a block's `context`) have a
    # repr showing every template variable: the page must walk them as it walks dicts.
    app = App(settings=Settings(secret_key=SECRET, debug=True))
    Templates(write_templates(tmp_path, FILES), bytecode_cache=False).init_app(app)
    api_key, password = "leak-" + "a" * 12, "leak-" + "b" * 12  # not in the source shown

    context = {"api_key": api_key, "db": {"password": password}, "count": 3}

    @app.get("/{name}")
    async def whole(name: str) -> HTMLResponse:
        return await render(f"{name}.html", context)

    @app.get("/block/{name}")
    async def block(name: str) -> HTMLResponse:
        return await render_block(f"{name}.html", "content", context)

    with TestClient(app) as client:
        page = client.get(path, headers=HTML).text
        text = client.get(path, headers={"accept": "text/plain"}).text
    for shown in (page, text):
        assert api_key not in shown
        assert password not in shown
    context_line = next(line for line in text.splitlines() if "= <Context " in line)
    assert f"'api_key': {REDACTED}" in context_line
    assert f"'db': {{'password': {REDACTED}}}" in context_line
    assert "'count': 3" in context_line
    assert "lipsum" not in context_line  # the environment's helpers are left out


def test_debug_page_for_a_failing_block(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, debug=True)) as client:
        text = client.get("/block/undefined", headers={"accept": "text/plain"}).text
    assert f"File \"{tmp_path / 'undefined.html'}\", line 4, in block 'content'" in text


@pytest.mark.parametrize("path", ["/syntax", "/undefined", "/block/undefined"])
@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_production_answers_a_generic_500(tmp_path: Path, path: str, accept: str) -> None:
    with TestClient(_app(tmp_path, debug=False)) as client:
        response = client.get(path, headers={"accept": accept})
    assert response.status_code == 500
    for leak in (*FORBIDDEN_IN_BODY, "jinja", ".html", "{{", "user.name", str(tmp_path)):
        assert leak not in response.text
