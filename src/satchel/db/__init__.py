"""The data layer: models, one database per app, and a session per request (SQLAlchemy 2 async).

Needs the ``db`` extra (``pip install 'satchel[db]'``); without it importing this
package raises ``MissingDependencyError``. ``import satchel`` does not import it.
"""

from __future__ import annotations

from satchel.errors import MissingDependencyError

# The one check for the extra: importing any satchel.db module runs this first.
try:
    from sqlalchemy import ForeignKey, select
    from sqlalchemy.orm import Mapped, mapped_column, relationship
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "db") from exc

from satchel.db.cursor import CursorPage
from satchel.db.database import (
    DEFAULT_URL,
    Database,
    Reads,
    Session,
    SyncSession,
    database_of,
    provide_reads,
    provide_session,
    provide_sync_session,
)
from satchel.db.models import Model, UTCDateTime, timestamps
from satchel.db.queryparams import Filters, Sort, filter_params, sort_param
from satchel.db.reads import Reader
from satchel.db.schemas import ModelSchema
from satchel.db.session import DbSession, Page, SyncDbSession

__all__ = [
    "DEFAULT_URL",
    "CursorPage",
    "Database",
    "DbSession",
    "Filters",
    "ForeignKey",
    "Mapped",
    "Model",
    "ModelSchema",
    "Page",
    "Reader",
    "Reads",
    "Session",
    "Sort",
    "SyncDbSession",
    "SyncSession",
    "UTCDateTime",
    "database_of",
    "filter_params",
    "mapped_column",
    "provide_reads",
    "provide_session",
    "provide_sync_session",
    "relationship",
    "select",
    "sort_param",
    "timestamps",
]
