"""The demo app (examples/demo): its JSON API, its pages, and what outside tools find in them.

Each test runs the demo on a SQLite file of its own, named by ``SATCHEL_DATABASE_URL``
as a user would, with a user who logs in through the demo's login page (writing and
deleting notes needs a login). schemathesis generates requests from the demo's own OpenAPI
document, valid and invalid, and sends them to the demo served by a real Granian
server; it fails on any 5xx and on any response the document does not allow (status,
content type, body schema, headers). Headless Chromium fills in and submits the
demo's form, as a person would.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
import sqlalchemy.orm

from satchel import App
from satchel.auth import auth_of
from satchel.db import database_of
from satchel.testing import TestClient
from tests.servers import BIN, serve
from tests.webdriver import WebDriver, chromium_session

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
# A browser sends Origin with its POSTs; the test client sends what it is told.
ORIGIN = {"origin": "https://testserver"}
HOSTILE = "<script>alert(1)</script>\"'&"
USERNAME = "demo"
PASSWORD = "a demo passphrase 42"


@functools.cache
def demo_module() -> ModuleType:
    """examples/demo/app.py, imported once (its models are defined once per process)."""
    spec = importlib.util.spec_from_file_location("satchel_demo_app", DEMO / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so type hints resolve against the module
    spec.loader.exec_module(module)
    return module


def database_env(tmp_path: Path) -> dict[str, str]:
    return {"SATCHEL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"}


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The demo module, its apps configured to use a database in tmp_path."""
    for name, value in database_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SATCHEL_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the repository; satchel.db would land here
    return demo_module()


def add_user(app: App[object]) -> None:
    """Add the demo user to ``app``'s database (as ``satchel createsuperuser`` would)."""
    auth = auth_of(app)
    engine = database_of(app).sync_engine
    try:
        with sa.orm.Session(engine) as db, db.begin():
            password = auth.passwords.hash_sync(PASSWORD)
            db.add(auth.user_model(username=USERNAME, email="demo@example.com", password=password))
    finally:
        engine.dispose()


def log_in(client: TestClient) -> None:
    """Log ``client`` in through the login page; its API calls then carry a CSRF token."""
    page = client.get("/auth/login").text
    data = {"username": USERNAME, "password": PASSWORD, "csrf_token": csrf_token(page)}
    assert client.post("/auth/login", data=data).status_code == 303
    # The session cookie makes API writes subject to CSRF: send a token, as pages' scripts do.
    client.headers["x-csrf-token"] = csrf_token(client.get("/auth/logout").text)


@pytest.fixture
def client(demo: ModuleType) -> Iterator[TestClient]:
    """A browser logged in to the demo."""
    app = demo.create_app()
    add_user(app)
    with TestClient(app, headers=ORIGIN) as client:
        log_in(client)
        yield client


@pytest.fixture
def anonymous(demo: ModuleType) -> Iterator[TestClient]:
    """A client nobody logged in with."""
    with TestClient(demo.create_app(), headers=ORIGIN) as client:
        yield client


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="(\w+)"', page)
    assert match is not None, page
    return match[1]


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash success" role="status">(.*?)</p>', page)


# -- the JSON API ------------------------------------------------------------------------


