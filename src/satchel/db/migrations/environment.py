"""What a project's ``migrations/env.py`` runs: Alembic on the app's async engine.

``env.py`` only calls :func:`run_environment`; the options live here, so upgrading
Satchel upgrades every project's environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from satchel.errors import MissingDependencyError

try:
    import sqlalchemy as sa
    from alembic import context
    from alembic.autogenerate.api import AutogenContext
    from alembic.runtime.migration import MigrationContext, MigrationInfo
except ImportError as exc:
    raise MissingDependencyError("alembic", "db") from exc

from satchel.db.database import Database

__all__ = ["CONFIG_KEY", "MigrationError", "Target", "connected", "run_environment"]

#: The key of ``alembic.config.Config.attributes`` under which the commands pass the ``Target``.
CONFIG_KEY = "satchel.migrations"

T = TypeVar("T")


class MigrationError(Exception):
    """A migration command cannot do what it was asked; the message says why."""


@dataclass(eq=False)
class Target:
    """What one command migrates: the database, the models' metadata, and what it applied.

    Attributes:
        database: Where the migrations run.
        metadata: The tables autogenerate and ``check`` compare the database to (one
            ``MetaData``, or several).
        applied: The revision of each migration applied or reverted, in order.
    """

    database: Database
    metadata: sa.MetaData | tuple[sa.MetaData, ...]
    applied: list[str] = field(default_factory=list)

    def record(
        self,
        ctx: MigrationContext,
        step: MigrationInfo,
        heads: Collection[Any],
        run_args: Mapping[str, Any],
    ) -> None:
        """Alembic's ``on_version_apply`` hook: note the step just run."""
        if step.is_migration and step.up_revision_id is not None:
            self.applied.append(step.up_revision_id)


def connected(database: Database, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work`` with a connection of ``database``'s async engine, then close the pool.

    Alembic is synchronous, so ``work`` runs through ``AsyncConnection.run_sync``
    on an event loop of its own. The pool is disposed before that loop ends: its
    connections belong to the loop and cannot serve another.

    Raises:
        MigrationError: An event loop is already running in this thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # none running: the one asyncio.run makes is ours
    else:
        raise MigrationError(
            "migration commands are synchronous and need their own event loop; "
            "from async code, run them in a thread: await asyncio.to_thread(...)"
        )
    return asyncio.run(_run_connected(database, work))


async def _run_connected(database: Database, work: Callable[[sa.Connection], T]) -> T:
    try:
        async with database.engine.connect() as connection:
            # Alembic begins and commits its own transactions (one per migration).
            return await connection.run_sync(work)
    finally:
        await database.dispose()


def _import_custom_types(kind: str, obj: Any, autogen_context: AutogenContext) -> Literal[False]:
    """Alembic's ``render_item`` hook: import the module of a type not from SQLAlchemy.

    Alembic writes such a type as ``module.Name()`` (``satchel.db.models.UTCDateTime()``)
    but leaves the import out; returning False keeps its rendering.
    """
    if kind == "type":
        module = type(obj).__module__
        if module.split(".")[0] != "sqlalchemy":
            autogen_context.imports.add(f"import {module}")
    return False


def _migrate(connection: sa.Connection, target: Target) -> None:
    context.configure(
        connection=connection,
        target_metadata=target.metadata,
        # Batch operations recreate the table where ALTER cannot (SQLite) and are plain
        # ALTERs elsewhere, so migrations written on PostgreSQL also run on SQLite.
        render_as_batch=True,
        compare_type=True,
        render_item=_import_custom_types,
        # A failure leaves the migrations before it applied, not a half-applied batch.
        transaction_per_migration=True,
        on_version_apply=target.record,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_environment() -> None:
    """Run the migrations Alembic was asked for; the whole body of ``migrations/env.py``.

    Raises:
        MigrationError: Alembic was started by something other than ``satchel db``
            (the ``alembic`` command, say), or in offline (SQL script) mode.
    """
    target = context.config.attributes.get(CONFIG_KEY)
    if not isinstance(target, Target):
        raise MigrationError(
            "this migrations folder is run by Satchel: use the 'satchel db' commands "
            "or satchel.db.migrations.Migrations, not the alembic command"
        )
    if context.is_offline_mode():
        raise MigrationError("offline mode (SQL scripts) is not supported")
    connected(target.database, lambda connection: _migrate(connection, target))
