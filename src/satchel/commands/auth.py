"""``satchel createsuperuser`` and ``satchel changepassword``: accounts from the command line.

The app comes from ``satchel --app MODULE:APP`` or ``SATCHEL_APP``; it must have a
Database and an Auth (``Auth().init_app(app)``). Passwords are read hidden, twice,
and checked by the Auth's password validators.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Final, TypeVar

import click

from satchel.auth.auth import Auth, auth_of
from satchel.auth.hashers import MAX_PASSWORD_LENGTH
from satchel.auth.password_validation import PasswordValidationError, validate_password
from satchel.cli import given_app
from satchel.db import Database, DbSession, database_of
from satchel.errors import ConfigurationError, Conflict, MissingDependencyError

try:
    import sqlalchemy as sa
    from sqlalchemy.exc import SQLAlchemyError
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "auth") from exc

__all__ = [
    "EMAIL_ENV",
    "MAX_ATTEMPTS",
    "PASSWORD_ENV",
    "USERNAME_ENV",
    "changepassword_command",
    "createsuperuser_command",
]

#: Where ``createsuperuser --no-input`` finds what its options do not give.
USERNAME_ENV: Final = "SATCHEL_SUPERUSER_USERNAME"
EMAIL_ENV: Final = "SATCHEL_SUPERUSER_EMAIL"
PASSWORD_ENV: Final = "SATCHEL_SUPERUSER_PASSWORD"  # noqa: S105 - a variable name
#: How many refused passwords ``changepassword`` takes before it gives up.
MAX_ATTEMPTS: Final = 3

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

T = TypeVar("T")


# -- the app, its Auth and its Database -------------------------------------------------


def _auth_and_database(ctx: click.Context) -> tuple[Auth, Database]:
    app = given_app(ctx, ctx.info_name or "")
    try:
        return auth_of(app), database_of(app)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None


def _run(database: Database, work: Callable[[DbSession], Awaitable[T]]) -> T:
    """Run ``work`` in a transaction of ``database``, committed if it returns.

    Each call has an event loop of its own (prompts happen between calls), so the
    engine's connections, which belong to that loop, are closed before it ends.
    """

    async def run() -> T:
        try:
            async with database.transaction() as db:
                return await work(db)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except Conflict as exc:
        raise click.ClickException(f"not saved: {exc.detail}") from None
    except (SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"database error: {exc}") from None


# -- checking what is typed -------------------------------------------------------------


def _has_email(auth: Auth) -> bool:
    """Whether the user model stores an e-mail address (a column named by ``EMAIL_FIELD``)."""
    return auth.email_field in sa.inspect(auth.user_model).columns


def _username_problem(auth: Auth, username: str) -> str | None:
    label = auth.username_field.replace("_", " ")
    if not username:
        return f"The {label} cannot be blank."
    if username != username.strip():
        return f"The {label} cannot start or end with spaces."
    column = sa.inspect(auth.user_model).columns[auth.username_field]
    length = getattr(column.type, "length", None)
    if length is not None and len(username) > length:
        return f"The {label} can have at most {length} characters."
    return None


def _email_problem(email: str) -> str | None:
    if email and not _EMAIL.fullmatch(email):
        return "Enter a valid email address."
    return None


def _too_long(password: str) -> str | None:
    # Refused before any validator or hasher, and never bypassed: it cannot be hashed.
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password can have at most {MAX_PASSWORD_LENGTH} characters."
    return None


def _password_problems(auth: Auth, password: str, user: object) -> list[str]:
    if (problem := _too_long(password)) is not None:
        return [problem]
    try:
        validate_password(password, user=user, validators=auth.validators)
    except PasswordValidationError as exc:
        return list(exc.messages)
    return []


def _refuse(messages: list[str]) -> None:
    for message in messages:
        click.echo(f"Error: {message}", err=True)


# -- createsuperuser --------------------------------------------------------------------


@click.command("createsuperuser")
@click.option("--username", help=f"The superuser's username (or {USERNAME_ENV}).")
@click.option("--email", help=f"The superuser's email address (or {EMAIL_ENV}).")
@click.option(
    "--no-input",
    "no_input",
    is_flag=True,
    help=f"Ask nothing: the password comes from {PASSWORD_ENV} (unset: none, unusable).",
)
@click.pass_context
def createsuperuser_command(
    ctx: click.Context, username: str | None, email: str | None, no_input: bool
) -> None:
    """Create a superuser: a staff user holding every permission.

    Asks for the username, email address and password (twice, hidden), unless
    --no-input is given. A password the validators refuse is explained, and taken
    only after you confirm. With --no-input, a refused password is an error, and
    without SATCHEL_SUPERUSER_PASSWORD the user gets an unusable password (set
    one later with 'satchel changepassword').
    """
    auth, database = _auth_and_database(ctx)
    if not _has_email(auth) and email:
        raise click.UsageError(
            f"--email: the user model has no {auth.email_field!r} column (EMAIL_FIELD)", ctx
        )
    if no_input:
        username, email, password = _given_fields(auth, username, email)
    else:
        username = _ask_username(auth, database, username)
        email = _ask_email(email) if _has_email(auth) else ""
        password = _ask_new_password(auth, _candidate(auth, username, email))

    async def create(db: DbSession) -> None:
        if await auth.find_user(db, username) is not None:
            raise click.ClickException(f"the username {username!r} is already taken")
        fields = {auth.email_field: email} if email else {}
        # Validated above (or knowingly bypassed): hashed once, as it is; None: unusable.
        await auth.create_superuser(db, username, password, **fields)

    _run(database, create)
    click.echo(f"Superuser {username!r} created.")


def _candidate(auth: Auth, username: str, email: str) -> object:
    """What the similarity validator compares a new user's password to."""
    return SimpleNamespace(**{auth.username_field: username, auth.email_field: email})


