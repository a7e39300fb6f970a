"""Transactions outside requests, savepoints in handlers, and a session per WebSocket connection."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import pytest

from satchel import App, BadRequest, Body, Settings, WebSocket
from satchel.db import Database, DbSession, Session, select
from satchel.errors import Conflict
from satchel.testing import TestClient, WebSocketClosed
from tests.db.models import Article


def make_app(database: Database) -> App[Any]:
    app = App(settings=Settings())
    database.init_app(app)

    @app.post("/import")
    async def import_slugs(
        slugs: Annotated[list[str], Body()], db: Session
    ) -> dict[str, list[str]]:
        added, skipped = [], []
        for slug in slugs:
            try:
                async with db.begin_nested():  # a savepoint: a duplicate undoes only itself
                    db.add(Article(slug=slug, title=slug.upper()))
                    await db.flush()
                added.append(slug)
            except Conflict:
                skipped.append(slug)
        return {"added": added, "skipped": skipped}

    @app.post("/import-then-fail")
    async def import_then_fail(slugs: Annotated[list[str], Body()], db: Session) -> None:
        async with db.begin_nested():
            db.add_all(Article(slug=slug, title=slug) for slug in slugs)
        raise BadRequest("not today")  # the released savepoint goes with the transaction

    @app.get("/slugs")
    async def slugs(db: Session) -> list[str]:
        return list(await db.scalars(select(Article.slug).order_by(Article.slug)))

    @app.websocket("/feed")
    async def feed(ws: WebSocket, db: Session) -> None:
        await ws.accept()
        async for slug in ws.iter_text():
            if slug == "fail":
                raise BadRequest("refused")
            db.add(Article(slug=slug, title=slug.upper()))
            await db.flush()
            await ws.send_text(f"added {slug}")

    return app


def test_transaction_commits_rolls_back_and_allows_batches(database: Database) -> None:
    async def failing_job() -> None:
        async with database.transaction() as db:
            assert isinstance(db, DbSession)
            db.add(Article(slug="kept", title="K"))
            await db.commit()  # a batch: kept whatever happens next
            db.add(Article(slug="lost", title="L"))
            await db.flush()
            raise RuntimeError("job failed")

    async def scenario() -> None:
        with pytest.raises(RuntimeError):
            await failing_job()
        async with database.transaction() as db:
            db.add(Article(slug="added", title="A"))
        with pytest.raises(Conflict):
            async with database.transaction() as db:
                db.add(Article(slug="kept", title="again"))  # refused by the commit at the end
        async with database.session() as db:
            titles = await db.scalars(select(Article.title).order_by(Article.slug))
            assert list(titles) == ["A", "K"]
        await database.dispose()

    asyncio.run(scenario())


def test_savepoints_in_handlers(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        answer = client.post("/import", json=["a", "b", "a", "c", "b"]).json()
        assert answer == {"added": ["a", "b", "c"], "skipped": ["a", "b"]}
        # The savepoint was the request's first statement: its release committed nothing.
        assert client.post("/import-then-fail", json=["x", "y"]).status_code == 400
        assert client.get("/slugs").json() == ["a", "b", "c"]


def test_a_websocket_connection_has_one_session_committed_when_the_handler_returns(
    database: Database,
) -> None:
    with TestClient(make_app(database)) as client:
        with client.websocket_connect("/feed") as ws:
            for slug in ("a", "b"):
                ws.send_text(slug)
                assert ws.receive_text() == f"added {slug}"
        assert client.get("/slugs").json() == ["a", "b"]
        with client.websocket_connect("/feed") as ws:
            ws.send_text("c")
            assert ws.receive_text() == "added c"
            ws.send_text("fail")
            with pytest.raises(WebSocketClosed) as closed:
                ws.receive_text()
            assert closed.value.code == 1008
        assert client.get("/slugs").json() == ["a", "b"]  # "c" was rolled back


def test_sqlite_engines_asked_for_autocommit_get_no_begin(tmp_path: Path) -> None:
    database = Database(
        f"sqlite:///{tmp_path / 'auto.db'}", sync_engine_options={"isolation_level": "AUTOCOMMIT"}
    )
    with database.sync_engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (1)")
        connection.rollback()  # nothing to roll back: each statement committed itself
    with database.sync_engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM counter").scalar() == 1
    database.sync_engine.dispose()
