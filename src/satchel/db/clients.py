"""The database's own command-line client (``sqlite3``, ``psql``) for a Database URL."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from satchel.errors import ConfigurationError

__all__ = ["ClientCommand", "client_command"]

# libpq reads these; the password goes there rather than on the command line,
# where any user of the machine could read it in the process list.
_LIBPQ_VARIABLES = {"host": "PGHOST", "port": "PGPORT", "username": "PGUSER"}


@dataclass(frozen=True, slots=True)
class ClientCommand:
    """How to start a database's client.

    Attributes:
        argv: The command and its arguments (no secret among them).
        env: Variables to add to the environment (the password, for ``psql``).
    """

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def client_command(url: str | sa.URL) -> ClientCommand:
    """The client for the database at ``url``.

    >>> client_command("sqlite+aiosqlite:///app.db").argv
    ['sqlite3', 'app.db']
    >>> command = client_command("postgresql+asyncpg://shop:secret@db:5433/shop")
    >>> command.argv, command.env["PGPASSWORD"], command.env["PGPORT"]
    (['psql'], 'secret', '5433')

    Raises:
        ConfigurationError: No client is known for the database, or it is an
            in-memory SQLite database, which only the app's process can see.
    """
    url = sa.make_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
            raise ConfigurationError(
                "the database is an in-memory SQLite database: no other process can open it"
            )
        return ClientCommand(["sqlite3", url.database])
    if backend == "postgresql":
        return ClientCommand(["psql"], _libpq_environment(url))
    raise ConfigurationError(f"no command-line client is known for {backend} databases")


def _libpq_environment(url: sa.URL) -> dict[str, str]:
    env = {
        variable: str(value)
        for attribute, variable in _LIBPQ_VARIABLES.items()
        if (value := getattr(url, attribute))
    }
    # A host given as ?host=... (a Unix socket's folder, or host:port), as asyncpg takes it.
    query_host = url.query.get("host")
    if url.host is None and isinstance(query_host, str) and query_host:
        host, colon, port = query_host.rpartition(":")
        if colon and host and port.isdigit():
            env["PGHOST"] = host
            env.setdefault("PGPORT", port)
        else:
            env["PGHOST"] = query_host
    if url.database:
        env["PGDATABASE"] = url.database
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # asyncpg spells libpq's sslmode "ssl" in the URL's query.
    sslmode = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return env
