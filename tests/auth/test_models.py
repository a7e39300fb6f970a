"""User models (default, extended, replaced), groups and the anonymous user, on real databases."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from satchel.auth.models import ANONYMOUS, AnonymousUser, AuthUser, Group, Permission
from satchel.auth.user import User
from satchel.db import Database, Model
from satchel.errors import Conflict
from tests.auth.models import ClubMember, Operator


def test_default_user_tables() -> None:
    tables = Model.metadata.tables
    assert User.__tablename__ == "auth_user"
    assert set(tables["auth_user_groups"].c.keys()) == {"user_id", "group_id"}
    assert set(tables["auth_user_permissions"].c.keys()) == {"user_id", "permission_id"}
    assert set(tables["auth_group_permissions"].c.keys()) == {"group_id", "permission_id"}
    assert {c.name for c in tables["auth_user"].c} == {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "password",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
    }
    assert tables["auth_user"].c.username.unique
    assert tables["auth_user"].c.password.nullable
    assert not tables["auth_user"].c.email.unique
    assert tables["auth_user"].c.email.index


def test_an_extended_user_gets_association_tables_of_its_own() -> None:
    tables = Model.metadata.tables
    assert "nickname" in tables["club_member"].c
    for kind, other in (("groups", "auth_group"), ("permissions", "auth_permission")):
        table = tables[f"club_member_{kind}"]
        referred = {key.column.table.name for key in table.foreign_keys}
        assert referred == {"club_member", other}
    assert ClubMember.groups.property.secondary is tables["club_member_groups"]
    assert User.groups.property.secondary is tables["auth_user_groups"]


def test_users_satisfy_the_protocol() -> None:
    user = User(username="ada")
    assert isinstance(user, AuthUser)
    assert isinstance(ClubMember(username="bob"), AuthUser)
    assert isinstance(Operator(login="root"), AuthUser)
    assert user.is_authenticated
    assert not user.is_anonymous
    assert user.get_username() == "ada"
    assert repr(user) == "<User 'ada'>"
    assert Operator(login="root").get_username() == "root"


def test_the_anonymous_user() -> None:
    assert AnonymousUser() == ANONYMOUS
    assert hash(ANONYMOUS) == hash(AnonymousUser())
    assert User(username="ada") != ANONYMOUS
    assert ANONYMOUS.id is None
    assert ANONYMOUS.is_anonymous
    assert not ANONYMOUS.is_authenticated
    assert not ANONYMOUS.is_active
    assert not ANONYMOUS.is_staff
    assert not ANONYMOUS.is_superuser
    assert ANONYMOUS.get_username() == ""
    assert ANONYMOUS.password is None
    assert ANONYMOUS.last_login is None
    assert repr(ANONYMOUS) == "AnonymousUser()"


def test_a_stored_user_gets_its_defaults(database: Database) -> None:
    async def scenario() -> None:
        async with database.transaction() as db:
            user = User(username="ada")
            db.add(user)
            await db.flush()
            assert user.is_active
            assert not user.is_staff
            assert not user.is_superuser
            assert (user.email, user.first_name, user.last_name) == ("", "", "")
            assert user.password is None
            assert user.last_login is None
            # Set by the database and read back by the INSERT itself.
            assert user.date_joined.tzinfo is not None
        await database.dispose()

    asyncio.run(scenario())


def test_usernames_are_unique(database: Database) -> None:
    async def scenario() -> None:
        async with database.transaction() as db:
            db.add(User(username="ada"))
        with pytest.raises(Conflict):
            async with database.transaction() as db:
                db.add(User(username="ada"))
        await database.dispose()

    asyncio.run(scenario())


def test_groups_and_permissions_of_default_and_extended_users(database: Database) -> None:
    async def scenario() -> None:
        async with database.transaction() as db:
            edit = Permission(codename="blog.change_essay", name="Can change essay")
            view = Permission(codename="blog.view_essay", name="Can view essay")
            editors = Group(name="editors", permissions=[edit, view])
            db.add(User(username="ada", groups=[editors], user_permissions=[view]))
            db.add(ClubMember(username="ada", nickname="A", groups=[editors]))
        async with database.session() as db:
            user = await db.scalar(
                sa.select(User).options(
                    selectinload(User.groups).selectinload(Group.permissions),
                    selectinload(User.user_permissions),
                )
            )
            member = await db.scalar(sa.select(ClubMember).options(selectinload(ClubMember.groups)))
            assert user is not None
            assert member is not None
            assert [group.name for group in user.groups] == ["editors"]
            assert [p.codename for p in user.groups[0].permissions] == [
                "blog.change_essay",
                "blog.view_essay",
            ]
            assert [p.codename for p in user.user_permissions] == ["blog.view_essay"]
            assert [group.name for group in member.groups] == ["editors"]
            assert repr(member.groups[0]) == "<Group 'editors'>"
            assert repr(user.user_permissions[0]) == "<Permission 'blog.view_essay'>"
            # Each user model has its own membership rows.
            assert await db.scalar(sa.text("SELECT count(*) FROM auth_user_groups")) == 1
            assert await db.scalar(sa.text("SELECT count(*) FROM club_member_groups")) == 1
        await database.dispose()

    asyncio.run(scenario())


def test_deleting_a_user_removes_its_memberships_not_its_groups(database: Database) -> None:
    async def scenario() -> None:
        async with database.transaction() as db:
            db.add(User(username="ada", groups=[Group(name="editors")]))
        async with database.transaction() as db:
            user = await db.scalar(sa.select(User).options(selectinload(User.groups)))
            await db.delete(user)
        async with database.session() as db:
            assert await db.scalar(sa.text("SELECT count(*) FROM auth_user_groups")) == 0
            assert await db.scalar(sa.select(Group.name)) == "editors"
        await database.dispose()

    asyncio.run(scenario())
