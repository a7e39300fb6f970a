"""Password-reset tokens: signed, expiring, bound to the account's state.

The reset pages that use them (e-mail, link, new password) are tested end to end in
``test_views.py``; here with other user models (a UUID key, an e-mail field of another
name, none at all), a non-ASCII address, and one link submitted twice at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from satchel.auth.hashers import make_unusable_password
from satchel.auth.reset import PasswordResetTokens, fingerprint, users_for_reset
from satchel.db import Database
from satchel.signing import Signer
from tests.auth.conftest import create_user, run
from tests.auth.models import Keyholder, Operator
from tests.auth.test_views import (
    NEW_PASSWORD as NEW,
)
from tests.auth.test_views import (
    Site,
    confirm_path,
    log_in,
    reset_link,
    submit,
    token_for,
    token_in,
)
from tests.ratelimit.test_store import Clock

KEYS = ["reset-test-key-" + "r" * 40]
START = 1_700_000_000.0


@dataclass(frozen=True)
class Account:
    """What a token looks at, as any user model has it."""

    id: int | str = 7
    password: str | None = "argon2$...hash-one"
    last_login: datetime | None = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    email: str = "ada@example.com"
    EMAIL_FIELD = "email"


def tokens(clock: Clock | None = None, *, keys: list[str] = KEYS) -> PasswordResetTokens:
    return PasswordResetTokens(keys, max_age=3600, clock=clock or Clock(START))


def test_a_token_names_its_user_and_fits_in_a_url() -> None:
    user = Account()
    token = tokens().make_token(user)
    assert tokens().user_id(token) == 7
    assert tokens().check_token(user, token)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    text_id = Account(id="f3a1")
    assert tokens().user_id(tokens().make_token(text_id)) == "f3a1"


@pytest.mark.parametrize(
    "changed",
    [
        {"password": "argon2$...hash-two"},  # used, or the password changed since
        {"password": None},
        {"last_login": datetime(2024, 5, 2, tzinfo=UTC)},  # the user logged in since
        {"email": "eve@example.com"},  # the address changed since
        {"id": 8},
    ],
)
def test_a_token_dies_when_the_account_changes(changed: dict[str, object]) -> None:
    user = Account()
    token = tokens().make_token(user)
    assert not tokens().check_token(replace(user, **changed), token)  # type: ignore[arg-type]


def test_a_first_login_after_the_token_kills_it() -> None:
    user = Account(last_login=None)
    token = tokens().make_token(user)
    assert tokens().check_token(user, token)
    assert not tokens().check_token(replace(user, last_login=datetime.now(UTC)), token)


def test_read_back_precision_and_time_zone_do_not_matter() -> None:
    # A database may keep fewer digits, or (SQLite) no time zone: the token still fits.
    user = Account()
    token = tokens().make_token(user)
    login = user.last_login
    assert login is not None
    for read_back in (login.replace(microsecond=0), login.replace(tzinfo=None)):
        assert tokens().check_token(replace(user, last_login=read_back), token)
    later = replace(user, last_login=login.replace(microsecond=9))
    assert fingerprint(user, KEYS[0]) == fingerprint(later, KEYS[0])


def test_a_token_expires() -> None:
    clock = Clock(START)
    user = Account()
    token = tokens(clock).make_token(user)
    clock.now += 3600
    assert tokens(clock).check_token(user, token)
    clock.now += 1
    assert not tokens(clock).check_token(user, token)
    assert tokens(clock).user_id(token) is None


@pytest.mark.parametrize(
    "token",
    ["", "x", "a.b.c", "not a token at all", "\u00e9" * 40, "A" * 10_000],
)
def test_garbage_is_no_token(token: str) -> None:
    assert tokens().user_id(token) is None
    assert not tokens().check_token(Account(), token)


def test_a_tampered_token_is_refused() -> None:
    token = tokens().make_token(Account())
    payload, timestamp, signature = token.split(".")
    forged = f"{payload}.{timestamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert tokens().user_id(forged) is None


def test_signatures_made_for_another_purpose_or_key_do_not_fit() -> None:
    user = Account()
    genuine = tokens().make_token(user)
    payload = genuine.split(".")[0]
    value = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert tokens().user_id(Signer(KEYS, salt="session").sign(value)) is None
    assert tokens(keys=["another key" + "x" * 40]).user_id(genuine) is None


def test_tokens_survive_a_key_rotation_while_the_old_key_is_kept() -> None:
    user = Account()
    old = tokens().make_token(user)
    rotated = tokens(keys=["new-key-" + "n" * 40, *KEYS])
    assert rotated.check_token(user, old)
    assert not tokens(keys=["new-key-" + "n" * 40]).check_token(user, old)


def test_the_account_state_is_not_readable_from_the_token() -> None:
    user = Account()
    token = tokens().make_token(user)
    assert user.password is not None
    assert user.password not in token
    assert fingerprint(user, KEYS[0]) != fingerprint(replace(user, password="other"), KEYS[0])


def claimed_fingerprint(token: str) -> str:
    """The fingerprint a token carries (readable: a token is signed, not encrypted)."""
    payload = token.split(".")[0]
    claim = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    fingerprint_text: str = claim.rsplit('"', 2)[-2]
    return fingerprint_text


def test_the_fingerprint_is_keyed_so_a_token_confirms_no_guess() -> None:
    # An unkeyed digest of (id, password hash, last login, e-mail) could be matched
    # offline against a guessed address or a leaked hash: the HMAC needs the key.
    user = Account()
    carried = claimed_fingerprint(tokens().make_token(user))
    assert carried == fingerprint(user, KEYS[0])
    login = user.last_login
    assert login is not None
    state = "\x00".join(
        (
            "7",
            "argon2$...hash-one",
            login.replace(microsecond=0, tzinfo=None).isoformat(),
            user.email,
        )
    )
    unkeyed = base64.urlsafe_b64encode(hashlib.sha256(state.encode()).digest()[:18]).decode()
    assert carried != unkeyed
    assert fingerprint(user, "another key" + "x" * 40) != carried


def test_a_uuid_keyed_user_gets_working_tokens() -> None:
    # The claim comes back from JSON as text; the user's id is a UUID.
    key = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    user = Account(id=key)  # type: ignore[arg-type]
    token = tokens().make_token(user)
    assert tokens().user_id(token) == str(key)
    assert tokens().check_token(user, token)
    other = Account(id=uuid.UUID("2b4e28ba-2fa1-11d2-883f-0016d3cca427"))  # type: ignore[arg-type]
    assert not tokens().check_token(other, token)


# -- the reset pages with other user models and addresses, on SQLite and PostgreSQL ------


def test_a_uuid_keyed_user_resets_through_the_mailed_link(database: Database) -> None:
    # The token's id comes back from JSON as text, the model's is a UUID; the model's
    # address is its EMAIL_FIELD, "contact".
    site = Site(database, user_model=Keyholder)

    async def scenario() -> None:
        await create_user(site.target, "kim", contact="kim@example.com")
        async with site.browser() as client:
            await submit(client, "/auth/password/reset", {"email": "KIM@example.com"})
            (mail,) = await site.mails(1)
            assert mail.to == ("kim@example.com",)
            link = reset_link(mail)
            assert (await client.get(link)).status_code == 200
            done = await submit(client, link, {"new_password1": NEW, "new_password2": NEW})
            assert done.headers["location"] == "/auth/password/reset/complete"
            assert (await client.get(link)).status_code == 400  # used
            assert (await log_in(client, "kim", NEW)).status_code == 303

    run(scenario())


def test_a_user_model_without_an_email_field_gets_done_and_no_mail(database: Database) -> None:
    site = Site(database, user_model=Operator)

    async def scenario() -> None:
        async with site.target.database.transaction() as db:
            db.add(Operator(login="op", password=make_unusable_password()))
        async with site.browser() as client:
            for _ in range(2):
                asked = await submit(client, "/auth/password/reset", {"email": "op@example.com"})
                assert asked.status_code == 303
                assert asked.headers["location"] == "/auth/password/reset/done"
        assert await site.mails(1) == []

    run(scenario())


def test_a_model_without_an_email_field_is_reported_once(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    class Nameless:
        """A user model of this test's own, so no earlier test has reported it."""

    async def scenario() -> None:
        async with database.transaction() as db:
            for _ in range(3):
                assert await users_for_reset(db, Nameless, "someone@example.com") == []

    with caplog.at_level(logging.WARNING, "satchel.auth"):
        run(scenario())
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "satchel.auth"]
    assert "Nameless has no e-mail field" in warning


