"""Rendering templates into responses: async and sync handlers, blocks, the current request."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from pathlib import Path

import pytest

from satchel import App, ConfigurationError, HTMLResponse, Request, Response, Settings
from satchel.middleware import CallNext
from satchel.templates import (
    Templates,
    render,
    render_block,
    render_block_sync,
    render_sync,
)
from satchel.testing import TestClient
from tests.templates.support import SECRET, make_app, write_templates

PAGE = """\
{%- extends "base.html" -%}
{%- block title %}Search {{ query }}{% endblock -%}
{%- block results -%}
<ul id="results">{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>
{%- endblock -%}
"""
BASE = (
    "<title>{% block title %}{% endblock %}</title><main>{% block results %}{% endblock %}</main>"
)


def test_render_makes_an_html_response(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {"hello.html": "<h1>Hello, {{ name }}!</h1>"})

    @app.get("/")
    async def index() -> HTMLResponse:
        return await render("hello.html", {"name": "Ada"}, status=201, headers={"x-page": "hi"})

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 201
    assert response.text == "<h1>Hello, Ada!</h1>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-page"] == "hi"


def test_templates_see_the_request(tmp_path: Path) -> None:
    app, _ = make_app(
        tmp_path, {"who.html": "{{ request.method }} {{ request.query_params['q'] }}"}
    )

    @app.get("/who")
    async def who() -> HTMLResponse:
        return await render("who.html", {"request": "not this one"})

    with TestClient(app) as client:
        assert client.get("/who?q=satchel").text == "GET satchel"


def test_async_functions_in_the_context_are_awaited(tmp_path: Path) -> None:
    app, _ = make_app(
        tmp_path,
        {"list.html": "{% for item in load('fruit') %}{{ item }};{% endfor %}{{ count() }}"},
    )

    async def load(kind: str) -> list[str]:
        await asyncio.sleep(0)
        return [f"{kind}-1", f"{kind}-2"]

    async def count() -> int:
        return 2

    @app.get("/list")
    async def listing() -> HTMLResponse:
        return await render("list.html", {"load": load, "count": count})

    with TestClient(app) as client:
        assert client.get("/list").text == "fruit-1;fruit-2;2"


def test_render_block_renders_one_block_with_the_context(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {"base.html": BASE, "search.html": PAGE})

    @app.get("/search")
    async def search(request: Request, q: str = "") -> HTMLResponse:
        context = {"query": q, "items": [f"<{q}>", "b"]}
        headers = {"vary": "HX-Request"}
        if request.headers.get("hx-request") == "true":
            return await render_block("search.html", "results", context, headers=headers)
        return await render("search.html", context, headers=headers)

    with TestClient(app) as client:
        full = client.get("/search?q=a")
        fragment = client.get("/search?q=a", headers={"HX-Request": "true"})
    assert full.text == (
        '<title>Search a</title><main><ul id="results"><li>&lt;a&gt;</li><li>b</li></ul></main>'
    )
    assert fragment.text == '<ul id="results"><li>&lt;a&gt;</li><li>b</li></ul>'
    assert fragment.headers["vary"] == "HX-Request"


def test_render_block_of_a_missing_block_is_a_server_error(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {"base.html": BASE, "search.html": PAGE})

    @app.get("/")
    async def index() -> HTMLResponse:
        return await render_block("search.html", "sidebar", {})

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 500


def test_sync_handlers_render_on_the_apps_loop(tmp_path: Path) -> None:
    app, _ = make_app(
        tmp_path,
        {"base.html": BASE, "search.html": PAGE, "loop.html": "{{ loop_name() }}"},
    )
    loops: list[asyncio.AbstractEventLoop] = []

    async def loop_name() -> str:
        loops.append(asyncio.get_running_loop())
        return "on the loop"

    @app.get("/sync")
    def sync_page() -> HTMLResponse:
        return render_sync("loop.html", {"loop_name": loop_name}, status=202)

    @app.get("/sync-block")
    def sync_block() -> HTMLResponse:
        return render_block_sync("search.html", "results", {"items": ["x"]})

    @app.get("/async")
    async def async_page() -> HTMLResponse:
        return await render("loop.html", {"loop_name": loop_name})

    with TestClient(app) as client:
        sync_response = client.get("/sync")
        async_response = client.get("/async")
        block = client.get("/sync-block")
    assert (sync_response.status_code, sync_response.text) == (202, "on the loop")
    assert async_response.text == "on the loop"
    assert loops[0] is loops[1]  # the app's own loop, where its connections live
    assert block.text == '<ul id="results"><li>x</li></ul>'


def test_render_sync_refuses_to_block_the_event_loop(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {"page.html": "hi"})
    errors: list[str] = []

    @app.get("/")
    async def index() -> HTMLResponse:
        try:
            return render_sync("page.html")
        except RuntimeError as error:
            errors.append(str(error))
            return await render("page.html")

    with TestClient(app) as client:
        assert client.get("/").text == "hi"
    assert errors == [
        "render_sync() would block the event loop: use 'await render(...)' in async code"
    ]


def test_request_may_be_passed_explicitly(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {"page.html": "{{ request.path }} {{ csrf_token()|length }}"})
    texts: list[str] = []

    @app.get("/page")
    async def page(request: Request) -> str:
        # Rendered in a task of its own, outside the middleware's context.
        response = await asyncio.create_task(
            render("page.html", request=request), context=_empty_context()
        )
        texts.append(response.body.decode())
        return "ok"

    with TestClient(app) as client:
        assert client.get("/page").text == "ok"
    assert texts == ["/page 128"]


def _empty_context() -> contextvars.Context:
    return contextvars.Context()


def test_rendering_outside_a_request_needs_one(tmp_path: Path) -> None:
    make_app(tmp_path, {"page.html": "hi"})
    with pytest.raises(RuntimeError, match="No current request"):
        asyncio.run(render("page.html"))
    with pytest.raises(RuntimeError, match="No current request"):
        render_sync("page.html")


def test_an_app_without_templates_cannot_render(tmp_path: Path) -> None:
    app = App(settings=Settings(secret_key=SECRET))
    Templates(tmp_path)  # created, never given the app

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return await render("page.html", request=request)

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 500


def test_a_missing_template_is_a_server_error(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {})

    @app.get("/")
    async def index() -> HTMLResponse:
        return await render("nowhere.html")

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert "nowhere" not in response.text


def test_render_sync_from_a_thread_without_the_apps_context(tmp_path: Path) -> None:
    """A thread the app started without copying the context renders on a loop of its own."""
    app, _ = make_app(tmp_path, {"page.html": "{{ request.path }} {{ answer() }}"})
    texts: list[str] = []

    async def answer() -> int:
        return 42

    @app.get("/page")
    def page(request: Request) -> str:
        def work() -> None:
            texts.append(
                render_sync("page.html", {"answer": answer}, request=request).body.decode()
            )

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return "ok"

    with TestClient(app) as client:
        assert client.get("/page").text == "ok"
    assert texts == ["/page 42"]


def test_middleware_added_before_init_app_can_render(tmp_path: Path) -> None:
    app = App(settings=Settings(secret_key=SECRET))

    async def maintenance(request: Request, call_next: CallNext) -> Response:
        if request.path == "/closed":
            return await render("closed.html", status=503)
        return await call_next(request)

    app.add_middleware(maintenance)
    write_templates(tmp_path, {"closed.html": "Back soon ({{ request.path }})"})
    Templates(tmp_path, bytecode_cache=False).init_app(app)

    with TestClient(app) as client:
        response = client.get("/closed")
    assert (response.status_code, response.text) == (503, "Back soon (/closed)")


def test_init_app_is_refused_once_the_app_has_started(tmp_path: Path) -> None:
    app = App(settings=Settings(secret_key=SECRET))
    app.build()
    with pytest.raises(ConfigurationError, match="frozen"):
        Templates(tmp_path).init_app(app)
