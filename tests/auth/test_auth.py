"""``Auth``: wiring into an app, users, ``authenticate`` (hash upgrade, equal timing)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from satchel import App, Settings
from satchel.auth import Auth, Passwords, PBKDF2Hasher, auth_of
from satchel.db import Database
from satchel.errors import ConfigurationError
from satchel.testing import AsyncTestClient
from tests.auth.conftest import KEY, PASSWORD, create_user, make_app, run
from tests.auth.models import Keyholder


def test_init_app_needs_a_database_and_happens_once(database: Database) -> None:
    app: App[Any] = App(settings=Settings(secret_key=KEY))
    with pytest.raises(ConfigurationError, match="Database"):
        Auth().init_app(app, routes=False)
    with pytest.raises(ConfigurationError, match="no Auth"):
        auth_of(app)
    database.init_app(app)
    with pytest.raises(ConfigurationError, match="Templates"):
        Auth().init_app(app)
    auth = Auth()
    auth.init_app(app, routes=False)
    assert auth_of(app) is auth
    with pytest.raises(ConfigurationError, match="already"):
        Auth().init_app(app, routes=False)


def test_users_and_superusers(database: Database) -> None:
    target = make_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app), target.database.transaction() as db:
            auth = target.auth
            nobody = await auth.create_user(db, "nobody")
            assert nobody.password.startswith("!")  # unusable
            root = await auth.create_superuser(db, "root", PASSWORD, email="r@example.com")
            assert root.is_staff
            assert root.is_superuser
            assert root.email == "r@example.com"
            assert await auth.get_user(db, str(root.id)) is root
            assert await auth.get_user(db, "not a number") is None
            assert await auth.authenticate(db, "nobody", "") is None
            assert await auth.authenticate(db, "root", PASSWORD) is root
            assert await auth.get_permissions(db, root) == frozenset()

    run(scenario())


def test_authenticate_upgrades_an_imported_pbkdf2_hash(database: Database) -> None:
    target = make_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app):
            imported = Passwords([PBKDF2Hasher(iterations=1_000)]).hash_sync(PASSWORD)
            user = await create_user(target, password=None)
            async with target.database.transaction() as db:
                stored = await target.auth.get_user(db, user.id)
                stored.password = imported
            async with target.database.transaction() as db:
                assert await target.auth.authenticate(db, "ada", "wrong password") is None
                found = await target.auth.authenticate(db, "ada", PASSWORD)
                assert found is not None
                assert found.password.startswith("$argon2id$")
            async with target.database.session() as db:
                again = await target.auth.get_user(db, user.id)
                assert again.password.startswith("$argon2id$")
                assert await target.auth.authenticate(db, "ada", PASSWORD) is not None

    run(scenario())


def test_set_password_validates(database: Database) -> None:
    from satchel.auth import PasswordValidationError

    target = make_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app), target.database.transaction() as db:
            user = await target.auth.create_user(db, "ada", PASSWORD)
            with pytest.raises(PasswordValidationError):
                await target.auth.set_password(db, user, "ada")
            await target.auth.set_password(db, user, "ada", validate=False)
            assert await target.auth.authenticate(db, "ada", "ada") is user

    run(scenario())


def test_authenticate_takes_the_same_time_whoever_asks(database: Database) -> None:
    """Unknown user, wrong password, unusable password: each verifies one argon2 hash.

    Medians of 15 runs each, within 2x of each other: generous, so a loaded machine
    does not make it flaky while a missing dummy hash (an answer ~100x faster) fails.
    """
    target = make_app(database)

    async def scenario() -> dict[str, float]:
        async with AsyncTestClient(target.app):
            await create_user(target)
            await create_user(target, "locked", password=None)
            cases = {"unknown": ("ghost", PASSWORD), "wrong": ("ada", "wrong password")}
            cases["unusable"] = ("locked", PASSWORD)
            timings: dict[str, list[float]] = {name: [] for name in cases}
            async with target.database.session() as db:
                for _ in range(15):
                    for name, (username, password) in cases.items():
                        start = time.perf_counter()
                        assert await target.auth.authenticate(db, username, password) is None
                        timings[name].append(time.perf_counter() - start)
            return {name: statistics.median(values) for name, values in timings.items()}

    medians = run(scenario())
    assert max(medians.values()) / min(medians.values()) < 2.0, medians


def test_username_and_email_fields_follow_the_user_model(database: Database) -> None:
    default = Auth()
    keyholders = Auth(user_model=Keyholder)
    assert (default.username_field, default.email_field) == ("username", "email")
    assert (keyholders.username_field, keyholders.email_field) == ("username", "contact")
    member = Keyholder(username="ada", contact="ada@example.com")
    assert keyholders.get_username(member) == "ada"
    assert keyholders.get_email(member) == "ada@example.com"
    assert keyholders.get_email(Keyholder(username="bob")) == ""
    target = make_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app):
            user = await create_user(target, email="ada@example.com")
            assert target.auth.get_email(user) == "ada@example.com"
            async with target.database.session() as db:
                found = await target.auth.find_user(db, "ada")
                assert found is not None
                assert found.id == user.id
                assert await target.auth.find_user(db, "nobody") is None

    run(scenario())


def test_the_facade_exports_the_public_names() -> None:
    import satchel.auth

    public = {
        "UNUSABLE_PASSWORD_PREFIX",
        "PasswordValidator",
        "MinimumLength",
        "MaximumLength",
        "CommonPassword",
        "UserAttributeSimilarity",
        "NumericPassword",
        "PasswordResetTokens",
        "TokenKind",
        "account_key",
    }
    assert public <= set(satchel.auth.__all__)
    assert len(set(satchel.auth.__all__)) == len(satchel.auth.__all__)
    for name in satchel.auth.__all__:
        assert getattr(satchel.auth, name) is not None, name
    assert satchel.auth.UNUSABLE_PASSWORD_PREFIX == "!"
