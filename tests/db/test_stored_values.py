"""What the database stores: timestamps comparable as written, unstorable values a 400."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from satchel import App, Settings
from satchel.db import Database, Session, select
from satchel.db.errors import UNSTORABLE_DETAIL
from satchel.testing import AsyncTestClient, TestClient
from tests.db.models import Article, Entry


class ArticleIn(msgspec.Struct):
    slug: str
    title: str


class EntryIn(msgspec.Struct):
    name: str
    rank: int


def make_app(database: Database) -> App[Any]:
    app = App(settings=Settings())
    database.init_app(app)

    @app.post("/articles", status_code=201)
    async def create(body: ArticleIn, db: Session) -> dict[str, str]:
        article = Article(slug=body.slug, title=body.title)
        db.add(article)
        await db.flush()
        return {"slug": article.slug}

    @app.post("/articles/{slug}/title")
    async def retitle(slug: str, body: ArticleIn, db: Session) -> dict[str, str]:
        article = await db.get_one_or_404(Article, slug=slug)
        article.title = body.title
        await db.flush()
        # Read straight after the flush: no lazy load (which would fail outside a greenlet).
        return {"updated_at": article.updated_at.isoformat()}

    @app.get("/articles")
    async def find(slug: str, db: Session) -> int:
        return await db.count(Article, slug=slug)

    @app.post("/entries", status_code=201)
    async def create_entry(body: EntryIn, db: Session) -> str:
        db.add(Entry(name=body.name, status="draft", rank=body.rank, at=datetime.now(UTC)))
        return "queued"

    return app


def test_timestamps_compare_equal_to_the_values_they_hold(database: Database) -> None:
    async def scenario() -> None:
        async with AsyncTestClient(make_app(database)) as client:
            assert (await client.post("/articles", json={"slug": "a", "title": "A"})).is_success
            async with database.session() as db:
                article = (await db.scalars(select(Article))).one()
                # The default written by the database and a bound value share one format.
                same = select(Article).where(Article.created_at == article.created_at)
                assert (await db.scalars(same)).one() is article
                assert article.created_at.tzinfo is UTC

    asyncio.run(scenario())


def test_updated_at_is_readable_right_after_a_flush(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        client.post("/articles", json={"slug": "a", "title": "A"})
        retitled = client.post("/articles/a/title", json={"slug": "a", "title": "B"})
        assert retitled.status_code == 200
        assert datetime.fromisoformat(retitled.json()["updated_at"]).tzinfo is not None


@pytest.mark.parametrize(
    ("path", "body", "sqlite_stores_it"),
    [
        ("/articles", {"slug": "nul", "title": "a\x00b"}, True),  # PostgreSQL text has no NUL
        ("/entries", {"name": "big", "rank": 2**70}, False),  # beyond every integer column
        ("/entries", {"name": "small", "rank": 2**40}, True),  # beyond SMALLINT on PostgreSQL
    ],
)
def test_values_the_database_cannot_store_are_a_400(
    database: Database, path: str, body: dict[str, Any], sqlite_stores_it: bool
) -> None:
    with TestClient(make_app(database)) as client:
        answer = client.post(path, json=body)
        if sqlite_stores_it and database.url.startswith("sqlite"):
            assert answer.status_code == 201
            return
        assert answer.status_code == 400
        assert answer.json()["detail"] == UNSTORABLE_DETAIL
        # Nothing half-written, and the app still answers.
        assert client.get("/articles", params={"slug": "nul"}).json() == 0


def test_query_values_the_database_cannot_store_are_a_400(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        answer = client.get("/articles", params={"slug": "x\x00y"})
        if database.url.startswith("sqlite"):
            assert answer.json() == 0
        else:
            assert answer.status_code == 400
