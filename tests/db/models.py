"""The models the data-layer tests share (one declaration per table in ``Model.metadata``)."""

from __future__ import annotations

from satchel.db import Mapped, Model, mapped_column, timestamps

__all__ = ["Article"]


class Article(Model, timestamps):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(unique=True, index=True)
    title: Mapped[str]
