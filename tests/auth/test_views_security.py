"""The account pages against hostile input: each test is an attack that must fail.

Same set-up as ``test_views.py`` (real database on SQLite and PostgreSQL, real
sessions, real CSRF), whose helpers these tests reuse.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest

from satchel import Request, Settings
from satchel.auth.throttle import LoginThrottle
from satchel.db import Database
from satchel.middleware import CallNext
from satchel.responses import Response
from satchel.templates import templates_of
from tests.auth.conftest import KEY, PASSWORD, run
from tests.auth.test_views import (
    NEW_PASSWORD,
    Site,
    change,
    confirm_path,
    log_in,
    reset_link,
    submit,
    token_in,
    whoami,
)

FORM = {"content-type": "application/x-www-form-urlencoded"}
GOOD = PASSWORD.replace(" ", "+").encode()

#: Bodies no browser sends, for the login form; each must get a 4xx answer, never a 500.
HOSTILE = {
    "nul-in-username": b"username=ad%00a&password=" + GOOD,
    "percent-encoded-non-utf8": b"username=%FF%FEada&password=x",
    "raw-non-utf8": b"username=\xff\xfeada&password=x",
    "encoded-surrogate": b"username=%ED%A0%80&password=x",
    "duplicate-fields": b"username=ada&username=bob&password=x&password=" + GOOD,
    "huge-username": b"username=" + b"a" * 100_000 + b"&password=x",
    "huge-password": b"username=ada&password=" + b"a" * 100_000,
    "nul-in-password": b"username=ada&password=a%00b",
    "non-utf8-next": b"username=ada&password=" + GOOD + b"&next=%FF",
}
#: The field names of each page's form, replacing the login form's.
PAGES = {
    "/auth/login": {},
    "/auth/password/reset": {b"username=": b"email="},
    "/auth/password/change": {b"username=": b"old_password=", b"password=": b"new_password1="},
}


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_form_bodies_are_client_errors(database: Database, path: str, name: str) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            if path == "/auth/password/change":
                await log_in(client)
            token = token_in((await client.get(path)).text)
            body = HOSTILE[name]
            for old, new in PAGES[path].items():
                body = body.replace(old, new, 1)
            answer = await client.post(
                path, content=body + b"&csrf_token=" + token.encode(), headers=FORM
            )
            assert 400 <= answer.status_code < 500, answer.text
            if path == "/auth/login" and name != "duplicate-fields":
                assert await whoami(client) == "anonymous"

    run(scenario())


def test_a_forged_cross_site_login_is_refused(database: Database) -> None:
    # Login CSRF: another site's form logging the victim in to the attacker's account.
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            token = token_in((await client.get("/auth/login")).text)
            data = {"username": "ada", "password": PASSWORD, "csrf_token": token}
            forged = await client.post(
                "/auth/login", data=data, headers={"origin": "https://evil.example"}
            )
            assert forged.status_code == 403
            stolen = await client.post("/auth/login", data={**data, "csrf_token": "0" * 64})
            assert stolen.status_code == 403
            assert await whoami(client) == "anonymous"

    run(scenario())


@pytest.mark.parametrize(
    "target",
    [
        "%2F%2Fevil.example",  # decoded once more by a careless reader: //evil.example
        "/%5Cevil.example",
        "/%2e%2e//evil.example",
        "/./\\evil.example",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://testserver@evil.example/",
        "https:evil.example",
        "\u3002/evil.example",
    ],
)
def test_more_open_redirects_are_refused(database: Database, target: str) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            response = await log_in(client, next=target)
            assert response.status_code == 303
            assert response.headers["location"] == "/"

    run(scenario())


def test_forwarded_for_does_not_escape_the_address_limit(database: Database) -> None:
    # No trusted proxies: X-Forwarded-For is the client's own claim, not its address.
    site = Site(database, throttle=LoginThrottle(per_address=(3, 900)))

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            for number in range(3):
                client.headers["x-forwarded-for"] = f"198.51.100.{number}"
                assert (await log_in(client, f"guess{number}", "wrong")).status_code == 422
            client.headers["x-forwarded-for"] = "192.0.2.77"
            assert (await log_in(client)).status_code == 429

    run(scenario())


@pytest.mark.parametrize(
    "variant",
    ["ADA", " ada", "ada\t", "\uff41\uff44\uff41", "A\u0064a"],
    ids=["case", "leading-space", "trailing-tab", "full-width", "mixed"],
)
def test_username_variants_share_the_account_count(database: Database, variant: str) -> None:
    site = Site(database, throttle=LoginThrottle(per_account=(3, 900)))

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            for _ in range(3):
                assert (await log_in(client, variant, "wrong")).status_code == 422
            # A name too long for the form is refused before anything is counted or checked.
            assert (await log_in(client, "ada" * 100, "wrong")).status_code == 422
            assert (await log_in(client)).status_code == 429

    run(scenario())


def without_token(page: str) -> str:
    return re.sub(r'name="csrf_token" value="\w+"', "", page)


def test_a_locked_unknown_account_looks_like_a_locked_known_one(database: Database) -> None:
    site = Site(database, throttle=LoginThrottle(per_account=(2, 900)))

    async def locked(username: str) -> tuple[int, dict[str, str], str]:
        async with site.browser() as client:
            for _ in range(2):
                await log_in(client, username, "wrong")
            answer = await log_in(client, username, "wrong")
        headers = {k: v for k, v in answer.headers.items() if k != "set-cookie"}
        return answer.status_code, headers, without_token(answer.text)

    async def scenario() -> None:
        await site.user("ada")
        known, unknown = await locked("ada"), await locked("adb")
        assert known[0] == unknown[0] == 429
        assert known[1] == unknown[1]
        assert known[2].replace("ada", "adb") == unknown[2]

    run(scenario())


def test_every_account_answer_is_no_store(database: Database) -> None:
    site = Site(database, throttle=LoginThrottle(per_account=(1, 900)))

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            answers = [
                await client.get("/auth/login"),
                await log_in(client, password="wrong"),  # 422
                await log_in(client),  # 429
                await client.get("/auth/password/reset"),
                await submit(client, "/auth/password/reset", {"email": "x"}),  # 422
                await client.get(confirm_path("bad")),  # 400
            ]
        for answer in answers:
            assert answer.headers["cache-control"] == "no-store", answer.status_code

    run(scenario())


HOSTILE_NAME = "<b>\"x'</b>{{7*7}}"


def test_user_data_is_escaped_on_every_page(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user(HOSTILE_NAME, email="x@example.com")
        async with site.browser() as client:
            refused = await log_in(client, HOSTILE_NAME, "wrong")
            await log_in(client, HOSTILE_NAME)
            pages = [
                refused.text,
                (await client.get("/auth/login")).text,
                (await client.get("/auth/logout")).text,
                (await client.get("/auth/password/change")).text,
            ]
        for page in pages:
            assert "&lt;b&gt;&#34;x&#39;&lt;/b&gt;{{7*7}}" in page
            assert "<b>" not in page
            assert "49" not in without_token(page)
            assert "<script" not in page
            assert "style=" not in page

    run(scenario())


def test_a_reset_link_goes_only_to_a_host_the_settings_name(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # allowed_hosts "*" answers any Host: the link would point wherever the attacker says.
    site = Site(database, settings=Settings(secret_key=KEY, allowed_hosts=["*"]))

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            # Sent by a script, not a browser: Host and Origin say what the attacker wants.
            client.headers.update({"host": "evil.example", "origin": "https://evil.example"})
            asked = await submit(client, "/auth/password/reset", {"email": "ada@example.com"})
            assert asked.status_code == 303
            assert asked.headers["location"] == "/auth/password/reset/done"
        assert await site.mails(1) == []

    with caplog.at_level(logging.WARNING, "satchel.auth"):
        run(scenario())
    assert "'evil.example' is allowed only by '*'" in caplog.text


def test_a_reset_link_for_a_named_host_is_sent(database: Database) -> None:
    site = Site(database, settings=Settings(secret_key=KEY, allowed_hosts=["*", "testserver"]))

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            await submit(client, "/auth/password/reset", {"email": "ada@example.com"})
        (mail,) = await site.mails(1)
        assert reset_link(mail).startswith("/auth/password/reset/confirm?token=")

    run(scenario())


def test_an_unlisted_host_is_refused_before_any_link_is_made(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            page = await client.get("/auth/password/reset", headers={"host": "evil.example"})
            assert page.status_code == 400

    run(scenario())


def test_the_reset_token_stays_out_of_access_logs_and_referers(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    site = Site(database)

    async def scenario() -> str:
        await site.user()
        async with site.browser() as client:
            await submit(client, "/auth/password/reset", {"email": "ada@example.com"})
            (mail,) = await site.mails(1)
            link = reset_link(mail)
            page = await client.get(link)
            assert page.headers["referrer-policy"] == "no-referrer"
            data = {"new_password1": "short", "new_password2": "short"}
            refused = await submit(client, link, data)
            assert refused.headers["referrer-policy"] == "no-referrer"
            data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
            assert (await submit(client, link, data)).status_code == 303
        return link.partition("token=")[2]

    with caplog.at_level(logging.INFO, "satchel.access"):
        token = run(scenario())
    logged = [r.getMessage() for r in caplog.records if r.name == "satchel.access"]
    assert any("/auth/password/reset/confirm" in line for line in logged)  # the pages...
    assert not any(token in line for line in logged)  # ...but not the token


def test_the_reset_mail_is_made_after_the_response(database: Database) -> None:
    # Rendering the mail in the request would make "an account matched" slower to answer.
    site = Site(database)
    rendered_in: list[asyncio.Task[Any] | None] = []

    def record() -> str:
        rendered_in.append(asyncio.current_task())
        return ""

    handled_in: list[asyncio.Task[Any] | None] = []

    async def note_the_task(request: Request, call_next: CallNext) -> Response:
        handled_in.append(asyncio.current_task())
        return await call_next(request)

    site.target.app.add_middleware(note_the_task)
    templates_of(site.target.app).env.globals["record"] = record
    templates_of(site.target.app).env.loader = _with_recording_mail(
        templates_of(site.target.app).env.loader
    )

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            await submit(client, "/auth/password/reset", {"email": "ada@example.com"})
            await site.mails(1)
        assert len(rendered_in) == 2  # subject and body
        assert handled_in
        assert not set(rendered_in) & set(handled_in)

    run(scenario())


def _with_recording_mail(loader: Any) -> Any:
    """``loader``, with a reset-mail subject that calls ``record()`` when rendered."""
    from jinja2 import ChoiceLoader, DictLoader

    overrides = {
        "auth/password_reset_subject.txt": "{{ record() }}Password reset",
        "auth/password_reset_email.txt": "{{ record() }}{{ link }}\n",
    }
    return ChoiceLoader([DictLoader(overrides), loader])


def test_a_reset_token_dies_with_a_password_change_or_a_login(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user()
        async with site.browser() as client:
            await submit(client, "/auth/password/reset", {"email": "ada@example.com"})
            (first,) = await site.mails(1)
            await log_in(client)
            assert (await client.get(reset_link(first))).status_code == 400
            await submit(client, "/auth/password/reset", {"email": "ada@example.com"})
            second = (await site.mails(2))[1]
            await submit(client, "/auth/password/change", change())
            assert (await client.get(reset_link(second))).status_code == 400

    run(scenario())


def test_a_token_of_one_user_does_not_reset_another(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        await site.user("ada")
        await site.user("grace")
        async with site.browser() as client:
            await submit(client, "/auth/password/reset", {"email": "ada@example.com"})
            (mail,) = await site.mails(1)
            payload, _, rest = reset_link(mail).partition("token=")[2].partition(".")
            # Another payload (grace's id would be 2) under ada's signature: refused.
            forged = confirm_path(payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"))
            assert (await client.get(f"{forged}.{rest}")).status_code == 400
            assert (await client.get(confirm_path("W10"))).status_code == 400

    run(scenario())
