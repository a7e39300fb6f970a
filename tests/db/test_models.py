"""Model: table names from class names, stable constraint names, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from satchel.db import ForeignKey, Mapped, Model, mapped_column
from satchel.db.models import UTCDateTime, table_name
from tests.db.models import Article


def dialect(name: str) -> Dialect:
    return sa.make_url(f"{name}://").get_dialect()()


POSTGRESQL, SQLITE = dialect("postgresql"), dialect("sqlite")


class HTTPLogEntry(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))
    code: Mapped[str] = mapped_column(unique=True)


def test_table_names_are_snake_case() -> None:
    assert Article.__tablename__ == "article"
    assert HTTPLogEntry.__tablename__ == "http_log_entry"
    assert table_name("ABTest") == "ab_test"


def test_constraints_get_stable_names() -> None:
    table = sa.Table("http_log_entry", Model.metadata)
    ddl = str(sa.schema.CreateTable(table).compile(dialect=POSTGRESQL))
    assert "CONSTRAINT pk_http_log_entry PRIMARY KEY" in ddl
    assert "CONSTRAINT fk_http_log_entry_article_id_article FOREIGN KEY" in ddl
    assert "CONSTRAINT uq_http_log_entry_code UNIQUE" in ddl
    assert {index.name for index in sa.Table("article", Model.metadata).indexes} == {
        "ix_article_slug"
    }


def test_utc_datetime_stores_utc_and_refuses_naive_values() -> None:
    column = UTCDateTime()
    paris = datetime(2024, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    on_sqlite = column.process_bind_param(paris, SQLITE)
    assert on_sqlite == datetime(2024, 1, 1, 12)
    assert column.process_bind_param(paris, POSTGRESQL) == paris
    assert column.process_result_value(on_sqlite, SQLITE) == paris.astimezone(UTC)
    assert column.process_bind_param(None, SQLITE) is None
    assert column.process_result_value(None, SQLITE) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        column.process_bind_param(datetime(2024, 1, 1), SQLITE)
