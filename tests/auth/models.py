"""Models the user and permission tests share (each table declared once in ``Model.metadata``).

- ``ClubMember``: an extended user model (``UserMixin`` plus a column of its own).
- ``Operator``: a replacement user model, satisfying ``AuthUser`` without ``UserMixin``.
- ``Keyholder``: a replacement user model keyed by UUID, whose address is ``contact``
  (and whose usernames are at most 80 characters).
- ``Essay``: a model with a label of its own and a custom permission.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa

from satchel.auth.models import UserMixin
from satchel.db import Mapped, Model, mapped_column
from satchel.db.models import UTCDateTime

__all__ = ["ClubMember", "Essay", "Keyholder", "Operator"]


class ClubMember(UserMixin, Model):
    """An extended user: ``club_member``, with association tables of its own."""

    nickname: Mapped[str] = mapped_column(sa.String(40), default="")


class Operator(Model):
    """A user model of its own: no groups, no per-user permissions."""

    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(80), unique=True)
    password: Mapped[str | None] = mapped_column(sa.String(256))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_staff: Mapped[bool] = mapped_column(default=False)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def get_username(self) -> str:
        return self.login


class Keyholder(Model):
    """A user model of its own with a UUID primary key and ``EMAIL_FIELD = "contact"``."""

    USERNAME_FIELD: ClassVar[str] = "username"
    EMAIL_FIELD: ClassVar[str] = "contact"
    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    contact: Mapped[str] = mapped_column(sa.String(254), default="")
    password: Mapped[str | None] = mapped_column(sa.String(256))
    is_active: Mapped[bool] = mapped_column(default=True)
    is_staff: Mapped[bool] = mapped_column(default=False)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def get_username(self) -> str:
        return self.username


class Essay(Model):
    """A model of the ``blog`` label, with a permission beyond the four standard ones."""

    __app_label__: ClassVar[str] = "blog"
    __permissions__: ClassVar[dict[str, str]] = {"publish_essay": "Can publish essays"}

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
