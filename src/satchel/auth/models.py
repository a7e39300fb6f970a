"""Users (``AuthUser``, ``UserMixin``), groups and permissions: the models of ``satchel.auth``.

``UserMixin`` maps nothing by itself: ``satchel.auth.user.User`` is the default
user model (table ``auth_user``); a project extends it with its own columns by
declaring ``class Member(UserMixin, Model)``, or replaces it with any mapped class
that satisfies ``AuthUser``. ``Group`` (``auth_group``) and ``Permission``
(``auth_permission``) are shared by every user model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Final, Protocol, runtime_checkable

from satchel.errors import MissingDependencyError

try:
    import sqlalchemy as sa
    from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "auth") from exc

from satchel.db.models import Model, UTCDateTime, utc_now

__all__ = [
    "ANONYMOUS",
    "USERNAME_MAX_LENGTH",
    "AnonymousUser",
    "AuthUser",
    "Group",
    "Permission",
    "UserMixin",
    "email_field_of",
    "group_permissions",
    "username_field_of",
]

#: Longest username ``UserMixin`` stores (Django's bound).
USERNAME_MAX_LENGTH: Final = 150


@runtime_checkable
class AuthUser(Protocol):
    """What Satchel needs of a user model; ``UserMixin`` provides all of it.

    A replacement model (one not built on ``UserMixin``) has no groups and no
    per-user permissions: permission checks then grant everything to superusers
    and nothing to anyone else.
    """

    @property
    def id(self) -> Any:
        """The primary key."""

    @property
    def is_authenticated(self) -> bool:
        """True for every stored user; False only for ``AnonymousUser``."""

    @property
    def is_anonymous(self) -> bool:
        """The opposite of ``is_authenticated``."""

    @property
    def is_active(self) -> bool:
        """An inactive user cannot log in and has no permission."""

    @property
    def is_staff(self) -> bool:
        """May use staff pages (the admin)."""

    @property
    def is_superuser(self) -> bool:
        """Has every permission without being given any."""

    #: The encoded password hash; None or ``"!..."`` (unusable) when it cannot log in.
    password: str | None
    #: When the user last logged in (UTC); None before the first login.
    last_login: datetime | None

    def get_username(self) -> str:
        """The value the user logs in with."""
        ...


def username_field_of(user_model: type[Any]) -> str:
    """The attribute users of ``user_model`` log in with: ``USERNAME_FIELD``, else ``username``."""
    return str(getattr(user_model, "USERNAME_FIELD", "username"))


def email_field_of(user_model: type[Any]) -> str:
    """The attribute holding addresses in ``user_model``: ``EMAIL_FIELD``, else ``email``."""
    return str(getattr(user_model, "EMAIL_FIELD", "email"))


class Permission(Model):
    """A right to do something, such as ``"blog.change_article"``.

    ``satchel db migrate`` creates view/add/change/delete for every model, and the
    custom ones a model lists in ``__permissions__`` (``satchel.auth.permissions``).
    """

    __tablename__ = "auth_permission"
    __app_label__: ClassVar[str] = "auth"

    id: Mapped[int] = mapped_column(primary_key=True)
    codename: Mapped[str] = mapped_column(sa.String(255), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))

    def __repr__(self) -> str:
        return f"<Permission {self.codename!r}>"


#: Which permissions each group holds.
group_permissions = sa.Table(
    "auth_group_permissions",
    Model.metadata,
    sa.Column("group_id", sa.ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "permission_id",
        sa.ForeignKey("auth_permission.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Group(Model):
    """A named set of permissions: a user in the group has them all."""

    __tablename__ = "auth_group"
    __app_label__: ClassVar[str] = "auth"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(150), unique=True)
    permissions: Mapped[list[Permission]] = relationship(
        secondary=group_permissions, order_by=Permission.codename
    )

    def __repr__(self) -> str:
        return f"<Group {self.name!r}>"


def _membership(user_class: Any, kind: str, target: str) -> sa.Table:
    """The association table between ``user_class`` and ``target`` (a table name).

    One per concrete user model (``member_groups``), so an extended user model gets
    its own and never shares rows with ``auth_user``'s.
    """
    users = user_class.__tablename__
    column = "group_id" if kind == "groups" else "permission_id"
    return sa.Table(
        f"{users}_{kind}",
        user_class.metadata,
        sa.Column("user_id", sa.ForeignKey(f"{users}.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            column, sa.ForeignKey(f"{target}.id", ondelete="CASCADE"), primary_key=True, index=True
        ),
    )


class UserMixin:
    """The columns and behaviour of a user; mix into a ``Model`` to get a user model.

    An extended user model, with tables ``customer``, ``customer_groups`` and
    ``customer_permissions``::

        class Customer(UserMixin, Model):
            loyalty_points: Mapped[int] = mapped_column(default=0)

    ``groups`` and ``user_permissions`` are ordinary relationships: load them with
    ``selectinload`` in async code, or read the whole permission set at once with
    ``satchel.auth.permissions.load_permissions``.
    """

    #: The attribute users log in with (``get_username`` returns it).
    USERNAME_FIELD: ClassVar[str] = "username"
    #: The attribute holding the e-mail address (password reset mails go there).
    EMAIL_FIELD: ClassVar[str] = "email"
    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False
    # date_joined is set by the database; read it back with the INSERT.
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(USERNAME_MAX_LENGTH), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="", index=True)
    first_name: Mapped[str] = mapped_column(sa.String(150), default="")
    last_name: Mapped[str] = mapped_column(sa.String(150), default="")
    password: Mapped[str | None] = mapped_column(sa.String(256))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_staff: Mapped[bool] = mapped_column(default=False)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime())
    date_joined: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=utc_now())

    @declared_attr
    @classmethod
    def groups(cls) -> Mapped[list[Group]]:
        """The groups the user belongs to."""
        return relationship(Group, secondary=_membership(cls, "groups", "auth_group"))

    @declared_attr
    @classmethod
    def user_permissions(cls) -> Mapped[list[Permission]]:
        """The permissions given to the user directly, not through a group."""
        return relationship(
            Permission, secondary=_membership(cls, "permissions", "auth_permission")
        )

    def get_username(self) -> str:
        """The value of ``USERNAME_FIELD``."""
        return str(getattr(self, self.USERNAME_FIELD))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_username()!r}>"


class AnonymousUser:
    """The user of a request nobody logged in to: not authenticated, no rights.

    Use the ``ANONYMOUS`` instance; every instance is equal to every other.
    """

    __slots__ = ()

    id: ClassVar[None] = None
    password: ClassVar[None] = None
    last_login: ClassVar[None] = None
    is_authenticated: ClassVar[bool] = False
    is_anonymous: ClassVar[bool] = True
    is_active: ClassVar[bool] = False
    is_staff: ClassVar[bool] = False
    is_superuser: ClassVar[bool] = False

    def get_username(self) -> str:
        """The empty string: an anonymous user has no name."""
        return ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnonymousUser)

    def __hash__(self) -> int:
        return hash(AnonymousUser)

    def __repr__(self) -> str:
        return "AnonymousUser()"


#: The one anonymous user.
ANONYMOUS: Final = AnonymousUser()