@pytest.mark.parametrize(
    "entered", ["Émile@example.com", "émile@example.com", "ÉMILE@EXAMPLE.COM", "émile@Example.com"]
)
def test_a_non_ascii_address_is_found_in_any_case(database: Database, entered: str) -> None:
    # SQLite's lower() folds ASCII only ("Émile" stays "Émile"), Python's folds all.
    # (The reset page and the mailer take ASCII addresses only: this is the function.)
    site = Site(database)

    async def scenario() -> None:
        await site.user("emile", email="Émile@example.com")
        async with database.transaction() as db:
            (found,) = await users_for_reset(db, site.target.auth.user_model, entered)
        assert found.get_username() == "emile"

    run(scenario())


def test_two_submissions_of_one_link_at_once_set_one_password(database: Database) -> None:
    site = Site(database)

    async def scenario() -> None:
        ada = await site.user()
        token = await token_for(site, ada)
        link = confirm_path(token)
        async with site.browser() as client:
            csrf = token_in((await client.get(link)).text)

            async def post(password: str) -> int:
                data = {"new_password1": password, "new_password2": password, "csrf_token": csrf}
                return (await client.post(link, data=data)).status_code

            statuses = await asyncio.gather(post(NEW), post(NEW + " again"))
            assert sorted(statuses) == [303, 400]
            winner = NEW if statuses[0] == 303 else NEW + " again"
            assert (await log_in(client, password=winner)).status_code == 303

    run(scenario())
