"""The model the model-form tests use (its own table in ``Model.metadata``)."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from satchel.db import Mapped, Model, mapped_column, timestamps

__all__ = ["FormsArticle", "Status"]


class Status(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class FormsArticle(Model, timestamps):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True, doc="Lower-case, in the URL.")
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str | None] = mapped_column(sa.Text)
    published: Mapped[bool] = mapped_column(default=False)
    status: Mapped[Status] = mapped_column(
        sa.Enum(Status, native_enum=False, length=20), default=Status.DRAFT
    )
    views: Mapped[int] = mapped_column(default=0)
    price: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    rating: Mapped[float | None]
    day: Mapped[date | None]
    rank: Mapped[int | None] = mapped_column(sa.SmallInteger)
    code: Mapped[str | None] = mapped_column(sa.Enum("a", "b", native_enum=False))
