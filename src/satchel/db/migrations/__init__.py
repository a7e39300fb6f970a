"""Migrations for ``satchel.db``: Alembic underneath, driven by the ``satchel db`` commands.

A project keeps its migrations in a folder (``migrations/`` by default) holding a
two-line ``env.py`` that calls :func:`run_environment`, the template new migrations
are made from, and ``versions/``. No ``alembic.ini`` is needed: Satchel configures
Alembic itself. See ``docs/migrations.md``.

Needs the ``db`` extra (``pip install 'satchel[db]'``).
"""

from __future__ import annotations

from satchel.db.migrations.environment import MigrationError, run_environment
from satchel.db.migrations.migrations import (
    DEFAULT_DIRECTORY,
    Migrations,
    NoChanges,
    Revision,
    migrations_of,
)

__all__ = [
    "DEFAULT_DIRECTORY",
    "MigrationError",
    "Migrations",
    "NoChanges",
    "Revision",
    "migrations_of",
    "run_environment",
]
