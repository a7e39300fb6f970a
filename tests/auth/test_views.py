"""The account pages through the test client: real database, real sessions, real CSRF.

Every form is fetched first and posted back with its CSRF token, as a browser would.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from satchel import Settings
from satchel.auth import Auth, CurrentUser
from satchel.auth.hashers import Passwords, PBKDF2Hasher
from satchel.auth.reset import PasswordResetTokens
from satchel.auth.throttle import LoginThrottle
from satchel.db import Database
from satchel.mail import Mailer, MemoryBackend
from satchel.ratelimit.redis import RedisStore
from satchel.testing import AsyncTestClient
from tests.auth.conftest import KEY, PASSWORD, AuthApp, create_user, make_app, run
from tests.auth.models import Keyholder
from tests.services import REDIS_URL, redis_keys_under_fresh_prefix

COOKIE = "__Host-session"
#: What a browser sends with a same-origin form POST.
BROWSER = {"origin": "https://testserver", "accept": "text/html"}
NEW_PASSWORD = "a brand new passphrase 42"
INVALID_LOGIN = "Please enter a correct username and password."


def fast_auth(**options: Any) -> Auth:
    """An Auth whose hasher is quick (the pages, not the hashing, are under test)."""
    return Auth(passwords=Passwords([PBKDF2Hasher(iterations=1000)]), **options)


class Site:
    """The app with its pages, its mail outbox, and a way to make browsers for it."""

    def __init__(
        self, database: Database, *, settings: Settings | None = None, **auth_options: Any
    ) -> None:
        self.target: AuthApp = make_app(
            database, fast_auth(**auth_options), routes=True, settings=settings
        )
        self.outbox = MemoryBackend()
        Mailer(self.outbox).init_app(self.target.app)

        @self.target.app.get("/private")
        async def private(user: CurrentUser) -> str:
            return f"hello {user.get_username()}" if user.is_authenticated else "anonymous"

    @asynccontextmanager
    async def browser(
        self, client: tuple[str, int] = ("203.0.113.9", 5000)
    ) -> AsyncIterator[AsyncTestClient]:
        """A browser of its own (cookies), from ``client``'s address.

        Not entered: leaving a client ends the app's lifespan, which closes its Database
        and with it (PostgreSQL) the test's transaction, while other browsers of the
        test go on using it.
        """
        browser = AsyncTestClient(self.target.app, headers=BROWSER, client=client)
        try:
            yield browser
        finally:
            await browser.aclose()

    async def user(self, username: str = "ada", **fields: Any) -> Any:
        """Create a user (password ``PASSWORD``, e-mail ``<username>@example.com``)."""
        fields.setdefault("email", f"{username}@example.com")
        return await create_user(self.target, username, **fields)

    async def mails(self, count: int) -> list[Any]:
        """The outbox once it holds ``count`` messages (they are sent by a task of their own)."""
        for _ in range(100):  # turns of the event loop, not time
            if len(self.outbox.outbox) >= count:
                break
            await asyncio.sleep(0)
        return list(self.outbox.outbox)


def token_in(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert match is not None, page
    return match[1]


async def submit(
    client: AsyncTestClient, path: str, data: dict[str, str], *, form: str | None = None
) -> httpx.Response:
    """GET the form at ``form`` (default ``path``), then POST ``data`` with its CSRF token."""
    page = await client.get(form or path)
    assert page.status_code == 200, page.text
    return await client.post(path, data={**data, "csrf_token": token_in(page.text)})


async def log_in(
    client: AsyncTestClient,
    username: str = "ada",
    password: str = PASSWORD,
    *,
    query: str = "",
    **extra: str,
) -> httpx.Response:
    return await submit(
        client,
        "/auth/login",
        {"username": username, "password": password, **extra},
        form=f"/auth/login{query}",
    )


async def whoami(client: AsyncTestClient) -> str:
    return (await client.get("/private")).text


# -- the login page ----------------------------------------------------------------------


def test_the_login_page_is_accessible_html_without_inline_code(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        async with site.browser() as client:
            page = await client.get("/auth/login")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["cache-control"] == "no-store"
        html = page.text
        assert html.startswith("<!doctype html>")
        assert '<label for="id_username">Username</label>' in html
        assert '<label for="id_password">Password</label>' in html
        assert 'autocomplete="username"' in html
        assert 'autocomplete="current-password"' in html
        assert 'type="checkbox" name="remember"' in html
        assert 'name="csrf_token"' in html
        assert '<form method="post" action="/auth/login">' in html
        assert "<script" not in html
        assert "style" not in html
        assert "http" not in html.replace('<meta name="viewport"', "")  # no CDN, no links out

    run(scenario())


def test_the_username_field_is_as_long_as_the_models_column(database: Database) -> None:
    site = Site(database)
    keyholders = Site(database, user_model=Keyholder)  # its username column is String(80)

    async def scenario() -> None:
        async with site.browser() as client:
            assert 'maxlength="150"' in (await client.get("/auth/login")).text
            too_long = await log_in(client, "a" * 151)
            assert too_long.status_code == 422
            assert INVALID_LOGIN not in too_long.text  # refused by the form, not looked up
        async with keyholders.browser() as client:
            assert 'maxlength="80"' in (await client.get("/auth/login")).text

    run(scenario())


def test_logging_in_redirects_and_the_session_knows_the_user(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            before = client.cookies.get(COOKIE)
            response = await log_in(client)
            assert response.status_code == 303
            assert response.headers["location"] == "/"
            assert client.cookies[COOKIE] != before  # a new session: no fixation
            assert await whoami(client) == "hello ada"
            # Logged in, the page still shows (to switch accounts) and says who is in.
            again = await client.get("/auth/login")
            assert "You are logged in as ada." in again.text

    run(scenario())


@pytest.mark.parametrize(
    ("username", "password", "fields"),
    [
        ("ada", "wrong password", {}),
        ("nobody", PASSWORD, {}),
        ("ada", PASSWORD, {"is_active": False}),
        ("ADA", PASSWORD, {}),
    ],
    ids=["wrong-password", "unknown-user", "inactive", "other-case"],
)
def test_a_refused_login_says_the_same_whatever_the_reason(
    database: Database, username: str, password: str, fields: dict[str, Any]
) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user(**fields)
        async with site.browser() as client:
            refused = await log_in(client, username, password)
            assert refused.status_code == 422
            assert INVALID_LOGIN in refused.text
            assert 'role="alert"' in refused.text
            assert f'value="{username}"' in refused.text  # the username is kept...
            assert f'value="{password}"' not in refused.text  # ...never the password
            assert await whoami(client) == "anonymous"

    run(scenario())


def test_an_incomplete_form_is_shown_again_with_its_errors(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        async with site.browser() as client:
            refused = await log_in(client, "ada", "")
        assert refused.status_code == 422
        assert "This field is required." in refused.text
        assert 'aria-describedby="id_password-errors"' in refused.text

    run(scenario())


def test_next_takes_the_user_back_where_they_were(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            page = await client.get("/auth/login?next=/private%3Fa%3D1")
            assert '<input type="hidden" name="next" value="/private?a=1">' in page.text
            response = await log_in(client, query="?next=/private", next="/private?a=1")
            assert response.headers["location"] == "/private?a=1"

    run(scenario())


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "http://testserver.evil.example/",
        "/\\evil.example",
        "/%2F/evil.example",
        "javascript:alert(1)",
        " /private",
        "/\t/evil.example",
    ],
)
def test_open_redirects_are_refused(database: Database, target: str) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            page = await client.get("/auth/login", params={"next": target})
            assert 'name="next"' not in page.text  # not even carried along
            response = await log_in(client, next=target)
            assert response.status_code == 303
            assert response.headers["location"] == "/"

    run(scenario())


def test_login_redirect_url_is_the_default_target(database: Database) -> None:
    site = Site(database, login_redirect_url="/private")

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            assert (await log_in(client)).headers["location"] == "/private"

    run(scenario())


def session_cookie_header(response: httpx.Response) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")]
    assert len(headers) == 1, response.headers
    return headers[0].lower()


def test_remember_me_keeps_the_cookie_after_the_browser_closes(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            remembered = session_cookie_header(await log_in(client, remember="on"))
        async with site.browser() as client:
            forgotten = session_cookie_header(await log_in(client))
        assert "max-age=" in remembered or "expires=" in remembered
        assert "max-age=" not in forgotten
        assert "expires=" not in forgotten

    run(scenario())


def test_a_login_without_the_csrf_token_is_refused(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            await client.get("/auth/login")
            forged = await client.post(
                "/auth/login", data={"username": "ada", "password": PASSWORD}
            )
            assert forged.status_code == 403
            assert await whoami(client) == "anonymous"

    run(scenario())


# -- logging out -------------------------------------------------------------------------


def test_logout_asks_on_get_and_logs_out_on_post_only(database: Database) -> None:
    site = Site(database, logout_redirect_url="/private")

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            await log_in(client)
            confirm = await client.get("/auth/logout")
            assert confirm.status_code == 200
            assert "You are logged in as ada." in confirm.text
            assert '<form method="post" action="/auth/logout">' in confirm.text
            assert await whoami(client) == "hello ada"  # a GET changes nothing
            forged = await client.post("/auth/logout")  # no CSRF token
            assert forged.status_code == 403
            assert await whoami(client) == "hello ada"
            done = await submit(client, "/auth/logout", {})
            assert done.status_code == 303
            assert done.headers["location"] == "/private"
            assert await whoami(client) == "anonymous"

    run(scenario())


# -- throttling --------------------------------------------------------------------------


def test_failed_logins_are_throttled_per_account(database: Database) -> None:
    # A clock standing a minute into a window: the wait shown does not depend on the hour.
    throttle = LoginThrottle(per_account=(3, 900), clock=lambda: 900.0 * 1_900_000 + 60)
    site = Site(database, throttle=throttle)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            for _ in range(3):
                assert (await log_in(client, password="wrong")).status_code == 422
            # Over the limit, even the right password is refused, before it is checked.
            refused = await log_in(client, "Ada ")
            assert refused.status_code == 429
            assert 840 <= int(refused.headers["retry-after"]) <= 841
            assert "Too many failed login attempts." in refused.text
            assert "Please wait 15 minutes and try again." in refused.text
            assert await whoami(client) == "anonymous"
        async with site.browser(client=("198.51.100.1", 1)) as other:
            # The guesser's lock is not the owner's: from another address ada logs in...
            assert (await log_in(other)).status_code == 303
            # ...and other accounts are not affected.
            await site.user("grace")
            assert (await log_in(other, "grace")).status_code == 303
        async with site.browser() as client:
            assert (await log_in(client)).status_code == 429  # still locked for the guesser

    run(scenario())


def test_failed_logins_are_throttled_per_address(database: Database) -> None:
    site = Site(database, throttle=LoginThrottle(per_address=(4, 900)))

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            for number in range(4):
                await log_in(client, f"guess{number}", "wrong")
            assert (await log_in(client)).status_code == 429
        async with site.browser(client=("198.51.100.1", 1)) as elsewhere:
            assert (await log_in(elsewhere)).status_code == 303

    run(scenario())


def test_a_successful_login_clears_the_account_count(database: Database) -> None:
    site = Site(database, throttle=LoginThrottle(per_account=(3, 900)))

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            for _ in range(2):
                await log_in(client, password="wrong")
            assert (await log_in(client)).status_code == 303
            for _ in range(2):
                assert (await log_in(client, password="wrong")).status_code == 422
            assert (await log_in(client)).status_code == 303

    run(scenario())


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    yield from redis_keys_under_fresh_prefix("auth-views")


def test_throttling_counts_in_redis_across_workers(database: Database, redis_prefix: str) -> None:
    async def scenario() -> None:
        stores = [RedisStore(REDIS_URL, prefix=redis_prefix) for _ in "ab"]
        # Two apps on one database stand for two worker processes.
        sites = [Site(database, throttle=LoginThrottle(s, per_account=(2, 900))) for s in stores]
        await sites[0].user()
        try:
            async with sites[0].browser() as first, sites[1].browser() as second:
                assert (await log_in(first, password="wrong")).status_code == 422
                assert (await log_in(second, password="wrong")).status_code == 422
                assert (await log_in(first)).status_code == 429
                assert (await log_in(second)).status_code == 429
        finally:
            for store in stores:
                await store.aclose()

    run(scenario())


def test_throttling_can_be_switched_off(database: Database) -> None:
    site = Site(database, throttle=False)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            for _ in range(8):
                assert (await log_in(client, password="wrong")).status_code == 422
            assert (await log_in(client)).status_code == 303

    run(scenario())


# -- changing the password ---------------------------------------------------------------


def change(
    old: str = PASSWORD, new: str = NEW_PASSWORD, again: str | None = None
) -> dict[str, str]:
    return {
        "old_password": old,
        "new_password1": new,
        "new_password2": new if again is None else again,
    }


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    database: Database,
) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as laptop, site.browser() as phone:
            await log_in(laptop)
            await log_in(phone)
            page = await laptop.get("/auth/password/change")
            assert page.status_code == 200
            for token in ("current-password", "new-password", "username"):
                assert f'autocomplete="{token}"' in page.text
            assert 'aria-describedby="id_new_password1-help"' in page.text
            changed = await submit(laptop, "/auth/password/change", change())
            assert changed.status_code == 303
            assert changed.headers["location"] == "/auth/password/change/done"
            done = await laptop.get("/auth/password/change/done")
            assert "Your password was changed." in done.text
            assert await whoami(laptop) == "hello ada"
            assert await whoami(phone) == "anonymous"
        async with site.browser() as client:
            assert (await log_in(client)).status_code == 422  # the old password is gone
            assert (await log_in(client, password=NEW_PASSWORD)).status_code == 303

    run(scenario())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (change(old="not it"), "Your old password was entered incorrectly."),
        (change(again="something else entirely"), "The two password fields didn&#39;t match."),
        (change(new="12345678901"), "This password is entirely numeric"),
        (change(new="short"), "This password is too short"),
        (change(new="ada-example-com"), "too similar"),
    ],
)
def test_a_password_change_is_refused_with_a_reason(
    database: Database, data: dict[str, str], message: str
) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            await log_in(client)
            refused = await submit(client, "/auth/password/change", data)
            assert refused.status_code == 422
            assert message in refused.text
        async with site.browser() as client:
            assert (await log_in(client)).status_code == 303  # the password is unchanged

    run(scenario())


def test_changing_the_password_needs_a_login(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        async with site.browser() as client:
            page = await client.get("/auth/password/change")
            assert page.status_code == 303
            assert page.headers["location"] == "/auth/login?next=%2Fauth%2Fpassword%2Fchange"

    run(scenario())


def test_guessing_the_old_password_is_throttled(database: Database) -> None:
    site = Site(database, throttle=LoginThrottle(per_account=(2, 900)))

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            await log_in(client)
            for _ in range(2):
                await submit(client, "/auth/password/change", change(old="guess"))
            refused = await submit(client, "/auth/password/change", change())
            assert refused.status_code == 429
            assert "Too many wrong passwords." in refused.text

    run(scenario())


# -- resetting a forgotten password ------------------------------------------------------


def confirm_path(token: str) -> str:
    """The path of the reset link's page for ``token``."""
    return f"/auth/password/reset/confirm?token={token}"


