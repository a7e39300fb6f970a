"""The models the data-layer tests share (one declaration per table in ``Model.metadata``)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from satchel.db import ForeignKey, Mapped, Model, mapped_column, relationship, timestamps
from satchel.db.models import UTCDateTime

__all__ = ["Article", "Book", "Entry", "Genre", "Review"]


class Article(Model, timestamps):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(unique=True, index=True)
    title: Mapped[str]


class Genre(enum.Enum):
    NOVEL = "novel"
    ESSAY = "essay"


class Book(Model, timestamps):
    """A column of each kind ``ModelSchema`` derives fields from (tests/db/test_schemas.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    isbn: Mapped[str] = mapped_column(sa.String(13), unique=True)
    title: Mapped[str] = mapped_column(sa.String(80))
    subtitle: Mapped[str | None]
    pages: Mapped[int] = mapped_column(default=0)
    genre: Mapped[Genre] = mapped_column(sa.Enum(Genre, native_enum=False), default=Genre.NOVEL)
    price: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))
    internal_note: Mapped[str] = mapped_column(default="")
    reviews: Mapped[list[Review]] = relationship(back_populates="book", order_by="Review.id")


class Review(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("book.id"))
    stars: Mapped[int]
    book: Mapped[Book] = relationship(back_populates="reviews")


class Entry(Model):
    """Rows to sort, filter and page through (test_queryparams.py, test_cursor.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    status: Mapped[str] = mapped_column(sa.Enum("draft", "published", name="entry_status"))
    rank: Mapped[int] = mapped_column(sa.SmallInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
