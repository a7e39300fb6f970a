"""``satchel createsuperuser`` and ``satchel changepassword`` through the CLI, on real databases.

Each test gets an empty database (a SQLite file, a PostgreSQL schema) holding the
auth tables, and an app module pointing at it, loaded by ``satchel --app``.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from satchel.auth.hashers import Passwords, PBKDF2Hasher
from satchel.auth.user import User
from satchel.cli import main
from satchel.commands.auth import changepassword_command
from satchel.db import Model
from tests.auth.models import ClubMember, Keyholder
from tests.db.migrations import conftest as migration_fixtures
from tests.db.migrations.conftest import Backend, run_sync
from tests.support import importable_module

# An empty database per test: a SQLite file, or a PostgreSQL schema dropped afterwards.
backend = migration_fixtures.backend

APP_SOURCE = """
from satchel import App, Settings
from satchel.auth import Auth
from satchel.auth.hashers import PBKDF2Hasher, Passwords
from satchel.db import Database
from tests.auth.models import ClubMember, Keyholder


def make_app(user_model=None, auth=True):
    app = App(settings=Settings(secret_key="k" * 50))
    Database({url!r}, engine_options={options!r}).init_app(app)
    if auth:
        # A fast hasher: the tests are about the commands, not the hashing.
        passwords = Passwords([PBKDF2Hasher(iterations=1_000)])
        Auth(user_model=user_model, passwords=passwords).init_app(app, routes=False)
    return app


app = make_app()
members = make_app(ClubMember)
keyholders = make_app(Keyholder)
no_auth = make_app(auth=False)
"""

STRONG = "correct horse battery staple"
OTHER_STRONG = "tawny owls nest in hollow oaks"
AUTH_TABLES = [
    Model.metadata.tables[name]
    for users in (User.__tablename__, ClubMember.__tablename__)
    for name in (users, f"{users}_groups", f"{users}_permissions")
]
AUTH_TABLES += [
    Model.metadata.tables[name]
    for name in ("auth_group", "auth_permission", "auth_group_permissions")
]
AUTH_TABLES.append(Model.metadata.tables[Keyholder.__tablename__])
PASSWORDS = Passwords([PBKDF2Hasher(iterations=1_000)])


@pytest.fixture
def module(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    database = backend.database()

    def create_tables(connection: sa.Connection) -> None:
        Model.metadata.create_all(connection, tables=AUTH_TABLES)
        connection.commit()

    run_sync(database, create_tables)
    for name in ("SATCHEL_SUPERUSER_USERNAME", "SATCHEL_SUPERUSER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SATCHEL_SUPERUSER_PASSWORD", raising=False)
    source = APP_SOURCE.format(url=backend.url, options=backend.engine_options)
    yield from importable_module(source, tmp_path, monkeypatch, "satchel_auth_app")


@pytest.fixture
def rows(backend: Backend) -> Any:
    """``rows(sql)``: what a query returns from the test's database, as dicts."""

    def read(statement: str) -> list[dict[str, Any]]:
        def query(connection: sa.Connection) -> list[dict[str, Any]]:
            return [dict(row._mapping) for row in connection.execute(sa.text(statement))]

        return run_sync(backend.database(), query)

    return read


