"""Autogenerate finds each kind of change, and the migration it writes applies and reverts.

Every test evolves models of its own (a fresh MetaData), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from satchel.db import timestamps
from satchel.db.models import NAMING_CONVENTION, UTCDateTime
from tests.db.migrations.conftest import Project, metadata


def evolve(project: Project, before: sa.MetaData, after: sa.MetaData, *found: str) -> str:
    """Migrate to ``before``; check that ``after`` differs by ``found``; migrate, revert, redo.

    Ends migrated to ``after`` and returns the source of the migration written for it.
    """
    first, second = project.at(before), project.at(after)
    initial = first.makemigrations("before")
    first.migrate()
    assert first.check() == []
    assert sorted(second.check()) == sorted(found)
    revision = second.makemigrations("after")
    assert [applied.id for applied in second.migrate()] == [revision.id]
    assert second.check() == []
    # Reverted, the change can be made again: the downgrade undid all of it.
    assert [undone.id for undone in second.downgrade("-1")] == [revision.id]
    assert [current.id for current in second.current()] == [initial.id]
    assert [applied.id for applied in second.migrate()] == [revision.id]
    assert second.check() == []
    return revision.path.read_text()


def test_added_and_removed_tables(project: Project) -> None:
    before, after = metadata(), metadata()
    for models in (before, after):
        sa.Table("post", models, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("old", before, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("comment", after, sa.Column("id", sa.Integer, primary_key=True))

    source = evolve(project, before, after, "+ table comment", "- table old")

    assert "op.create_table('comment'" in source
    assert "op.drop_table('old')" in source
    tables = set(project.inspect(lambda schema: schema.get_table_names()))
    assert tables == {"alembic_version", "comment", "post"}


def test_added_and_removed_columns(project: Project) -> None:
    before, after = metadata(), metadata()
    sa.Table(
        "post", before, sa.Column("id", sa.Integer, primary_key=True), sa.Column("gone", sa.Integer)
    )
    sa.Table(
        "post",
        after,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(50)),
    )

    source = evolve(
        project,
        before,
        after,
        "+ column post.title (VARCHAR(50))",
        "- column post.gone (INTEGER)",
    )

    assert "add_column(sa.Column('title', sa.String(length=50)" in source
    assert "drop_column('gone')" in source
    columns = project.inspect(lambda schema: schema.get_columns("post"))
    assert [column["name"] for column in columns] == ["id", "title"]


def test_type_changes(project: Project) -> None:
    before, after = metadata(), metadata()
    sa.Table(
        "post",
        before,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(50)),
    )
    sa.Table(
        "post",
        after,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200)),
    )

    source = evolve(project, before, after, "~ column post.title: VARCHAR(50) -> VARCHAR(200)")

    assert "type_=sa.String(length=200)" in source
    (title,) = project.inspect(lambda schema: schema.get_columns("post"))[1:]
    assert str(title["type"]) == "VARCHAR(200)"


def test_nullability(project: Project) -> None:
    before, after = metadata(), metadata()
    for models, nullable in ((before, True), (after, False)):
        sa.Table(
            "post",
            models,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("title", sa.String(50), nullable=nullable),
        )

    source = evolve(project, before, after, "~ column post.title: NULL -> NOT NULL")

    assert "nullable=False" in source
    (title,) = project.inspect(lambda schema: schema.get_columns("post"))[1:]
    assert title["nullable"] is False


def test_indexes(project: Project) -> None:
    before, after = metadata(), metadata()
    for models, indexed in ((before, "slug"), (after, "title")):
        sa.Table(
            "post",
            models,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("slug", sa.String(50), index=indexed == "slug"),
            sa.Column("title", sa.String(50), index=indexed == "title"),
        )

    source = evolve(
        project,
        before,
        after,
        "+ index ix_post_title on post (title)",
        "- index ix_post_slug on post (slug)",
    )

    assert "create_index(batch_op.f('ix_post_title'), ['title'], unique=False)" in source
    assert "drop_index(batch_op.f('ix_post_slug'))" in source
    indexes = project.inspect(lambda schema: schema.get_indexes("post"))
    assert [(index["name"], index["column_names"]) for index in indexes] == [
        ("ix_post_title", ["title"])
    ]


def test_unique_constraints(project: Project) -> None:
    before, after = metadata(), metadata()
    for models, unique in ((before, "code"), (after, "slug")):
        sa.Table(
            "post",
            models,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("code", sa.String(50), unique=unique == "code"),
            sa.Column("slug", sa.String(50), unique=unique == "slug"),
        )

    source = evolve(
        project,
        before,
        after,
        "+ unique constraint uq_post_slug on post (slug)",
        "- unique constraint uq_post_code on post (code)",
    )

    assert "create_unique_constraint(batch_op.f('uq_post_slug'), ['slug'])" in source
    assert "drop_constraint(batch_op.f('uq_post_code'), type_='unique')" in source
    constraints = project.inspect(lambda schema: schema.get_unique_constraints("post"))
    assert [(found["name"], found["column_names"]) for found in constraints] == [
        ("uq_post_slug", ["slug"])
    ]


def test_foreign_keys(project: Project) -> None:
    before, after = metadata(), metadata()
    for models, referring in ((before, "editor_id"), (after, "author_id")):
        sa.Table("author", models, sa.Column("id", sa.Integer, primary_key=True))
        sa.Table(
            "post",
            models,
            sa.Column("id", sa.Integer, primary_key=True),
            *(
                sa.Column(name, sa.Integer, *([sa.ForeignKey("author.id")] * (name == referring)))
                for name in ("author_id", "editor_id")
            ),
        )

    source = evolve(
        project,
        before,
        after,
        "+ foreign key fk_post_author_id_author on post (author_id) -> author.id",
        "- foreign key fk_post_editor_id_author on post (editor_id) -> author.id",
    )

    assert "create_foreign_key(batch_op.f('fk_post_author_id_author'), 'author'" in source
    assert "drop_constraint(batch_op.f('fk_post_editor_id_author'), type_='foreignkey')" in source
    keys = project.inspect(lambda schema: schema.get_foreign_keys("post"))
    assert [(key["name"], key["constrained_columns"]) for key in keys] == [
        ("fk_post_author_id_author", ["author_id"])
    ]


def test_comments(project: Project) -> None:
    before, after = metadata(), metadata()
    sa.Table(
        "post",
        before,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(50)),
    )
    sa.Table(
        "post",
        after,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(50), comment="shown in lists"),
        comment="blog posts",
    )
    if project.backend.name == "sqlite":
        # SQLite keeps no comments, so there is nothing to compare.
        project.at(before).makemigrations("before")
        project.at(before).migrate()
        assert project.at(after).check() == []
        return

    source = evolve(
        project,
        before,
        after,
        "~ column post.title: no comment -> comment 'shown in lists'",
        "+ comment on table post",
    )

    assert "create_table_comment(" in source


def test_declarative_models_with_satchel_types_migrate_cleanly(project: Project) -> None:
    class Base(DeclarativeBase):
        metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    class Event(Base, timestamps):  # declared for its table
        __tablename__ = "event"
        id: Mapped[int] = mapped_column(primary_key=True)
        slug: Mapped[str] = mapped_column(sa.String(40), unique=True, index=True)
        starts_at: Mapped[datetime] = mapped_column(UTCDateTime())

    migrations = project.at(Base.metadata)
    revision = migrations.makemigrations("create events")
    migrations.migrate()

    source = revision.path.read_text()
    # The migration names satchel's type by module, and imports that module.
    assert "import satchel.db.models\n" in source
    assert "satchel.db.models.UTCDateTime(timezone=True)" in source
    # Nothing differs afterwards: no false positives from the mixin or the custom type.
    assert migrations.check() == []
