"""A person logs in through the default login page in headless Chromium, and out again.

The app runs in a real Granian server on a SQLite file; it creates the user as it
starts. Like every browser check it skips without Chromium, except in CI (``CI`` set),
where a missing browser fails.
"""

from __future__ import annotations

from pathlib import Path

from tests.auth.conftest import KEY, PASSWORD
from tests.servers import serve
from tests.webdriver import chromium_session

APP = """
import satchel.auth.user
from satchel import App, Settings
from satchel.auth import Auth, CurrentUser, auth_of, login_required
from satchel.auth.hashers import Passwords, PBKDF2Hasher
from satchel.db import Database
from satchel.sessions import SessionMiddleware
from satchel.templates import Templates

app = App(settings=Settings(secret_key={key!r}, allowed_hosts=["127.0.0.1"]))
database = Database({url!r})
database.init_app(app)
Templates(()).init_app(app)
app.add_middleware(SessionMiddleware())
Auth(passwords=Passwords([PBKDF2Hasher(iterations=1000)])).init_app(app)


@app.on_startup
async def create_ada() -> None:
    await database.create_all(satchel.auth.user.User.metadata)
    async with database.transaction() as db:
        await auth_of(app).create_user(db, "ada", {password!r})


@app.get("/private", dependencies=[login_required])
async def private(user: CurrentUser) -> str:
    return f"Hello, {{user.get_username()}}!"
"""


def test_a_person_logs_in_reaches_a_protected_page_and_logs_out(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    source = APP.format(key=KEY, url=url, password=PASSWORD)
    (tmp_path / "served_app.py").write_text(source)

    with (
        serve("granian-rsgi", "served_app:app", cwd=tmp_path) as base,
        chromium_session() as browser,
    ):
        browser.get(f"{base}/private")
        # Not logged in: the guard sends the browser to the login page, with next=.
        username = browser.wait_for(lambda: browser.find_all("#id_username"), "the login form")
        assert browser.execute("return location.pathname + location.search") == (
            "/auth/login?next=%2Fprivate"
        )
        browser.type(username[0], "ada")
        browser.type(browser.find_all("#id_password")[0], PASSWORD)
        browser.click(browser.find_all("#id_remember")[0])
        browser.click(browser.find_all("main button[type=submit]")[0])

        browser.wait_for(
            lambda: browser.execute("return location.pathname") == "/private", "the private page"
        )
        assert browser.execute("return document.body.innerText").strip() == "Hello, ada!"

        browser.get(f"{base}/auth/logout")
        button = browser.wait_for(lambda: browser.find_all("main button"), "the logout form")
        assert "You are logged in as ada." in browser.execute("return document.body.innerText")
        browser.click(button[0])
        browser.wait_for(
            lambda: browser.execute("return location.pathname") == "/", "the page after logout"
        )

        browser.get(f"{base}/private")
        browser.wait_for(lambda: browser.find_all("#id_username"), "the login form again")
        refused = [
            entry["message"]
            for entry in browser.browser_log()
            if "Content Security Policy" in entry["message"]
        ]
        assert refused == []