def _given_fields(
    auth: Auth, username: str | None, email: str | None
) -> tuple[str, str, str | None]:
    username = username if username is not None else os.environ.get(USERNAME_ENV)
    email = email if email is not None else os.environ.get(EMAIL_ENV, "")
    if not _has_email(auth):
        email = ""  # the environment's address has nowhere to go
    password = os.environ.get(PASSWORD_ENV) or None
    if username is None:
        raise click.UsageError(f"--no-input needs --username or {USERNAME_ENV}")
    problems = [p for p in (_username_problem(auth, username), _email_problem(email)) if p]
    if password is not None:
        problems += _password_problems(auth, password, _candidate(auth, username, email))
    if problems:
        _refuse(problems)
        raise click.ClickException("no superuser created")
    return username, email, password


def _ask_username(auth: Auth, database: Database, given: str | None) -> str:
    label = auth.username_field.replace("_", " ").capitalize()
    while True:
        username: str = (
            given if given is not None else click.prompt(label, default="", show_default=False)
        )
        problem = _username_problem(auth, username) or _run(database, _taken(auth, username))
        if problem is None:
            return username
        _refuse([problem])
        given = None


def _taken(auth: Auth, username: str) -> Callable[[DbSession], Awaitable[str | None]]:
    async def check(db: DbSession) -> str | None:
        if await auth.find_user(db, username) is None:
            return None
        return "That username is already taken."

    return check


def _ask_email(given: str | None) -> str:
    email = given
    while True:
        if email is None:
            email = click.prompt("Email address", default="", show_default=False).strip()
        problem = _email_problem(email)
        if problem is None:
            return email
        _refuse([problem])
        email = None


def _ask_password() -> str:
    password: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt="Password (again)"
    )
    return password


def _ask_new_password(auth: Auth, user: object) -> str:
    while True:
        password = _ask_password()
        problems = _password_problems(auth, password, user)
        if not problems:
            return password
        _refuse(problems)
        if _too_long(password) is None and click.confirm(
            "Bypass password validation and create user anyway?", default=False
        ):
            return password


# -- changepassword ---------------------------------------------------------------------


@click.command("changepassword")
@click.argument("username", required=False)
@click.pass_context
def changepassword_command(ctx: click.Context, username: str | None) -> None:
    """Change the password of USERNAME (default: your login name on this machine).

    Asks for the new password twice, hidden; the validators must accept it. Gives
    up after 3 refused attempts. The user's existing sessions end.
    """
    auth, database = _auth_and_database(ctx)
    username = username if username is not None else _login_name(auth)

    async def exists(db: DbSession) -> bool:
        return await auth.find_user(db, username) is not None

    if not _run(database, exists):
        raise click.ClickException(f"user {username!r} does not exist")
    click.echo(f"Changing password for user {username!r}")
    for _ in range(MAX_ATTEMPTS):
        problems = _run(database, _changer(auth, username, _ask_password()))
        if not problems:
            click.echo(f"Password changed for user {username!r}.")
            return
        _refuse(problems)
    raise click.ClickException(
        f"password not changed for user {username!r} after {MAX_ATTEMPTS} refused attempts"
    )


def _login_name(auth: Auth) -> str:
    """This machine's login name, or the username asked for when it has none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # A container's user id without a passwd entry (KeyError before Python 3.13).
        label = auth.username_field.replace("_", " ")
        name: str = click.prompt(f"No login name here: the {label} whose password to change")
        return name


def _changer(
    auth: Auth, username: str, password: str
) -> Callable[[DbSession], Awaitable[list[str]]]:
    async def change(db: DbSession) -> list[str]:
        user = await auth.find_user(db, username)
        if user is None:
            raise click.ClickException(f"user {username!r} does not exist")
        if (problem := _too_long(password)) is not None:
            return [problem]
        try:
            await auth.set_password(db, user, password)
        except PasswordValidationError as exc:
            return list(exc.messages)
        return []

    return change
