"""``Migrations``: the migration history of one database, kept in a folder of the project."""

from __future__ import annotations

import argparse
import contextlib
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from satchel.errors import ConfigurationError, MissingDependencyError

try:
    import sqlalchemy as sa
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.operations.ops import MigrationScript
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script, ScriptDirectory
    from alembic.util import CommandError
except ImportError as exc:
    raise MissingDependencyError("alembic", "db") from exc

from satchel.db.database import Database, database_of
from satchel.db.migrations.differences import describe
from satchel.db.migrations.environment import CONFIG_KEY, MigrationError, Target, connected
from satchel.db.migrations.scaffold import is_scaffolded, write_scaffold
from satchel.db.models import Model

__all__ = ["DEFAULT_DIRECTORY", "Migrations", "NoChanges", "Revision", "migrations_of"]

#: Where migrations live when nothing says otherwise: relative to the working directory.
DEFAULT_DIRECTORY = "migrations"

# The Migrations each app was given by init_app; weak, so a discarded app is not kept alive.
_migrations: weakref.WeakKeyDictionary[Any, Migrations] = weakref.WeakKeyDictionary()


class NoChanges(MigrationError):
    """``makemigrations`` found nothing to migrate (pass ``empty=True`` for a hand-written one)."""


@dataclass(frozen=True, slots=True)
class Revision:
    """One migration file.

    Attributes:
        id: The revision identifier: its creation time in UTC, to a ten-thousandth
            of a second, so identifiers sort in creation order (``20250131_120000_4821``).
        message: What it does: the message given to ``makemigrations``.
        parents: The revisions it follows (none for the first; two for a merge).
        path: The file.
        head: No revision follows it.
    """

    id: str
    message: str
    parents: tuple[str, ...]
    path: Path
    head: bool

    @classmethod
    def of(cls, script: Script) -> Revision:
        """The ``Revision`` of an Alembic ``Script``."""
        parents = script.down_revision
        if parents is None:
            parents = ()
        elif isinstance(parents, str):
            parents = (parents,)
        return cls(script.revision, script.doc, tuple(parents), Path(script.path), script.is_head)