def reset_link(mail: Any) -> str:
    match = re.search(
        r"https://testserver(/auth/password/reset/confirm\?token=[\w.-]+)\n", mail.body
    )
    assert match is not None, mail.body
    return match[1]


def test_a_forgotten_password_is_reset_through_the_mailed_link(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user(email="Ada@Example.com")
        async with site.browser() as client:
            await log_in(client)  # a session from before the reset
            asked = await submit(client, "/auth/password/reset", {"email": "ada@example.COM"})
            assert asked.status_code == 303
            assert asked.headers["location"] == "/auth/password/reset/done"
            (mail,) = await site.mails(1)
            assert mail.to == ("Ada@Example.com",)
            assert mail.subject == "Password reset on testserver"
            assert "Your username, in case you've forgotten: ada" in mail.body
            link = reset_link(mail)
            page = await client.get(link)
            assert page.status_code == 200
            assert page.headers["referrer-policy"] == "no-referrer"
            assert 'autocomplete="new-password"' in page.text
            data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
            done = await submit(client, link, data)
            assert done.status_code == 303
            assert done.headers["location"] == "/auth/password/reset/complete"
            complete = await client.get("/auth/password/reset/complete")
            assert "Your password has been set." in complete.text
            assert await whoami(client) == "anonymous"  # every session of the old password ended
            # The link worked once.
            reused = await client.get(link)
            assert reused.status_code == 400
            assert "The password reset link was invalid" in reused.text
            assert '<a href="/auth/password/reset">' in reused.text
            assert (await log_in(client, password=NEW_PASSWORD)).status_code == 303

    run(scenario())


@pytest.mark.parametrize(
    ("email", "fields"),
    [
        ("nobody@example.com", {}),
        ("ada@example.com", {"is_active": False}),
        ("ada@example.com", {"password": None}),  # an unusable password
    ],
    ids=["unknown", "inactive", "unusable-password"],
)
def test_a_reset_answers_the_same_and_sends_nothing_without_an_account(
    database: Database, email: str, fields: dict[str, Any]
) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user(**fields)
        async with site.browser() as client:
            asked = await submit(client, "/auth/password/reset", {"email": email})
            assert asked.status_code == 303
            assert asked.headers["location"] == "/auth/password/reset/done"
            done = await client.get(asked.headers["location"])
            assert "if an account exists with the email you entered" in done.text
        assert await site.mails(1) == []

    run(scenario())


def test_every_account_with_the_address_gets_its_own_link(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user("ada", email="shared@example.com")
        await site.user("grace", email="shared@example.com")
        async with site.browser() as client:
            await submit(client, "/auth/password/reset", {"email": "shared@example.com"})
        mails = await site.mails(2)
        assert len(mails) == 2
        assert len({reset_link(mail) for mail in mails}) == 2

    run(scenario())


async def token_for(site: Site, created: Any, *, clock: Any = None) -> str:
    """A reset token for the user ``created`` as the database holds it now."""
    async with site.target.database.transaction() as db:
        user = await site.target.auth.get_user(db, created.id)
        options = {} if clock is None else {"clock": clock}
        return PasswordResetTokens([KEY], **options).make_token(user)


def test_an_expired_link_is_refused(database: Database) -> None:
    site = Site(database, reset_timeout=600)

    async def scenario() -> None:
        ada = await site.user()
        stale = await token_for(site, ada, clock=lambda: time.time() - 601)
        fresh = await token_for(site, ada, clock=lambda: time.time() - 590)
        async with site.browser() as client:
            assert (await client.get(confirm_path(stale))).status_code == 400
            assert (await client.get(confirm_path(fresh))).status_code == 200

    run(scenario())


def test_a_link_dies_when_the_password_changes_or_the_user_logs_in(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        ada = await site.user()
        before_login = await token_for(site, ada)
        async with site.browser() as client:
            await log_in(client)
            assert (await client.get(confirm_path(before_login))).status_code == 400
            before_change = await token_for(site, ada)
            assert (await client.get(confirm_path(before_change))).status_code == 200
            await submit(client, "/auth/password/change", change())
            assert (await client.get(confirm_path(before_change))).status_code == 400

    run(scenario())


@pytest.mark.parametrize("token", ["nonsense", "a.b.c", "x" * 600])
def test_a_bad_link_is_refused(database: Database, token: str) -> None:
    site = Site(database)

    async def scenario() -> None:
        async with site.browser() as client:
            page = await client.get(confirm_path(token))
            assert page.status_code == 400
            assert "Request a new password reset" in page.text
            posted = await client.post(
                confirm_path(token),
                data={"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            )
            assert posted.status_code in (400, 403)

    run(scenario())


def test_the_new_password_is_validated(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        ada = await site.user()
        token = await token_for(site, ada)
        link = confirm_path(token)
        async with site.browser() as client:
            refused = await submit(client, link, {"new_password1": "ada", "new_password2": "ada"})
            assert refused.status_code == 422
            assert "This password is too short" in refused.text
            # Still usable: nothing changed.
            assert (await client.get(link)).status_code == 200

    run(scenario())


def test_the_reset_request_page_is_a_plain_form(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        async with site.browser() as client:
            page = await client.get("/auth/password/reset")
            assert 'type="email"' in page.text
            assert 'autocomplete="email"' in page.text
            refused = await submit(client, "/auth/password/reset", {"email": "not an address"})
            assert refused.status_code == 422
        assert await site.mails(1) == []

    run(scenario())
