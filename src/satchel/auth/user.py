"""The default user model, ``User`` (table ``auth_user``).

It lives in a module of its own, imported only by what uses it (``Auth()``
without ``user_model``), so a project with its own user model never gets an
``auth_user`` table in its migrations.
"""

from __future__ import annotations

from typing import ClassVar

from satchel.auth.models import UserMixin
from satchel.db.models import Model

__all__ = ["User"]


class User(UserMixin, Model):
    """The default user: ``UserMixin``'s columns in ``auth_user``.

    Its association tables are ``auth_user_groups`` and ``auth_user_permissions``.
    """

    __tablename__ = "auth_user"
    __app_label__: ClassVar[str] = "auth"
