"""The default token model, ``Token`` (table ``auth_token``), for the default ``User``.

A module of its own, imported only by what uses it, like ``satchel.auth.user``: a
project with its own user model declares its own ``Token(TokenMixin, Model)``.
"""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from satchel.auth.tokens import TokenMixin
from satchel.auth.user import User
from satchel.db.models import Model

__all__ = ["Token"]


class Token(TokenMixin, Model):
    """An API token or key of a ``User``; deleted with the user."""

    __tablename__ = "auth_token"
    __app_label__: ClassVar[str] = "auth"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey(User.id, ondelete="CASCADE"), index=True)
