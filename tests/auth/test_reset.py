"""Password-reset tokens: signed, expiring, bound to the account's state.

The reset pages that use them (e-mail, link, new password) are tested end to end in
``test_views.py``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from satchel.auth.reset import PasswordResetTokens, fingerprint
from satchel.signing import Signer
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
    assert fingerprint(user) == fingerprint(replace(user, last_login=login.replace(microsecond=9)))


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
    assert fingerprint(user) != fingerprint(replace(user, password="other"))
