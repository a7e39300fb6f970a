"""What every template sees: url_for, static, csrf, the CSP nonce, flashes, the user's own."""

from __future__ import annotations

import re
from pathlib import Path

from satchel import HTMLResponse, RedirectResponse, Request
from satchel.csrf import CSRF_FIELD
from satchel.sessions import SessionMiddleware, flash
from satchel.staticfiles import StaticFiles
from satchel.templates import render
from satchel.testing import TestClient
from tests.templates.support import make_app

ORIGIN = "https://testserver"


def test_url_for_and_static(tmp_path: Path) -> None:
    source = "{{ url_for('item', item_id=7) }} {{ static('css/site.css') }}"
    app, _ = make_app(tmp_path / "templates", {"links.html": source})
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "site.css").write_text("body{}")
    StaticFiles(tmp_path / "static").init_app(app)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> HTMLResponse:
        return await render("links.html")

    with TestClient(app) as client:
        assert client.get("/items/1").text == "/items/7 /static/css/site.css"


def test_csrf_input_lets_the_form_post_pass(tmp_path: Path) -> None:
    form = '<form method="post" action="/notes">{{ csrf_input() }}<input name="text"></form>'
    app, _ = make_app(tmp_path, {"form.html": form, "token.html": "{{ csrf_token() }}"})
    saved: list[str] = []

    @app.get("/notes/new")
    async def new_note() -> HTMLResponse:
        return await render("form.html")

    @app.post("/notes")
    async def create_note(request: Request) -> RedirectResponse:
        saved.append(str((await request.form())["text"]))
        return RedirectResponse("/notes/new", 303)

    with TestClient(app, headers={"origin": ORIGIN}) as client:
        page = client.get("/notes/new")
        field = re.search(
            rf'<input type="hidden" name="{CSRF_FIELD}" value="([0-9a-f]+)">', page.text
        )
        assert field is not None, page.text
        assert "__Host-csrf=" in page.headers["set-cookie"]

        refused = client.post("/notes", data={"text": "forged"})
        accepted = client.post("/notes", data={"text": "hello", CSRF_FIELD: field.group(1)})
    assert refused.status_code == 403
    assert accepted.status_code == 303
    assert saved == ["hello"]


def test_csp_nonce_matches_the_policy_header(tmp_path: Path) -> None:
    page = (
        '<script nonce="{{ csp_nonce() }}">go()</script><style nonce="{{ csp_nonce() }}"></style>'
    )
    app, _ = make_app(tmp_path, {"page.html": page, "plain.html": "<p>no scripts</p>"})

    @app.get("/")
    async def index() -> HTMLResponse:
        return await render("page.html")

    @app.get("/plain")
    async def plain() -> HTMLResponse:
        return await render("plain.html")

    with TestClient(app) as client:
        response = client.get("/")
        plain_policy = client.get("/plain").headers["content-security-policy"]
    nonces = re.findall(r'nonce="([^"]+)"', response.text)
    assert len(nonces) == 2
    assert nonces[0] == nonces[1]
    policy = response.headers["content-security-policy"]
    assert f"script-src 'self' 'nonce-{nonces[0]}'" in policy
    assert f"style-src 'self' 'nonce-{nonces[0]}'" in policy
    assert "nonce" not in plain_policy  # pages that never ask pay nothing


def test_flashed_messages_are_shown_once_and_escaped(tmp_path: Path) -> None:
    page = (
        "{% for m in get_flashed_messages() %}"
        '<p class="{{ m.category }}">{{ m.message }}</p>'
        "{% endfor %}"
    )
    app, _ = make_app(tmp_path, {"page.html": page})
    app.add_middleware(SessionMiddleware())

    @app.post("/save")
    async def save(request: Request) -> RedirectResponse:
        await flash(request, "Saved <b>draft</b>", "success")
        return RedirectResponse("/", 303)

    @app.get("/")
    async def index() -> HTMLResponse:
        return await render("page.html")

    # A bearer-token client: CSRF checks do not apply, the test is about the messages.
    with TestClient(app, headers={"authorization": "Bearer api"}) as client:
        client.post("/save")
        first = client.get("/").text
        second = client.get("/").text
    assert first == '<p class="success">Saved &lt;b&gt;draft&lt;/b&gt;</p>'
    assert second == ""


def test_user_globals_and_filters(tmp_path: Path) -> None:
    app, _ = make_app(
        tmp_path,
        {"page.html": "{{ site }} {{ 'ada'|shout }} {{ url_for() }}"},
        globals={"site": "<Example>", "url_for": lambda: "own url_for"},
        filters={"shout": lambda text: text.upper() + "!"},
    )

    @app.get("/")
    async def index() -> HTMLResponse:
        return await render("page.html")

    with TestClient(app) as client:
        assert client.get("/").text == "&lt;Example&gt; ADA! own url_for"
