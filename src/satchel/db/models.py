"""The declarative base for application models, and the ``timestamps`` mixin."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["NAMING_CONVENTION", "Model", "UTCDateTime", "table_name", "timestamps", "utc_now"]

#: Constraint and index names, stable across databases so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def table_name(class_name: str) -> str:
    """The table a model class gets by default: its name in snake_case.

    >>> table_name("Article"), table_name("HTTPLogEntry")
    ('article', 'http_log_entry')
    """
    return _WORD_BOUNDARY.sub("_", class_name).lower()


class Model(DeclarativeBase):
    """Base class of application models; ``__tablename__`` defaults to ``table_name(cls)``.

    ``Model.metadata`` holds every model's table (``Database.create_all`` creates
    them) and names constraints by ``NAMING_CONVENTION``.
    """

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    @declared_attr.directive
    @classmethod
    def __tablename__(cls) -> str:
        return table_name(cls.__name__)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime in UTC on every database.

    SQLite keeps no time zone, so values are stored in UTC and read back with
    ``tzinfo=UTC``; naive values are refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite's CURRENT_TIMESTAMP and the values bound above are UTC without a zone.
        result: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
        return result


class utc_now(FunctionElement[datetime]):
    """The database's current time, written the way ``UTCDateTime`` writes bound values.

    On SQLite ``CURRENT_TIMESTAMP`` has no fraction ("12:00:01") while bound values
    have six digits ("12:00:01.000000"): as text they would never compare equal, and
    ordering by the column would misplace rows within a second. Elsewhere: ``now()``.
    """

    type = UTCDateTime()
    name = "utc_now"
    inherit_cache = True


@compiles(utc_now)
def _utc_now(element: utc_now, compiler: SQLCompiler, **options: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(utc_now, "sqlite")
def _utc_now_sqlite(element: utc_now, compiler: SQLCompiler, **options: Any) -> str:
    return "(strftime('%Y-%m-%d %H:%M:%f000', 'now'))"


class timestamps:
    """Mixin adding ``created_at`` and ``updated_at``, set by the database (UTC).

    Both are read back in the same statement that writes them (``eager_defaults``),
    so a row stays readable after a flush, even by code that cannot load lazily.
    """

    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=utc_now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), server_default=utc_now(), onupdate=utc_now()
    )
