"""The data layer: models, one database per app, and a session per request (SQLAlchemy 2 async).

Needs the ``db`` extra (``pip install 'satchel[db]'``); without it importing this
package raises ``MissingDependencyError``. ``import satchel`` does not import it.
"""

from __future__ import annotations

from satchel.errors import MissingDependencyError

try:
    from sqlalchemy import ForeignKey, select
    from sqlalchemy.orm import Mapped, mapped_column, relationship
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "db") from exc

from satchel.db.database import DEFAULT_URL, Database, Session, database_of, provide_session
from satchel.db.models import Model, timestamps
from satchel.db.session import DbSession, Page

__all__ = [
    "DEFAULT_URL",
    "Database",
    "DbSession",
    "ForeignKey",
    "Mapped",
    "Model",
    "Page",
    "Session",
    "database_of",
    "mapped_column",
    "provide_session",
    "relationship",
    "select",
    "timestamps",
]
