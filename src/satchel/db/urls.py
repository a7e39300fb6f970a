"""Database URLs: the async URL the engine needs, and the sync one derived from it.

>>> async_url("postgres://app@db/shop").render_as_string()
'postgresql+asyncpg://app@db/shop'
>>> sync_url(async_url("sqlite:///app.db")).render_as_string()
'sqlite+pysqlite:///app.db'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from satchel.errors import ConfigurationError

__all__ = ["async_url", "masked", "sync_connect_args", "sync_url"]

# A URL without a driver gets the one the ``db`` extra installs.
_DEFAULT_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
# What an error suggests instead of a sync driver.
_SUGGESTED_ASYNC_DRIVERS = {**_DEFAULT_ASYNC_DRIVERS, "mysql": "aiomysql", "mariadb": "aiomysql"}
# The sync driver that talks to the same database as each async one.
_SYNC_DRIVERS = {
    "aiosqlite": "pysqlite",
    "asyncpg": "psycopg",
    "psycopg": "psycopg",
    "psycopg_async": "psycopg",
    "aiomysql": "pymysql",
    "asyncmy": "pymysql",
}


def masked(url: sa.URL) -> str:
    """``url`` as text with its password hidden, for messages and reprs."""
    return url.render_as_string(hide_password=True)


def async_url(url: str) -> sa.URL:
    """Parse ``url`` for the async engine.

    A URL naming no driver gets the default async one (``sqlite://`` becomes
    ``sqlite+aiosqlite://``; ``postgresql://`` and Heroku-style ``postgres://``
    become ``postgresql+asyncpg://``), as hosting platforms hand such URLs out.

    Raises:
        ConfigurationError: ``url`` is not a URL, names an unknown database, or
            names a sync driver (``postgresql+psycopg2://``); the message suggests
            the async one.
    """
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        # Not echoed: an unparsable URL cannot have its password masked.
        raise ConfigurationError("the database URL cannot be parsed") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
        parsed = parsed.set(drivername="+".join(filter(None, (backend, driver))))
    if not driver and backend in _DEFAULT_ASYNC_DRIVERS:
        return parsed.set(drivername=f"{backend}+{_DEFAULT_ASYNC_DRIVERS[backend]}")
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        message = f"unknown database {parsed.drivername!r} in {masked(parsed)}"
        raise ConfigurationError(message) from None
    if not dialect.get_async_dialect_cls(parsed).is_async:
        suggested = _SUGGESTED_ASYNC_DRIVERS.get(backend)
        instead = f"{backend}+{suggested}://" if suggested else "an async driver"
        raise ConfigurationError(
            f"{masked(parsed)} names the sync driver {parsed.get_driver_name()!r}; "
            f"the engine is async: use {instead}"
        )
    return parsed


def sync_url(url: sa.URL) -> sa.URL:
    """The URL of the same database through a sync driver (for sync handlers).

    Raises:
        ConfigurationError: No sync driver is known for ``url``'s driver.
    """
    driver = url.get_driver_name()
    if driver not in _SYNC_DRIVERS:
        raise ConfigurationError(
            f"no sync driver is known for {url.drivername!r}: pass Database(sync_url=...)"
        )
    return url.set(drivername=f"{url.get_backend_name()}+{_SYNC_DRIVERS[driver]}")


def sync_connect_args(url: sa.URL, connect_args: Mapping[str, Any]) -> dict[str, Any]:
    """The async driver's ``connect_args`` that mean the same to the sync driver of ``url``.

    aiosqlite hands its arguments to ``sqlite3.connect`` and psycopg is both
    drivers: theirs carry over whole. asyncpg's ``server_settings`` (a
    ``search_path``, an ``application_name``) become psycopg's ``-c`` options,
    so sync and async sessions see the same schema; the rest is asyncpg's own.

    >>> url = sa.make_url("postgresql+asyncpg://db/app")
    >>> sync_connect_args(url, {"server_settings": {"search_path": "my schema"}, "timeout": 5})
    {'options': '-c search_path=my\\\\ schema'}
    """
    driver = url.get_driver_name()
    if url.get_backend_name() == "sqlite" or _SYNC_DRIVERS.get(driver) == driver:
        return dict(connect_args)
    settings: Mapping[str, str] = connect_args.get("server_settings") or {}
    if driver != "asyncpg" or not settings:
        return {}
    return {"options": " ".join(f"-c {name}={_libpq_escape(v)}" for name, v in settings.items())}


def _libpq_escape(value: str) -> str:
    # In libpq's ``options``, a backslash escapes the next character; spaces separate options.
    return str(value).replace("\\", "\\\\").replace(" ", "\\ ")
