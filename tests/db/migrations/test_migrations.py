"""``Migrations``: the environment, writing, applying and reverting migrations, data migrations."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from satchel import App, Settings
from satchel.db import Database, Model
from satchel.db.migrations import (
    DEFAULT_DIRECTORY,
    MigrationError,
    Migrations,
    NoChanges,
    Revision,
    migrations_of,
)
from satchel.errors import ConfigurationError
from satchel.sessions import DatabaseStore
from tests.db.migrations.conftest import Backend, Project, metadata


def posts(*, slug: bool = False) -> sa.MetaData:
    models = metadata()
    sa.Table(
        "post",
        models,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(100), nullable=False),
        *([sa.Column("slug", sa.String(100))] if slug else []),
    )
    return models


def test_init_writes_the_environment(tmp_path: Path) -> None:
    migrations = Migrations(Database(), directory=tmp_path / "db" / "migrations")
    assert not migrations.initialized

    written = migrations.init()

    folder = tmp_path / "db" / "migrations"
    assert sorted(written) == sorted(
        [folder / "versions", folder / "env.py", folder / "script.py.mako"]
    )
    assert migrations.initialized
    assert (folder / "versions").is_dir()
    env_py = (folder / "env.py").read_text()
    assert "from satchel.db.migrations import run_environment\n\nrun_environment()\n" in env_py
    assert not (folder / "alembic.ini").exists()
    with pytest.raises(MigrationError, match="already holds a migration environment"):
        migrations.init()


def test_first_makemigrations_creates_the_environment(project: Project) -> None:
    migrations = project.at(posts())
    revision = migrations.makemigrations("create posts")
    assert migrations.initialized
    assert revision.path.parent == project.directory / "versions"
    assert revision.message == "create posts"
    assert revision.parents == ()
    assert revision.head


def test_commands_need_the_environment(project: Project) -> None:
    migrations = project.at(posts())
    for run in (migrations.migrate, migrations.history, migrations.current, migrations.check):
        with pytest.raises(MigrationError, match=r"no migration environment in .*satchel db init"):
            run()


def test_an_empty_migration_is_refused_unless_asked_for(project: Project) -> None:
    migrations = project.at(posts())
    migrations.makemigrations("create posts")
    migrations.migrate()

    with pytest.raises(NoChanges, match="no changes detected"):
        migrations.makemigrations("nothing")
    assert len(migrations.history()) == 1

    revision = migrations.makemigrations("by hand", empty=True)
    source = revision.path.read_text()
    assert "def upgrade() -> None:\n    pass\n" in source
    assert "def downgrade() -> None:\n    pass\n" in source


def test_files_and_identifiers_sort_in_creation_order(project: Project) -> None:
    migrations = project.at(posts())
    made = [migrations.makemigrations("first")]
    made += [migrations.makemigrations(name, empty=True) for name in ("second", "third")]

    assert [revision.id for revision in migrations.history()] == [r.id for r in made]
    assert sorted(path.name for path in (project.directory / "versions").glob("*.py")) == [
        r.path.name for r in made
    ]
    for revision in made:
        assert re.fullmatch(r"\d{8}_\d{6}_\d{4}", revision.id)
        assert revision.path.name.startswith(revision.id + "_")
    assert made[1].parents == (made[0].id,)
    assert [head.id for head in migrations.heads()] == [made[2].id]


def test_messages_are_kept_as_written(project: Project) -> None:
    migrations = project.at(posts())
    message = 'rename "title" to C:\\heading'
    assert migrations.makemigrations(message).message == message
    assert migrations.history()[0].message == message


def test_migrate_current_and_downgrade_to_base(project: Project) -> None:
    migrations = project.at(posts(slug=True))
    first = project.at(posts()).makemigrations("create posts")
    assert migrations.current() == []
    assert [r.id for r in migrations.migrate()] == [first.id]
    second = migrations.makemigrations("add slugs")
    assert [r.id for r in migrations.current()] == [first.id]
    assert [r.id for r in migrations.migrate()] == [second.id]
    assert migrations.migrate() == []
    assert [r.id for r in migrations.current()] == [second.id]

    assert [r.id for r in migrations.downgrade("base")] == [second.id, first.id]
    assert migrations.current() == []
    tables = project.inspect(lambda schema: schema.get_table_names())
    assert tables == ["alembic_version"]

    assert [r.id for r in migrations.migrate(first.id)] == [first.id]
    assert [r.id for r in migrations.current()] == [first.id]
    assert [r.id for r in migrations.migrate("+1")] == [second.id]


def test_an_unknown_revision_is_an_error(project: Project) -> None:
    migrations = project.at(posts())
    migrations.makemigrations("create posts")
    with pytest.raises(MigrationError, match="nope"):
        migrations.migrate("nope")


def test_check_passes_fails_and_needs_an_up_to_date_database(project: Project) -> None:
    old, new = project.at(posts()), project.at(posts(slug=True))
    old.makemigrations("create posts")
    with pytest.raises(MigrationError, match=r"not at the latest migration .*migrate it first"):
        old.check()
    old.migrate()
    assert old.check() == []
    assert new.check() == ["+ column post.slug (VARCHAR(100))"]


def test_tables_declared_elsewhere_are_kept_when_their_metadata_is_given(
    project: Project,
) -> None:
    # A DatabaseStore keeps its table in the app's database, outside the models: a migration
    # written from the models alone would drop it with every session in it.
    store = DatabaseStore(engine=project.database.engine)

    async def create_store_table() -> None:
        try:
            await store.create_table()
        finally:
            await project.database.dispose()

    asyncio.run(create_store_table())
    models = posts()
    both = Migrations(
        project.database, metadata=[models, store.table.metadata], directory=project.directory
    )

    source = both.makemigrations("create posts").path.read_text()

    assert "create_table('post'" in source
    assert "satchel_sessions" not in source
    both.migrate()
    assert both.check() == []
    assert "- table satchel_sessions" in project.at(models).check()
    assert project.inspect(lambda schema: schema.has_table("satchel_sessions"))


def test_data_migration(project: Project) -> None:
    project.at(posts()).makemigrations("create posts")
    project.at(posts()).migrate()
    project.execute("INSERT INTO post (title) VALUES ('First Post'), ('Second Post')")
    migrations = project.at(posts(slug=True))
    migrations.makemigrations("add slugs")
    data = migrations.makemigrations("fill slugs", empty=True)
    source = data.path.read_text()
    source = source.replace(
        "def upgrade() -> None:\n    pass\n",
        "def upgrade() -> None:\n"
        "    op.execute(\"UPDATE post SET slug = lower(replace(title, ' ', '-'))\")\n"
        "    post = sa.table('post', sa.column('title'), sa.column('slug'))\n"
        "    op.bulk_insert(post, [{'title': 'Third', 'slug': 'third'}])\n",
    ).replace(
        "def downgrade() -> None:\n    pass\n",
        "def downgrade() -> None:\n"
        "    op.execute(\"DELETE FROM post WHERE title = 'Third'\")\n"
        '    op.execute("UPDATE post SET slug = NULL")\n',
    )
    data.path.write_text(source)

    migrations.migrate()

    rows = project.execute("SELECT title, slug FROM post ORDER BY id")
    assert rows == [
        ("First Post", "first-post"),
        ("Second Post", "second-post"),
        ("Third", "third"),
    ]
    assert migrations.check() == []
    migrations.downgrade("-1")
    rows = project.execute("SELECT title, slug FROM post ORDER BY id")
    assert rows == [("First Post", None), ("Second Post", None)]


def test_sqlite_alters_columns_in_batch_keeping_rows(tmp_path: Path) -> None:
    # Batch mode is what makes ALTER COLUMN possible on SQLite: the table is copied.
    backend = Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    project = Project(backend, tmp_path / "migrations", backend.database())
    before = metadata()
    sa.Table(
        "post",
        before,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(50)),
        sa.Column("legacy", sa.Integer),
    )
    after = metadata()
    sa.Table(
        "post",
        after,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
    )
    project.at(before).makemigrations("create posts")
    project.at(before).migrate()
    project.execute("INSERT INTO post (title, legacy) VALUES ('kept', 1)")

    revision = project.at(after).makemigrations("alter posts")
    project.at(after).migrate()

    source = revision.path.read_text()
    assert "with op.batch_alter_table('post', schema=None) as batch_op:" in source
    assert "batch_op.alter_column('title'" in source
    assert project.execute("SELECT id, title FROM post") == [(1, "kept")]
    columns = project.inspect(lambda schema: schema.get_columns("post"))
    assert [(c["name"], str(c["type"]), c["nullable"]) for c in columns] == [
        ("id", "INTEGER", False),
        ("title", "TEXT", False),
    ]


def test_a_failing_migration_keeps_the_ones_before_it(project: Project) -> None:
    migrations = project.at(posts())
    first = migrations.makemigrations("create posts")
    broken = migrations.makemigrations("broken", empty=True)
    broken.path.write_text(
        broken.path.read_text().replace(
            "def upgrade() -> None:\n    pass\n",
            "def upgrade() -> None:\n"
            "    op.create_table('half', sa.Column('id', sa.Integer))\n"
            "    op.execute('SELECT * FROM no_such_table')\n",
        )
    )

    with pytest.raises(sa.exc.DatabaseError, match="no_such_table"):
        migrations.migrate()

    assert [r.id for r in migrations.current()] == [first.id]
    # Each migration has a transaction of its own: nothing of the failed one stays.
    assert "half" not in project.inspect(lambda schema: schema.get_table_names())


def test_the_alembic_command_is_turned_away(project: Project) -> None:
    project.at(posts()).init()
    config = Config()
    config.set_main_option("script_location", str(project.directory))
    with pytest.raises(MigrationError, match="use the 'satchel db' commands"):
        command.upgrade(config, "head")


def test_methods_refuse_to_run_inside_an_event_loop(project: Project) -> None:
    migrations = project.at(posts())
    migrations.makemigrations("create posts")

    async def migrate_in_loop() -> None:
        migrations.migrate()

    with pytest.raises(MigrationError, match=r"asyncio\.to_thread"):
        asyncio.run(migrate_in_loop())

    async def migrate_in_thread() -> None:
        await asyncio.to_thread(migrations.migrate)

    asyncio.run(migrate_in_thread())
    assert len(migrations.current()) == 1


def test_migrations_of_an_app(tmp_path: Path) -> None:
    app = App(settings=Settings())
    with pytest.raises(ConfigurationError, match="no Database for this app"):
        migrations_of(app)
    database = Database()
    database.init_app(app)

    default = migrations_of(app)
    assert default.database is database
    assert default.metadata is Model.metadata
    assert default.directory == Path(DEFAULT_DIRECTORY)

    own = Migrations(database, metadata=posts(), directory=tmp_path)
    own.init_app(app)
    assert migrations_of(app) is own
    with pytest.raises(ConfigurationError, match="already has its Migrations"):
        Migrations(database).init_app(app)
    assert (
        repr(own)
        == f"Migrations(Database('sqlite+aiosqlite:///satchel.db'), directory={str(tmp_path)!r})"
    )


def branch_from(revision: Revision, new_id: str, message: str) -> None:
    """Write a migration with ``revision``'s parent, as a teammate's branch would."""
    source = revision.path.read_text().replace(revision.id, new_id)
    source = source.replace(revision.message, message)
    (revision.path.parent / f"{new_id}_{message}.py").write_text(source)


def test_parallel_migrations_are_applied_and_merged(project: Project) -> None:
    migrations = project.at(posts())
    first = migrations.makemigrations("create posts")
    mine = migrations.makemigrations("mine", empty=True)
    branch_from(mine, "20000101_000000_0001", "theirs")
    assert sorted(head.id for head in migrations.heads()) == sorted(
        [mine.id, "20000101_000000_0001"]
    )

    with pytest.raises(MigrationError, match="Multiple heads"):
        migrations.makemigrations("more", empty=True)
    applied = [revision.id for revision in migrations.migrate()]
    assert applied[0] == first.id
    assert sorted(applied[1:]) == sorted([mine.id, "20000101_000000_0001"])

    merged = migrations.merge("join branches")
    assert sorted(merged.parents) == sorted([mine.id, "20000101_000000_0001"])
    assert [head.id for head in migrations.heads()] == [merged.id]
    assert [revision.id for revision in migrations.migrate()] == [merged.id]
    assert migrations.check() == []
    with pytest.raises(MigrationError, match="nothing to merge"):
        migrations.merge("again")


def test_a_database_at_a_missing_revision(project: Project) -> None:
    migrations = project.at(posts())
    revision = migrations.makemigrations("create posts")
    migrations.migrate()
    revision.path.unlink()
    with pytest.raises(
        MigrationError, match=f"Can't locate revision identified by '{revision.id}'"
    ):
        migrations.current()