def invoke(module: str, *args: str, app: str = "app", stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--app", f"{module}:{app}", *args], input=stdin)


def lines(*typed: str) -> str:
    return "".join(f"{line}\n" for line in typed)


# -- createsuperuser --------------------------------------------------------------------


def test_createsuperuser_interactive(module: str, rows: Any) -> None:
    result = invoke(
        module, "createsuperuser", stdin=lines("ada", "ada@example.com", STRONG, STRONG)
    )

    assert result.exit_code == 0, result.output
    assert "Superuser 'ada' created." in result.output
    assert STRONG not in result.output  # read hidden
    (user,) = rows("SELECT * FROM auth_user")
    assert user["username"] == "ada"
    assert user["email"] == "ada@example.com"
    assert user["is_superuser"]
    assert user["is_staff"]
    assert user["is_active"]
    assert PASSWORDS.verify_sync(STRONG, user["password"]).ok


def test_createsuperuser_asks_again_until_the_answers_are_acceptable(
    module: str, rows: Any
) -> None:
    assert invoke(module, "createsuperuser", "--no-input", "--username", "taken").exit_code == 0
    typed = lines(
        "",  # blank username
        "taken",
        "ada",
        "not an address",
        "ada@example.com",
        STRONG,
        "something else entirely",  # the two do not match
        "password",  # common
        "password",
        "n",  # do not bypass
        "12345678901",  # common and all digits
        "12345678901",
        "",  # the default answer: do not bypass
        STRONG,
        STRONG,
    )

    result = invoke(module, "createsuperuser", stdin=typed)

    assert result.exit_code == 0, result.output
    assert "Error: The username cannot be blank." in result.stderr
    assert "Error: That username is already taken." in result.stderr
    assert "Error: Enter a valid email address." in result.stderr
    assert "The two entered values do not match." in result.output
    assert "too common" in result.stderr
    assert "entirely numeric" in result.stderr
    assert result.output.count("Bypass password validation and create user anyway?") == 2
    user = rows("SELECT * FROM auth_user WHERE username = 'ada'")[0]
    assert PASSWORDS.verify_sync(STRONG, user["password"]).ok


def test_createsuperuser_takes_a_refused_password_when_told_to(module: str, rows: Any) -> None:
    typed = lines("lovelace", "", "Lovelace!1", "Lovelace!1", "y")

    result = invoke(module, "createsuperuser", stdin=typed)

    assert result.exit_code == 0, result.output
    assert "too similar to your username" in result.stderr
    (user,) = rows("SELECT * FROM auth_user")
    assert user["email"] == ""
    assert user["username"] == "lovelace"
    assert PASSWORDS.verify_sync("Lovelace!1", user["password"]).ok


def test_createsuperuser_options_skip_their_prompts(module: str, rows: Any) -> None:
    result = invoke(
        module,
        "createsuperuser",
        "--username",
        "ada",
        "--email",
        "ada@example.com",
        stdin=lines(STRONG, STRONG),
    )

    assert result.exit_code == 0, result.output
    assert "Username" not in result.output
    assert "Email" not in result.output
    assert rows("SELECT username, email FROM auth_user") == [
        {"username": "ada", "email": "ada@example.com"}
    ]


def test_createsuperuser_no_input_from_options_and_environment(
    module: str, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATCHEL_SUPERUSER_PASSWORD", STRONG)

    result = invoke(
        module, "createsuperuser", "--no-input", "--username", "ada", "--email", "ada@example.com"
    )

    assert result.exit_code == 0, result.output
    (user,) = rows("SELECT * FROM auth_user")
    assert (user["username"], user["email"]) == ("ada", "ada@example.com")
    assert PASSWORDS.verify_sync(STRONG, user["password"]).ok


def test_createsuperuser_no_input_without_password_gives_an_unusable_one(
    module: str, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATCHEL_SUPERUSER_USERNAME", "ada")
    monkeypatch.setenv("SATCHEL_SUPERUSER_EMAIL", "ada@example.com")

    result = invoke(module, "createsuperuser", "--no-input")

    assert result.exit_code == 0, result.output
    (user,) = rows("SELECT * FROM auth_user")
    assert (user["username"], user["email"]) == ("ada", "ada@example.com")
    assert user["password"].startswith("!")
    assert user["is_superuser"]


def test_createsuperuser_no_input_refusals(
    module: str, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = invoke(module, "createsuperuser", "--no-input")
    assert missing.exit_code == 2
    assert "--no-input needs --username or SATCHEL_SUPERUSER_USERNAME" in missing.stderr

    bad_email = invoke(module, "createsuperuser", "--no-input", "--username", "a", "--email", "x")
    assert bad_email.exit_code == 1
    assert "Error: Enter a valid email address." in bad_email.stderr

    monkeypatch.setenv("SATCHEL_SUPERUSER_PASSWORD", "123")
    weak = invoke(module, "createsuperuser", "--no-input", "--username", "ada")
    assert weak.exit_code == 1
    assert "too short" in weak.stderr
    assert "entirely numeric" in weak.stderr
    assert "Error: no superuser created" in weak.stderr
    assert rows("SELECT * FROM auth_user") == []

    monkeypatch.setenv("SATCHEL_SUPERUSER_PASSWORD", STRONG)
    assert invoke(module, "createsuperuser", "--no-input", "--username", "ada").exit_code == 0
    again = invoke(module, "createsuperuser", "--no-input", "--username", "ada")
    assert again.exit_code == 1
    assert "Error: the username 'ada' is already taken" in again.stderr
    assert len(rows("SELECT * FROM auth_user")) == 1


def test_createsuperuser_with_an_extended_user_model(
    module: str, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATCHEL_SUPERUSER_PASSWORD", STRONG)

    result = invoke(module, "createsuperuser", "--no-input", "--username", "ada", app="members")

    assert result.exit_code == 0, result.output
    assert rows("SELECT username, is_superuser FROM club_member") == [
        {"username": "ada", "is_superuser": True}
    ]
    assert rows("SELECT * FROM auth_user") == []


def test_createsuperuser_stores_the_address_in_the_models_email_field(
    module: str, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keyholder's EMAIL_FIELD is "contact": no "email" keyword reaches its constructor.
    monkeypatch.setenv("SATCHEL_SUPERUSER_PASSWORD", STRONG)
    options = ("--username", "ada", "--email", "ada@example.com")

    given = invoke(module, "createsuperuser", "--no-input", *options, app="keyholders")
    typed = invoke(
        module,
        "createsuperuser",
        app="keyholders",
        stdin=lines("bob", "bob@example.com", STRONG, STRONG),
    )

    assert given.exit_code == 0, given.output
    assert typed.exit_code == 0, typed.output
    stored = rows("SELECT username, contact, password, is_superuser FROM keyholder")
    assert sorted((row["username"], row["contact"], row["is_superuser"]) for row in stored) == [
        ("ada", "ada@example.com", True),
        ("bob", "bob@example.com", True),
    ]
    assert all(PASSWORDS.verify_sync(STRONG, row["password"]).ok for row in stored)


def test_commands_need_an_app_with_auth(module: str) -> None:
    for command in ("createsuperuser", "changepassword"):
        result = invoke(module, command, "--help")
        assert result.exit_code == 0
        refused = invoke(module, command, app="no_auth", stdin="")
        assert refused.exit_code == 1
        assert "no Auth for this app" in refused.stderr
    alone = CliRunner().invoke(changepassword_command, ["ada"])
    assert alone.exit_code == 2
    assert "no app given" in alone.stderr


# -- changepassword ---------------------------------------------------------------------


@pytest.fixture
def ada(module: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app module, with the superuser ``ada`` (password ``STRONG``) stored."""
    monkeypatch.setenv("SATCHEL_SUPERUSER_PASSWORD", STRONG)
    assert invoke(module, "createsuperuser", "--no-input", "--username", "ada").exit_code == 0
    return module


def test_changepassword(ada: str, rows: Any) -> None:
    result = invoke(ada, "changepassword", "ada", stdin=lines(OTHER_STRONG, OTHER_STRONG))

    assert result.exit_code == 0, result.output
    assert "Changing password for user 'ada'" in result.output
    assert "Password changed for user 'ada'." in result.output
    (user,) = rows("SELECT password FROM auth_user")
    assert PASSWORDS.verify_sync(OTHER_STRONG, user["password"]).ok
    assert not PASSWORDS.verify_sync(STRONG, user["password"]).ok


def test_changepassword_defaults_to_the_login_name(
    ada: str, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "ada")

    result = invoke(ada, "changepassword", stdin=lines(OTHER_STRONG, OTHER_STRONG))

    assert result.exit_code == 0, result.output
    (user,) = rows("SELECT password FROM auth_user")
    assert PASSWORDS.verify_sync(OTHER_STRONG, user["password"]).ok


def test_changepassword_asks_whose_password_without_a_login_name(
    ada: str, rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A container's user id with no passwd entry: getuser() raises (KeyError, or OSError).
    for error in (KeyError("getpwuid(): uid not found: 1234"), OSError("no login name")):

        def no_login_name(error: Exception = error) -> str:
            raise error

        monkeypatch.setattr(getpass, "getuser", no_login_name)
        password = OTHER_STRONG if isinstance(error, KeyError) else STRONG

        result = invoke(ada, "changepassword", stdin=lines("ada", password, password))

        assert result.exit_code == 0, result.output
        assert "No login name here: the username whose password to change" in result.output
        (user,) = rows("SELECT password FROM auth_user")
        assert PASSWORDS.verify_sync(password, user["password"]).ok


def test_changepassword_gives_up_after_three_refused_attempts(ada: str, rows: Any) -> None:
    typed = lines(
        OTHER_STRONG,
        "mistyped",  # does not match: asked again, not counted
        OTHER_STRONG[:7],
        OTHER_STRONG[:7],  # too short
        "iloveyou",
        "iloveyou",  # common
        "x" * 300,
        "x" * 300,  # too long
    )

    result = invoke(ada, "changepassword", "ada", stdin=typed)

    assert result.exit_code == 1
    assert "The two entered values do not match." in result.output
    assert "too short" in result.stderr
    assert "too common" in result.stderr
    assert "too long" in result.stderr
    assert "Error: password not changed for user 'ada' after 3 refused attempts" in result.stderr
    (user,) = rows("SELECT password FROM auth_user")
    assert PASSWORDS.verify_sync(STRONG, user["password"]).ok


def test_changepassword_of_an_unknown_user(ada: str) -> None:
    result = invoke(ada, "changepassword", "nobody", stdin=lines(STRONG, STRONG))

    assert result.exit_code == 1
    assert "Error: user 'nobody' does not exist" in result.stderr
    assert "Password:" not in result.output