def test_notes_api_round_trip(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/").status_code == 200
    assert [n["title"] for n in client.get("/api/notes").json()] == ["Welcome"]
    created = client.post("/api/notes", json={"title": "Buy milk", "tags": ["home"]})
    assert created.status_code == 201
    note = created.json()
    assert note == {"title": "Buy milk", "body": "", "tags": ["home"], "id": 2}
    assert client.get(f"/api/notes/{note['id']}").json() == note
    assert client.get("/api/notes?tag=home").json() == [note]
    assert client.delete(f"/api/notes/{note['id']}").status_code == 204
    assert client.get(f"/api/notes/{note['id']}").status_code == 404
    assert (tmp_path / "demo.db").is_file()  # the database the environment named
    assert not (tmp_path / "satchel.db").exists()


def test_notes_api_lists_pages_and_tags_exactly(client: TestClient) -> None:
    for title, tags in [("a", ["home"]), ("b", ["homework"]), ("c", ["work", "home"])]:
        assert client.post("/api/notes", json={"title": title, "tags": tags}).status_code == 201
    assert [n["title"] for n in client.get("/api/notes?tag=home").json()] == ["a", "c"]
    assert [n["title"] for n in client.get("/api/notes?tag=hom").json()] == []
    listed = client.get("/api/notes?limit=2&offset=1").json()
    assert [n["title"] for n in listed] == ["a", "b"]


def test_notes_are_kept_across_restarts(demo: ModuleType) -> None:
    app = demo.create_app()
    add_user(app)
    with TestClient(app, headers=ORIGIN) as client:
        log_in(client)
        client.post("/api/notes", json={"title": "Kept"})
    with TestClient(demo.create_app()) as client:  # the same file: no second welcome note
        assert [n["title"] for n in client.get("/api/notes").json()] == ["Welcome", "Kept"]


def test_notes_api_refuses_bad_input_with_every_reason(client: TestClient) -> None:
    refused = client.post("/api/notes?", json={"title": "", "tags": ["Not A Tag"], "colour": "red"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["location"] == "body"
    listed = client.get("/api/notes?limit=0&offset=-1")
    assert [e["name"] for e in listed.json()["errors"]] == ["limit", "offset"]
    assert client.get("/api/notes?tag=Not%20A%20Tag").status_code == 422


@pytest.mark.parametrize("note_id", ["0", "-1", str(2**31), str(2**63), "9" * 30])
def test_ids_no_note_can_have_are_not_found(client: TestClient, note_id: str) -> None:
    # Beyond the column's range the database would fail (a 500): they never reach it.
    assert client.get(f"/api/notes/{note_id}").status_code == 404
    assert client.delete(f"/api/notes/{note_id}").status_code == 404
    assert client.get(f"/notes/{note_id}").status_code == 404


def test_the_store_is_bounded(demo: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "MAX_NOTES", 2)
    app = demo.create_app()
    add_user(app)
    with TestClient(app, headers=ORIGIN) as client:
        log_in(client)
        assert client.post("/api/notes", json={"title": "two"}).status_code == 201
        full = client.post("/api/notes", json={"title": "three"})
        assert full.status_code == 409
        assert full.json()["detail"] == "The demo store is full (2 notes)"
        token = csrf_token(client.get("/notes/new").text)
        page = client.post("/notes/new", data={"title": "three", "csrf_token": token})
        assert page.status_code == 409
        assert [n["title"] for n in client.get("/api/notes").json()] == ["Welcome", "two"]


def test_the_secret_key_is_random_unless_set(
    demo: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = demo.create_app(), demo.create_app()
    assert first.secret_keys[0] != second.secret_keys[0]  # random, never a fixed one
    monkeypatch.setenv("SATCHEL_SECRET_KEY", "k" * 50)
    assert demo.create_app().secret_keys[0] == "k" * 50


# -- logging in --------------------------------------------------------------------------


def test_writing_needs_a_login_and_reading_does_not(anonymous: TestClient) -> None:
    assert anonymous.get("/api/notes").status_code == 200
    refused = anonymous.post("/api/notes", json={"title": "Anonymous"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert anonymous.delete("/api/notes/1").status_code == 401
    page = anonymous.get("/notes/new", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/login?next=%2Fnotes%2Fnew"
    assert [n["title"] for n in anonymous.get("/api/notes").json()] == ["Welcome"]


def test_the_api_document_says_which_operations_need_a_login(anonymous: TestClient) -> None:
    document = anonymous.get("/openapi.json").json()
    operations = document["paths"]["/api/notes"]
    assert "security" not in operations["get"]
    assert operations["post"]["security"]
    assert "401" in operations["post"]["responses"]
    assert "401" in document["paths"]["/api/notes/{note_id}"]["delete"]["responses"]
    assert document["components"]["securitySchemes"]


def test_the_login_page_has_the_demo_layout(anonymous: TestClient) -> None:
    page = anonymous.get("/auth/login").text
    assert "<title>Log in · Satchel demo</title>" in page
    assert '<a href="/auth/login">Log in</a>' in page
    assert 'autocomplete="current-password"' in page


def test_a_user_made_with_createsuperuser_logs_in(demo: ModuleType) -> None:
    # The environment names the test's database (see the demo fixture), as the README says.
    env = {**os.environ, "SATCHEL_SUPERUSER_PASSWORD": PASSWORD}
    created = subprocess.run(
        [
            str(BIN / "satchel"),
            *("--app", "app:app", "createsuperuser", "--no-input"),
            *("--username", USERNAME, "--email", "demo@example.com"),
        ],
        cwd=DEMO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    with TestClient(demo.create_app(), headers=ORIGIN) as client:
        log_in(client)
        assert client.post("/api/notes", json={"title": "Mine"}).status_code == 201


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    with serve(
        "granian-rsgi",
        "app:app",
        cwd=DEMO,
        env=database_env(tmp_path),
        log=tmp_path / "server.log",
    ) as url:
        result = subprocess.run(
            [
                str(BIN / "st"),
                "run",
                f"{url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "15",
                "--max-time",
                "60",
                "--workers",
                "1",
                "--request-timeout",
                "10",
                "--wait-for-schema",
                "10",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1"},
            check=False,
        )
    if result.returncode != 0:
        report = f"{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
        pytest.fail(f"schemathesis found problems:\n{report}")
    assert (tmp_path / "demo.db").is_file()


# -- the pages ---------------------------------------------------------------------------


def test_the_home_page_links_the_sections(client: TestClient) -> None:
    page = client.get("/").text
    assert '<a href="/notes">' in page
    assert '<a href="/docs">' in page
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert stylesheet is not None
    served = client.get(stylesheet[1])
    assert served.headers["content-type"] == "text/css; charset=utf-8"
    assert ".flash" in served.text
    # The default policy allows the stylesheet, same-origin, and no inline style at all.
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_the_list_is_paginated_newest_first(client: TestClient) -> None:
    for number in range(1, 13):  # with the welcome note: 13 notes, 2 pages of 10
        client.post("/api/notes", json={"title": f"Note {number}", "tags": ["many"]})
    first = client.get("/notes")
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/html; charset=utf-8"
    titles = re.findall(r'<li><a href="/notes/\d+">(.*?)</a>', first.text)
    assert titles == [f"Note {number}" for number in range(12, 2, -1)]
    assert '<nav class="pagination" aria-label="Pages of notes">' in first.text
    assert '<a href="?page=2" rel="next">Next</a>' in first.text
    second = client.get("/notes?page=2").text
    titles = re.findall(r'<li><a href="/notes/\d+">(.*?)</a>', second)
    assert titles == ["Note 2", "Note 1", "Welcome"]
    assert '<a href="?page=2" aria-current="page">2</a>' in second
    assert "13 notes" in second
    assert "No notes here." in client.get("/notes?page=3").text
    assert client.get("/notes?page=0").status_code == 422
    assert client.get(f"/notes?page={10**30}").status_code == 422


def test_the_list_filters_by_tag_and_pages_keep_the_filter(client: TestClient) -> None:
    for number in range(11):
        client.post("/api/notes", json={"title": f"Tagged {number}", "tags": ["work"]})
    page = client.get("/notes?tag=work").text
    assert "<h1>Notes tagged “work”</h1>" in page
    assert "Welcome" not in page
    assert '<a href="?tag=work&amp;page=2" rel="next">Next</a>' in page
    assert client.get("/notes?tag=%3Cb%3E").status_code == 422  # never echoed into the page


def test_the_detail_page_shows_one_note(client: TestClient) -> None:
    page = client.get("/notes/1")
    assert page.status_code == 200
    assert "<h1>Welcome</h1>" in page.text
    assert '<a href="/notes?tag=hello">hello</a>' in page.text
    assert '<p class="body">Satchel is running on embedded defaults.</p>' in page.text
    assert client.get("/notes/2").status_code == 404


def test_the_form_is_rerendered_with_every_error_and_the_input_kept(client: TestClient) -> None:
    form = client.get("/notes/new").text
    assert '<label for="id_title">Title</label>' in form
    assert 'name="title" id="id_title" required maxlength="200"' in form
    token = csrf_token(form)
    data = {"title": "", "body": "Keep me", "tags": "Not-OK fine", "csrf_token": token}
    refused = client.post("/notes/new", data=data)
    assert refused.status_code == 422
    assert "This field is required." in refused.text
    assert "Use up to 10 tags of a-z, 0-9 and -, 30 characters at most." in refused.text
    assert ">\nKeep me</textarea>" in refused.text
    assert 'value="Not-OK fine"' in refused.text
    too_many = client.post(
        "/notes/new", data={"title": "x" * 201, "tags": " ".join("t" * 11), "csrf_token": token}
    )
    assert "Ensure this value has at most 200 characters (it has 201)." in too_many.text
    assert "Use up to 10 tags" in too_many.text
    assert [n["title"] for n in client.get("/api/notes").json()] == ["Welcome"]


def test_a_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    del client.headers["x-csrf-token"]  # a forged form sends no header either
    client.get("/notes/new")  # the browser now holds the CSRF cookie
    refused = client.post("/notes/new", data={"title": "Forged"})
    assert refused.status_code == 403
    forged = client.post("/notes/new", data={"title": "Forged", "csrf_token": "0" * 128})
    assert forged.status_code == 403
    assert [n["title"] for n in client.get("/api/notes").json()] == ["Welcome"]


def test_creating_a_note_redirects_to_it_and_flashes_once(client: TestClient) -> None:
    token = csrf_token(client.get("/notes/new").text)
    data = {"title": " Groceries ", "body": "eggs\nmilk", "tags": "home  shop", "csrf_token": token}
    created = client.post("/notes/new", data=data)
    assert created.status_code == 303
    assert created.headers["location"] == "/notes/2"
    page = client.get("/notes/2").text
    assert flashes(page) == ["Note created"]
    assert "<h1>Groceries</h1>" in page
    assert '<p class="body">eggs\nmilk</p>' in page
    assert flashes(client.get("/notes/2").text) == []  # shown once
    note = client.get("/api/notes/2").json()
    assert note == {"id": 2, "title": "Groceries", "body": "eggs\nmilk", "tags": ["home", "shop"]}


def test_a_hostile_title_is_escaped_everywhere(client: TestClient) -> None:
    token = csrf_token(client.get("/notes/new").text)
    client.post("/notes/new", data={"title": HOSTILE, "body": HOSTILE, "csrf_token": token})
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;"
    for path in ("/notes", "/notes/2"):
        page = client.get(path).text
        assert "<script>" not in page
        assert escaped in page
    refused = client.post("/notes/new", data={"title": "", "tags": HOSTILE, "csrf_token": token})
    assert "<script>" not in refused.text
    assert f'value="{escaped}"' in refused.text


def test_a_person_logs_in_and_creates_a_note_in_chromium(demo: ModuleType, tmp_path: Path) -> None:
    add_user(demo.create_app())  # the server's database (the demo fixture named it)
    with (
        serve(
            "granian-rsgi",
            "app:app",
            cwd=DEMO,
            env=database_env(tmp_path),
            log=tmp_path / "server.log",
        ) as url,
        chromium_session() as browser,
    ):
        browser.get(f"{url}/notes")
        browser.click(browser.find_all("main a[href='/notes/new']")[0])
        # Writing needs a login: the login page, in the demo's layout, then back to the form.
        username = browser.wait_for(lambda: browser.find_all("#id_username"), "the login form")
        browser.type(username[0], USERNAME)
        browser.type(browser.find_all("#id_password")[0], PASSWORD)
        browser.click(browser.find_all("main button[type=submit]")[0])
        title = browser.wait_for(lambda: browser.find_all("#id_title"), "the form")[0]
        browser.type(title, "Written in Chromium <b>")
        browser.type(browser.find_all("#id_body")[0], "line one\nline two")
        browser.type(browser.find_all("#id_tags")[0], "browser demo")
        browser.click(browser.find_all("button[type=submit]")[0])

        flash = browser.wait_for(lambda: browser.find_all(".flash"), "the flash message")[0]
        assert browser.text(flash) == "Note created"
        assert browser.execute("return location.pathname") == "/notes/2"
        heading = browser.find_all("h1")[0]
        assert browser.text(heading) == "Written in Chromium <b>"
        assert_styled(browser)

        browser.get(f"{url}/notes/2")  # the flash was shown once
        browser.wait_for(lambda: browser.find_all("h1"), "the note again")
        assert browser.find_all(".flash") == []
        browser.get(f"{url}/notes")
        listed = browser.wait_for(lambda: browser.find_all(".notes a[href='/notes/2']"), "a link")
        assert browser.text(listed[0]) == "Written in Chromium <b>"
        refused = [
            entry["message"]
            for entry in browser.browser_log()
            if "Content Security Policy" in entry["message"]
        ]
        assert refused == []


def assert_styled(browser: WebDriver) -> None:
    """The stylesheet loaded (the policy let it): the body keeps its line breaks."""
    script = "return getComputedStyle(document.querySelector('.note .body')).whiteSpace"
    assert browser.execute(script) == "pre-wrap"
    assert browser.text(browser.find_all(".note .body")[0]) == "line one\nline two"
