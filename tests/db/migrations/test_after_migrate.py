"""``Migrations.after_migrate``: work done on the migrated database after each ``migrate``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from satchel.db.migrations import Migrations
from tests.db.migrations.conftest import Project, metadata


def tags() -> sa.MetaData:
    models = metadata()
    sa.Table(
        "tag",
        models,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
    )
    return models


def test_hooks_run_after_migrate_in_order_and_commit(project: Project) -> None:
    migrations = project.at(tags())
    calls: list[str] = []

    @migrations.after_migrate
    def first(connection: sa.Connection) -> None:
        calls.append("first")
        # The migrations are applied by now: their tables are there.
        assert sa.inspect(connection).has_table("tag")
        connection.execute(sa.text("INSERT INTO tag (name) VALUES ('news')"))

    migrations.after_migrate(lambda connection: calls.append("second"))
    assert first.__name__ == "first"  # the decorator returns the function
    migrations.makemigrations("create tags")
    assert calls == []  # writing a migration migrates nothing

    applied = migrations.migrate()

    assert len(applied) == 1
    assert calls == ["first", "second"]
    assert project.execute("SELECT name FROM tag") == [("news",)]


def test_hooks_run_when_nothing_was_applied_but_not_on_downgrade(project: Project) -> None:
    migrations = project.at(tags())
    migrations.makemigrations("create tags")
    calls: list[str] = []
    migrations.after_migrate(lambda connection: calls.append("hook"))

    migrations.migrate()
    assert migrations.migrate() == []
    assert calls == ["hook", "hook"]

    migrations.downgrade("base")
    assert calls == ["hook", "hook"]


def test_a_failing_hook_leaves_the_migrations_applied_and_its_writes_undone(
    project: Project,
) -> None:
    migrations = project.at(tags())
    revision = migrations.makemigrations("create tags")

    @migrations.after_migrate
    def write(connection: sa.Connection) -> None:
        connection.execute(sa.text("INSERT INTO tag (name) VALUES ('news')"))

    @migrations.after_migrate
    def fail(connection: sa.Connection) -> None:
        raise RuntimeError("hook failed")

    with pytest.raises(RuntimeError, match="hook failed"):
        migrations.migrate()

    assert [current.id for current in migrations.current()] == [revision.id]
    # Both hooks share one transaction: the first one's row went with the failure.
    assert project.execute("SELECT name FROM tag") == []


def test_hooks_belong_to_their_migrations(project: Project) -> None:
    hooked = project.at(tags())
    hooked.makemigrations("create tags")
    calls: list[str] = []
    hooked.after_migrate(lambda connection: calls.append("hook"))

    Migrations(project.database, metadata=hooked.metadata, directory=project.directory).migrate()

    assert calls == []


def test_in_directory_keeps_the_hooks(project: Project) -> None:
    migrations = Migrations(project.database, metadata=tags(), directory="elsewhere")
    calls: list[str] = []
    migrations.after_migrate(lambda connection: calls.append("hook"))

    moved = migrations.in_directory(project.directory)
    assert (moved.database, moved.metadata) == (migrations.database, migrations.metadata)
    assert moved.directory == project.directory
    moved.makemigrations("create tags")
    moved.migrate()

    assert calls == ["hook"]
    assert not migrations.initialized
