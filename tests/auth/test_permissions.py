"""Permission names per model, creating the missing rows, and reading a user's set in one query."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from satchel.auth.models import Group, Permission
from satchel.auth.permissions import (
    add_permission_hook,
    load_permissions,
    mapped_models,
    model_label,
    model_permissions,
    sync_permissions,
    sync_permissions_sync,
)
from satchel.auth.user import User
from satchel.db import Database, Model
from satchel.errors import ConfigurationError
from tests.auth.models import ClubMember, Essay, Operator
from tests.db.migrations import conftest as migration_fixtures
from tests.db.migrations.conftest import Project, metadata

# An empty database per test (SQLite file, PostgreSQL schema) and a migrations folder.
backend = migration_fixtures.backend
project = migration_fixtures.project


def plain_class(name: str, module: str, **attributes: Any) -> type[Any]:
    return type(name, (), {"__module__": module, **attributes})


def test_model_permissions_standard_and_custom() -> None:
    assert model_permissions(Essay) == {
        "blog.view_essay": "Can view essay",
        "blog.add_essay": "Can add essay",
        "blog.change_essay": "Can change essay",
        "blog.delete_essay": "Can delete essay",
        "blog.publish_essay": "Can publish essays",
    }
    assert "auth.change_user" in model_permissions(User)
    assert "auth.delete_club_member" in model_permissions(ClubMember)
    assert model_permissions(plain_class("HTTPLogEntry", "ops.models"))[
        "ops.view_http_log_entry"
    ] == ("Can view http log entry")


@pytest.mark.parametrize(
    ("module", "label"),
    [
        ("blog.models", "blog"),
        ("shop.blog.models", "blog"),
        ("shop.blog.models.article", "blog"),
        ("shop.blog", "blog"),
        ("blog", "blog"),
        ("models", "models"),
    ],
)
def test_model_label_from_the_module(module: str, label: str) -> None:
    assert model_label(plain_class("Article", module)) == label


def test_model_label_given() -> None:
    assert model_label(plain_class("Article", "shop.models", __app_label__="news")) == "news"
    assert model_label(Group) == model_label(Permission) == model_label(User) == "auth"


@pytest.mark.parametrize("name", ["blog.publish", "Publish", "publish now", "", "9lives"])
def test_custom_permission_names_are_checked(name: str) -> None:
    model = plain_class("Essay", "blog.models", __permissions__={name: "Can do it"})
    with pytest.raises(ConfigurationError, match="is not a permission name"):
        model_permissions(model)


def test_mapped_models_of_a_metadata() -> None:
    found = mapped_models()
    assert {User, ClubMember, Operator, Essay, Group, Permission} <= set(found)
    assert mapped_models([Model.metadata]) == found
    assert mapped_models(sa.MetaData()) == []


def all_codenames() -> set[str]:
    return {codename for model in mapped_models() for codename in model_permissions(model)}


def test_sync_permissions_creates_the_missing_rows_once(database: Database) -> None:
    async def scenario() -> None:
        async with database.transaction() as db:
            assert await sync_permissions(db, [Essay]) == sorted(model_permissions(Essay))
        async with database.transaction() as db:
            created = await sync_permissions(db)
            assert set(created) == all_codenames() - set(model_permissions(Essay))
            assert created == sorted(created)
        async with database.transaction() as db:
            assert await sync_permissions(db) == []
            names = dict((await db.execute(sa.select(Permission.codename, Permission.name))).all())
        assert names["blog.publish_essay"] == "Can publish essays"
        assert names["auth.add_user"] == "Can add user"
        await database.dispose()

    asyncio.run(scenario())


def test_sync_permissions_never_deletes(database: Database) -> None:
    async def scenario() -> None:
        async with database.transaction() as db:
            db.add(Permission(codename="gone.view_thing", name="Can view thing"))
        async with database.transaction() as db:
            await sync_permissions(db, [Essay])
        async with database.session() as db:
            assert await db.scalar(
                sa.select(Permission.name).where(Permission.codename == "gone.view_thing")
            )
        await database.dispose()

    asyncio.run(scenario())


def test_sync_permissions_without_the_table_does_nothing() -> None:
    engine = sa.create_engine("sqlite://")
    try:
        with engine.begin() as connection:
            assert sync_permissions_sync(connection, [Essay]) == []
    finally:
        engine.dispose()


async def grant(database: Database) -> None:
    """ada: view directly, view + change through editors, publish through reviewers; bob: delete."""
    async with database.transaction() as db:
        await sync_permissions(db, [Essay])
        perms = {p.codename: p for p in await db.scalars(sa.select(Permission))}
        editors = Group(
            name="editors", permissions=[perms["blog.view_essay"], perms["blog.change_essay"]]
        )
        reviewers = Group(name="reviewers", permissions=[perms["blog.publish_essay"]])
        db.add_all(
            [
                User(
                    username="ada",
                    groups=[editors, reviewers],
                    user_permissions=[perms["blog.view_essay"]],
                ),
                User(username="bob", user_permissions=[perms["blog.delete_essay"]]),
                User(username="cy", is_superuser=True),
                ClubMember(username="ada", groups=[reviewers]),
            ]
        )


def test_load_permissions_unites_direct_and_group_permissions(database: Database) -> None:
    async def scenario() -> None:
        await grant(database)
        async with database.session() as db:
            users = {u.username: u for u in await db.scalars(sa.select(User))}
            member = await db.scalar(sa.select(ClubMember))
            assert await load_permissions(db, users["ada"]) == {
                "blog.view_essay",
                "blog.change_essay",
                "blog.publish_essay",
            }
            assert await load_permissions(db, users["bob"]) == {"blog.delete_essay"}
            # Superusers are the caller's business: nothing was given to cy.
            assert await load_permissions(db, users["cy"]) == frozenset()
            # The same id in another user model's tables is another user.
            assert await load_permissions(db, member) == {"blog.publish_essay"}
        await database.dispose()

    asyncio.run(scenario())


def test_load_permissions_is_one_query(database: Database) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    async def scenario() -> None:
        await grant(database)
        async with database.session() as db:
            user = await db.scalar(sa.select(User).where(User.username == "ada"))
            sa.event.listen(database.engine.sync_engine, "before_cursor_execute", count)
            try:
                await load_permissions(db, user)
            finally:
                sa.event.remove(database.engine.sync_engine, "before_cursor_execute", count)
        await database.dispose()

    asyncio.run(scenario())
    assert len(statements) == 1
    assert "UNION" in statements[0]


def test_load_permissions_of_users_without_any(database: Database) -> None:
    async def scenario() -> None:
        async with database.transaction() as db:
            operator = Operator(login="root")
            db.add(operator)
            await db.flush()
            # A model of its own has no groups or permissions; a user not stored has no id.
            assert await load_permissions(db, operator) == frozenset()
            assert await load_permissions(db, User(username="new")) == frozenset()
        await database.dispose()

    asyncio.run(scenario())


def test_migrate_creates_the_permissions_of_every_model(project: Project) -> None:
    migrations = project.at(Model.metadata)
    add_permission_hook(migrations)

    def stored() -> list[str]:
        return [row[0] for row in project.execute("SELECT codename FROM auth_permission")]

    migrations.makemigrations("initial")
    migrations.migrate()

    assert set(stored()) == all_codenames()
    assert {"auth.change_user", "auth.view_club_member", "blog.publish_essay"} <= set(stored())

    # Migrating again fills in what is missing, creates nothing twice, deletes nothing.
    project.execute("DELETE FROM auth_permission WHERE codename = 'blog.publish_essay'")
    project.execute(
        "INSERT INTO auth_permission (codename, name) VALUES ('gone.view_thing', 'Can view thing')"
    )
    assert migrations.migrate() == []
    assert sorted(stored()) == sorted(all_codenames() | {"gone.view_thing"})
    migrations.migrate()
    assert len(stored()) == len(all_codenames()) + 1


def test_migrating_models_without_the_auth_tables_creates_no_permissions(project: Project) -> None:
    models = metadata()
    sa.Table("tag", models, sa.Column("id", sa.Integer, primary_key=True))
    migrations = project.at(models)
    add_permission_hook(migrations)
    migrations.makemigrations("create tags")

    assert len(migrations.migrate()) == 1
    assert not project.inspect(lambda schema: schema.has_table("auth_permission"))