class Migrations:
    """The migrations of ``database``, kept in ``directory``, written from ``metadata``.

    Args:
        database: The database migrated.
        metadata: The models' tables, compared to the database to write migrations
            and by ``check``; ``Model.metadata`` by default. A sequence of them for
            tables declared elsewhere (``[Model.metadata, store.table.metadata]`` for a
            ``DatabaseStore``): a table in the database that none declares is taken
            for a removed model, and the next migration drops it.
        directory: The migration environment (``env.py``, ``versions/``), relative
            to the working directory when the commands run.

    Each method is synchronous and runs its queries on an event loop of its own;
    from async code, call it in a thread (``await asyncio.to_thread(m.migrate)``).

    ``satchel db`` uses ``Migrations(database_of(app))`` unless the app registered
    another with :meth:`init_app`. :meth:`after_migrate` adds work to do after each
    ``migrate`` (``satchel.auth`` creates the models' permissions there).
    """

    def __init__(
        self,
        database: Database,
        *,
        metadata: sa.MetaData | Sequence[sa.MetaData] = Model.metadata,
        directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
    ) -> None:
        self.database = database
        self.metadata: sa.MetaData | tuple[sa.MetaData, ...] = (
            metadata if isinstance(metadata, sa.MetaData) else tuple(metadata)
        )
        self.directory = Path(directory)
        self._after_migrate: list[Callable[[sa.Connection], None]] = []

    def __repr__(self) -> str:
        return f"Migrations({self.database!r}, directory={str(self.directory)!r})"

    def init_app(self, app: Any) -> None:
        """Make ``satchel db`` use these migrations for ``app``.

        Raises:
            ConfigurationError: ``app`` already has its Migrations.
        """
        if app in _migrations:
            raise ConfigurationError("this app already has its Migrations")
        _migrations[app] = self

    def after_migrate(
        self, hook: Callable[[sa.Connection], None]
    ) -> Callable[[sa.Connection], None]:
        """Call ``hook(connection)`` each time :meth:`migrate` has reached its target.

        Usable as a decorator; returns ``hook``. Hooks run in the order added, even
        when there was nothing to apply (so they catch up on a database migrated
        before they existed), all in one transaction on a connection of the
        migrated database, committed after the last one. They run after the
        migrations are committed: one that fails leaves the migrations applied,
        and its error comes out of ``migrate``. Keep them idempotent, as
        ``satchel.auth``'s, which inserts only the permissions missing.
        """
        self._after_migrate.append(hook)
        return hook

    def in_directory(self, directory: str | os.PathLike[str]) -> Migrations:
        """These migrations (same database, metadata and hooks) kept in another ``directory``."""
        moved = Migrations(self.database, metadata=self.metadata, directory=directory)
        moved._after_migrate = list(self._after_migrate)
        return moved

    @property
    def initialized(self) -> bool:
        """Whether the migration environment exists in ``directory``."""
        return is_scaffolded(self.directory)

    def init(self) -> list[Path]:
        """Write the migration environment into ``directory``; return what was written.

        Raises:
            MigrationError: It exists already.
        """
        if self.initialized:
            raise MigrationError(f"{self.directory} already holds a migration environment")
        return write_scaffold(self.directory)

    def makemigrations(self, message: str, *, empty: bool = False) -> Revision:
        """Write the migration that brings the database to the models, and return it.

        The database must be at the latest migration. Without ``empty`` the
        migration is autogenerated; with it, ``upgrade()`` and ``downgrade()`` are
        left for you to write (a data migration). The environment is created first
        if it does not exist.

        Raises:
            NoChanges: Nothing differs and ``empty`` is false.
            MigrationError: The database is behind the migrations, or a revision is unknown.
        """
        if not self.initialized:
            write_scaffold(self.directory)
        found_nothing = False

        def refuse_empty(
            context: MigrationContext, revision: Any, directives: list[MigrationScript]
        ) -> None:
            nonlocal found_nothing
            if all(_is_empty(script) for script in directives):
                found_nothing = True
                directives.clear()

        scripts = self._command(
            command.revision,
            message=_as_docstring(message),
            autogenerate=not empty,
            rev_id=_new_revision_id(),
            process_revision_directives=None if empty else refuse_empty,
        )
        if found_nothing:
            raise NoChanges(
                "no changes detected: the models match the migrations "
                "(--empty writes an empty migration, for data migrations)"
            )
        script = scripts[0] if isinstance(scripts, list) else scripts
        if script is None:  # pragma: no cover - Alembic writes a script unless told not to
            raise MigrationError("Alembic wrote no migration")
        return Revision.of(script)

    def merge(self, message: str) -> Revision:
        """Write a migration joining the heads (migrations made in parallel) into one.

        Raises:
            MigrationError: There is only one head: nothing to merge.
        """
        heads = self._scripts().get_heads()
        if len(heads) < 2:
            raise MigrationError("nothing to merge: the migrations have a single head")
        script = self._command(
            command.merge, "heads", message=_as_docstring(message), rev_id=_new_revision_id()
        )
        return Revision.of(script)

    def migrate(self, revision: str = "heads") -> list[Revision]:
        """Apply the migrations up to ``revision`` (all by default); return those applied, in order.

        ``revision`` is an identifier (or a unique prefix of one), ``heads``
        (the latest of every branch), ``head`` (the latest, when there is one
        branch) or ``+N`` (the next N).
        """
        applied = self._move(command.upgrade, revision)
        if self._after_migrate:
            connected(self.database, self._run_after_migrate)
        return applied

    def downgrade(self, revision: str) -> list[Revision]:
        """Undo the migrations above ``revision``; return those undone, newest first.

        ``revision`` is an identifier (or prefix), ``-N`` (the last N) or ``base``
        (every migration: an empty database).
        """
        return self._move(command.downgrade, revision)

    def history(self) -> list[Revision]:
        """Every migration, oldest first; no database needed."""
        with _alembic_errors():
            newest_first = list(self._scripts().walk_revisions())
        return [Revision.of(script) for script in reversed(newest_first)]

    def heads(self) -> list[Revision]:
        """The newest migrations (more than one when branches are not merged)."""
        return self._revisions(self._scripts().get_heads())

    def current(self) -> list[Revision]:
        """The migrations the database is at; none when none was applied."""
        found: list[str] = []

        def read(revision: Any, context: MigrationContext) -> list[Any]:
            found.extend(context.get_current_heads())
            return []

        self._run_env(read)
        return self._revisions(found)

    def check(self) -> list[str]:
        """How the database, migrated to the latest migration, differs from the models.

        An empty list means the migrations describe the models; otherwise
        ``makemigrations`` would write a migration for each difference listed.

        Raises:
            MigrationError: The database is not at the latest migration (migrate it first).
        """
        heads = set(self._scripts().get_heads())
        differences: list[Any] = []
        behind: list[str] = []

        def compare(revision: Any, context: MigrationContext) -> list[Any]:
            current = set(context.get_current_heads())
            if current != heads:
                behind.append(", ".join(sorted(current)) or "none")
            else:
                # Alembic's autogenerate takes a sequence, as target_metadata does,
                # though this function's annotation names only one.
                differences.extend(compare_metadata(context, self.metadata))  # type: ignore[arg-type]
            return []

        self._run_env(compare)
        if behind:
            raise MigrationError(
                f"the database is not at the latest migration (it is at {behind[0]}; "
                f"the latest is {', '.join(sorted(heads)) or 'none'}): migrate it first"
            )
        return [line for difference in differences for line in describe(difference)]

    # -- Alembic plumbing ----------------------------------------------------------------

    def _config(self, target: Target | None = None) -> Config:
        if not self.initialized:
            raise MigrationError(
                f"no migration environment in {self.directory}{os.sep} (no env.py): "
                "run 'satchel db init' or 'satchel db makemigrations'"
            )
        # Quiet: the commands print their own messages from what the methods return.
        config = Config(cmd_opts=argparse.Namespace(quiet=True))
        # The ini parser behind set_main_option reads "%" as interpolation.
        config.set_main_option("script_location", str(self.directory).replace("%", "%%"))
        if target is None:
            target = Target(self.database, self.metadata)
        config.attributes[CONFIG_KEY] = target
        return config

    def _scripts(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self._config())

    def _command(
        self, run: Callable[..., Any], /, *args: Any, target: Target | None = None, **kwargs: Any
    ) -> Any:
        config = self._config(target)
        with _alembic_errors():
            return run(config, *args, **kwargs)

    def _move(self, run: Callable[..., Any], revision: str) -> list[Revision]:
        target = Target(self.database, self.metadata)
        self._command(run, revision, target=target)
        return self._revisions(target.applied)

    def _revisions(self, ids: Iterable[str]) -> list[Revision]:
        scripts = self._scripts()
        # A database at a revision whose file is gone is refused here, with a message.
        with _alembic_errors():
            return [Revision.of(scripts.get_revision(rev)) for rev in ids]

    def _run_after_migrate(self, connection: sa.Connection) -> None:
        with connection.begin():
            for hook in self._after_migrate:
                hook(connection)

    def _run_env(self, fn: Callable[[Any, MigrationContext], list[Any]]) -> None:
        config = self._config()
        scripts = ScriptDirectory.from_config(config)
        with _alembic_errors(), EnvironmentContext(config, scripts, fn=fn, dont_mutate=True):
            scripts.run_env()


@contextlib.contextmanager
def _alembic_errors() -> Iterator[None]:
    """Raise Alembic's ``CommandError`` (a refused command) as ``MigrationError``."""
    try:
        yield
    except CommandError as error:
        raise MigrationError(str(error)) from error


def _as_docstring(message: str) -> str:
    # The message becomes the migration file's docstring: keep it a valid one.
    return message.replace("\\", "\\\\").replace('"', '\\"')


def _is_empty(script: MigrationScript) -> bool:
    return script.upgrade_ops is None or script.upgrade_ops.is_empty()


def _new_revision_id() -> str:
    # The creation time, so that files and identifiers sort in creation order; in
    # UTC, so that a team across time zones agrees; to a ten-thousandth of a second,
    # so that two made in one second (by a script) still sort and differ.
    now = datetime.now(UTC)
    return f"{now:%Y%m%d_%H%M%S}_{now.microsecond // 100:04d}"


def migrations_of(app: Any) -> Migrations:
    """The Migrations ``app`` registered with ``init_app``, else ``Migrations(database_of(app))``.

    Raises:
        ConfigurationError: ``app`` has neither Migrations nor a Database.
    """
    found = _migrations.get(app)
    return found if found is not None else Migrations(database_of(app))
