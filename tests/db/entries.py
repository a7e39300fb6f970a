"""An app storing ``Entry`` rows; the sorting, filtering and paging tests add routes to it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from satchel import App, Settings
from satchel.db import Database, Session
from satchel.testing import TestClient
from tests.db.models import Entry

__all__ = ["entries_app", "seed"]


class EntryIn(msgspec.Struct):
    name: str
    status: str
    rank: int
    at: datetime


def entries_app(database: Database) -> App[Any]:
    """An app with ``database``, ``POST /entries`` (a list) and ``GET /count``."""
    app = App(settings=Settings())
    database.init_app(app)

    @app.post("/entries", status_code=201)
    async def create(body: list[EntryIn], db: Session) -> None:
        db.add_all(Entry(**msgspec.structs.asdict(entry)) for entry in body)

    @app.get("/count")
    async def count(db: Session) -> int:
        return await db.count(Entry)

    return app


def seed(client: TestClient, start: datetime, rows: list[tuple[str, str, int, int]]) -> None:
    """Store ``(name, status, rank, hours after start)`` rows through the app."""
    body = [
        {
            "name": name,
            "status": status,
            "rank": rank,
            "at": (start + timedelta(hours=h)).isoformat(),
        }
        for name, status, rank, h in rows
    ]
    assert client.post("/entries", json=body).status_code == 201
