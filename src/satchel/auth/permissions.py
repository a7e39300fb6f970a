"""Permission names per model, the rows ``satchel db migrate`` creates, and a user's set.

Every model gets four permissions, ``"<label>.<action>_<model>"`` for the actions
view, add, change and delete (``"blog.change_article"``), plus those it lists in
``__permissions__``::

    class Article(Model):
        __permissions__ = {"publish_article": "Can publish articles"}

The label is the model's ``__app_label__``, else the package of its ``models``
module (``blog`` for ``blog.models``), else its module's last name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from satchel.errors import ConfigurationError, MissingDependencyError

try:
    import sqlalchemy as sa
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "auth") from exc

from satchel.auth.models import Permission, group_permissions
from satchel.db.models import Model, table_name
from satchel.db.session import DbSession

if TYPE_CHECKING:
    from satchel.db.migrations import Migrations

__all__ = [
    "ACTIONS",
    "add_permission_hook",
    "load_permissions",
    "mapped_models",
    "model_label",
    "model_permissions",
    "sync_permissions",
    "sync_permissions_sync",
]

#: The actions every model has a permission for.
ACTIONS = ("view", "add", "change", "delete")

_CODENAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


def model_label(model: type[Any]) -> str:
    """The label that starts ``model``'s permission names (``"blog"``).

    ``__app_label__`` when the model has one; else the module segment before
    ``models`` (``shop.blog.models.article`` -> ``blog``); else the module's last
    segment (``shop.blog`` -> ``blog``).
    """
    label = getattr(model, "__app_label__", None)
    if isinstance(label, str):
        return label
    parts = model.__module__.split(".")
    if "models" in parts[1:]:
        return parts[parts.index("models", 1) - 1]
    return parts[-1]


def model_permissions(model: type[Any]) -> dict[str, str]:
    """Every permission of ``model``: codename -> human-readable name.

    >>> from satchel.auth.models import Group
    >>> model_permissions(Group)["auth.change_group"]
    'Can change group'

    Raises:
        ConfigurationError: A key of ``__permissions__`` is not a lowercase name
            (letters, digits, underscores; the label is added here).
    """
    label = model_label(model)
    name = table_name(model.__name__)
    words = name.replace("_", " ")
    found = {f"{label}.{action}_{name}": f"Can {action} {words}" for action in ACTIONS}
    custom: dict[str, str] = getattr(model, "__permissions__", {})
    for codename, description in custom.items():
        if not _CODENAME.match(codename):
            raise ConfigurationError(
                f"{model.__name__}.__permissions__: {codename!r} is not a permission name "
                f"(lowercase letters, digits and underscores, like 'publish_{name}'; "
                f"the label '{label}.' is added)"
            )
        found[f"{label}.{codename}"] = description
    return found


def mapped_models(
    metadata: sa.MetaData | Iterable[sa.MetaData] = Model.metadata,
) -> list[type[Any]]:
    """The classes mapped by ``Model`` subclasses whose tables are in ``metadata``."""
    wanted = [metadata] if isinstance(metadata, sa.MetaData) else list(metadata)
    found = [
        mapper.class_
        for mapper in Model.registry.mappers
        if isinstance(mapper.local_table, sa.Table)
        and any(mapper.local_table.metadata is each for each in wanted)
    ]
    return sorted(found, key=lambda model: (model.__module__, model.__qualname__))


def sync_permissions_sync(
    connection: sa.Connection, models: Iterable[type[Any]] | None = None
) -> list[str]:
    """Insert the permissions of ``models`` (all mapped models) that are missing.

    Runs in ``connection``'s transaction (commit it). Never deletes: a permission
    of a removed model stays, with the groups and users holding it. Does nothing
    when the database has no ``auth_permission`` table yet.

    Returns:
        The codenames created, sorted.
    """
    if not sa.inspect(connection).has_table(Permission.__tablename__):
        return []
    wanted: dict[str, str] = {}
    for model in mapped_models() if models is None else models:
        wanted.update(model_permissions(model))
    existing = set(connection.scalars(sa.select(Permission.codename)))
    missing = sorted(codename for codename in wanted if codename not in existing)
    if missing:
        rows = [{"codename": codename, "name": wanted[codename]} for codename in missing]
        connection.execute(sa.insert(Permission), rows)
    return missing


async def sync_permissions(db: DbSession, models: Iterable[type[Any]] | None = None) -> list[str]:
    """``sync_permissions_sync`` in ``db``'s transaction (commit it).

    Returns:
        The codenames created, sorted.
    """
    chosen = None if models is None else list(models)
    created: list[str] = await db.run_sync(
        lambda session: sync_permissions_sync(session.connection(), chosen)
    )
    return created


def add_permission_hook(migrations: Migrations) -> None:
    """Create the missing permissions of ``migrations``' models each time it migrates.

    ``Auth.init_app`` calls it for the app's Migrations; the models are those mapped
    to the tables of ``migrations.metadata`` when the migration runs.
    """

    def create_permissions(connection: sa.Connection) -> None:
        sync_permissions_sync(connection, mapped_models(migrations.metadata))

    migrations.after_migrate(create_permissions)


async def load_permissions(db: DbSession, user: Any) -> frozenset[str]:
    """The codenames ``user`` holds, directly or through its groups, read in one query.

    Whether the user is active or a superuser is left to the caller. A user model
    without ``groups`` and ``user_permissions`` (a replacement not built on
    ``UserMixin``), or a user not yet stored, holds none.
    """
    query = _permissions_query(type(user), user.id)
    if query is None:
        return frozenset()
    return frozenset(await db.scalars(query))


def _permissions_query(model: type[Any], user_id: Any) -> sa.CompoundSelect[Any] | None:
    relationships = sa.inspect(model).relationships
    if user_id is None or not {"groups", "user_permissions"} <= set(relationships.keys()):
        return None
    memberships = relationships["groups"].secondary
    direct = relationships["user_permissions"].secondary
    if not isinstance(memberships, sa.Table) or not isinstance(direct, sa.Table):
        return None
    permissions = Permission.__table__
    given = (
        sa.select(permissions.c.codename)
        .join(direct, direct.c.permission_id == permissions.c.id)
        .where(direct.c.user_id == user_id)
    )
    through_groups = (
        sa.select(permissions.c.codename)
        .join(group_permissions, group_permissions.c.permission_id == permissions.c.id)
        .join(memberships, memberships.c.group_id == group_permissions.c.group_id)
        .where(memberships.c.user_id == user_id)
    )
    return sa.union(given, through_groups)
