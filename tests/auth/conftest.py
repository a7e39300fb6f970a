"""Fixtures for the auth tests: a real database, real sessions and ``Auth`` wired into an app.

- ``database``: the Database of ``tests/db/conftest.py``, on SQLite and on PostgreSQL.
- ``make_store``: the rate-limit stores of ``tests/ratelimit/conftest.py``, memory and Redis.
- ``auth_app``: an ``AuthApp`` (app, Auth, Database) built by ``make_app``: the Database,
  a ``SessionMiddleware`` (signed cookie) and ``Auth`` with the default ``User`` model.
- ``create_user``: a user with a usable password, created on the test's event loop.

A test does its async work in one ``run(scenario())``, with ``AsyncTestClient``, so the
database connection (PostgreSQL: one transaction rolled back after the test) stays on
one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

# Imported for their tables: ``postgres_schema`` creates every table of Model.metadata
# once per test session, so the default user and token models must be known by then.
import satchel.auth.token
import satchel.auth.user  # noqa: F401
from satchel import App, Settings
from satchel.auth import Auth
from satchel.cors import CORSConfig
from satchel.db import Database
from satchel.sessions import CookieStore, SessionMiddleware, SessionStore
from satchel.templates import Templates
from tests.db.conftest import database, postgres_schema  # noqa: F401
from tests.ratelimit.conftest import make_store, redis_prefix  # noqa: F401

__all__ = [
    "KEY",
    "PASSWORD",
    "AuthApp",
    "create_user",
    "make_app",
    "run",
]

T = TypeVar("T")

#: The app's secret key.
KEY = "auth-test-key-" + "k" * 40
#: The password ``create_user`` gives (it passes the default validators).
PASSWORD = "correct horse battery staple"


@dataclass
class AuthApp:
    """An app with a Database, sessions and Auth, and those pieces."""

    app: App[Any]
    auth: Auth
    database: Database
    sessions: SessionMiddleware


def make_app(
    database: Database,  # noqa: F811
    auth: Auth | None = None,
    *,
    store: SessionStore | CookieStore | None = None,
    routes: bool = False,
    templates: bool | None = None,
    csrf: bool = True,
    settings: Settings | None = None,
    cors: CORSConfig | None = None,
    **session_options: Any,
) -> AuthApp:
    """An app serving ``database`` with a session middleware and ``auth`` (a new Auth).

    Args:
        database: The test's Database.
        auth: The Auth to wire; a default one (``User`` model) when None.
        store: The session store (None: signed cookies).
        routes: Mount the login pages (``auth_router``).
        templates: Give the app ``Templates`` (None: when ``routes``, which need them).
        csrf: Keep CSRF protection on (as in production).
        settings: The app's settings (default: a fixed secret key).
        cors: The app's CORS policy (default: none).
        session_options: More ``SessionMiddleware`` arguments.
    """
    app: App[Any] = App(settings=settings or Settings(secret_key=KEY), csrf=csrf, cors=cors)
    database.init_app(app)
    if routes if templates is None else templates:
        Templates(()).init_app(app)
    sessions = SessionMiddleware(store, **session_options)
    app.add_middleware(sessions)
    auth = auth if auth is not None else Auth()
    auth.init_app(app, routes=routes)
    return AuthApp(app, auth, database, sessions)


@pytest.fixture
def auth_app(database: Database) -> AuthApp:  # noqa: F811
    """An app with the test's database, cookie sessions and a default Auth (no pages)."""
    return make_app(database)


async def create_user(
    target: AuthApp, username: str = "ada", password: str | None = PASSWORD, **fields: Any
) -> Any:
    """Create and commit a user of ``target.auth``'s model; returns it (detached, loaded)."""
    async with target.database.transaction() as db:
        user = await target.auth.create_user(db, username, password, **fields)
    return user


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a test's async scenario on an event loop of its own."""
    return asyncio.run(coroutine)
