"""The data layer through a real app: a session per request on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest
from sqlalchemy import update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from satchel import App, BadRequest, Query, Settings
from satchel.db import Database, Page, Session, database_of, select
from satchel.errors import ConfigurationError
from satchel.testing import TestClient
from tests.db.models import Article


class ArticleIn(msgspec.Struct):
    slug: str
    title: str


class ArticleOut(msgspec.Struct):
    slug: str
    title: str
    created_at: datetime
    updated_at: datetime


def out(article: Article) -> ArticleOut:
    return ArticleOut(article.slug, article.title, article.created_at, article.updated_at)


def make_app(database: Database) -> App[Any]:
    app = App(settings=Settings())
    database.init_app(app)

    @app.post("/articles", status_code=201)
    async def create(body: ArticleIn, db: Session) -> ArticleOut:
        article = Article(slug=body.slug, title=body.title)
        db.add(article)
        await db.flush()  # a duplicate answers 409 here, before the response
        return out(article)

    @app.post("/articles/failing")
    async def create_then_fail(body: ArticleIn, db: Session) -> None:
        db.add(Article(slug=body.slug, title=body.title))
        await db.flush()
        raise BadRequest("changed my mind")

    @app.post("/articles/unflushed")
    async def create_unflushed(body: ArticleIn, db: Session) -> str:
        db.add(Article(slug=body.slug, title=body.title))
        return "queued"  # committed when the handler returns, before the response is sent

    @app.get("/articles/{slug}")
    async def show(slug: str, db: Session) -> ArticleOut:
        return out(await db.get_one_or_404(Article, slug=slug))

    @app.get("/by-id/{pk:int}")
    async def by_id(pk: int, db: Session) -> ArticleOut:
        return out(await db.get_or_404(Article, pk))

    @app.get("/first/{prefix}")
    async def first(prefix: str, db: Session) -> ArticleOut:
        query = select(Article).where(Article.slug.startswith(prefix)).order_by(Article.slug)
        return out(await db.first_or_404(query))

    @app.get("/articles")
    async def listing(
        db: Session, page: Annotated[int, Query()] = 1, size: Annotated[int, Query()] = 2
    ) -> Page[ArticleOut]:
        found = await db.paginate(select(Article).order_by(Article.id), page=page, size=size)
        return found.map(out)

    @app.get("/stats")
    async def stats(db: Session) -> dict[str, int | bool]:
        return {
            "count": await db.count(Article),
            "count_a": await db.count(select(Article).where(Article.slug.startswith("a"))),
            "exists_b": await db.exists(Article, slug="b"),
            "exists_z": await db.exists(select(Article).where(Article.slug == "z")),
        }

    return app


def post(client: TestClient, slug: str, path: str = "/articles") -> int:
    return client.post(path, json={"slug": slug, "title": slug.upper()}).status_code


def test_commits_on_success(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert post(client, "hello") == 201
        body = client.get("/articles/hello").json()
        assert body["title"] == "HELLO"
        created = datetime.fromisoformat(body["created_at"])
        assert created.tzinfo is not None
        assert post(client, "later", "/articles/unflushed") == 200
        assert client.get("/articles/later").status_code == 200


def test_rolls_back_when_the_handler_fails(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert post(client, "ghost", "/articles/failing") == 400
        assert client.get("/articles/ghost").status_code == 404


def test_not_found_names_the_model(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        for path in ("/articles/nope", "/by-id/99", "/first/zz"):
            response = client.get(path)
            assert response.status_code == 404
            assert response.json()["detail"] == "Article not found"
        assert post(client, "found") == 201
        assert client.get("/first/fo").json()["slug"] == "found"
        article_id = client.get("/articles").json()["items"][0]
        assert article_id["slug"] == "found"


def test_duplicate_is_409_naming_the_constraint(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert post(client, "dup") == 201
        response = client.post("/articles", json={"slug": "dup", "title": "again"})
        assert response.status_code == 409
        name = "article.slug" if database.engine.dialect.name == "sqlite" else "ix_article_slug"
        assert response.json()["detail"] == f"The request conflicts with existing data ({name})"
        assert client.get("/articles/dup").json()["title"] == "DUP"


def test_a_refused_commit_answers_409_not_a_false_success(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert post(client, "once", "/articles/unflushed") == 200
        # No flush in the handler: the commit after it is refused, and the client hears so.
        response = client.post("/articles/unflushed", json={"slug": "once", "title": "twice"})
        assert response.status_code == 409
        assert client.get("/articles/once").json()["title"] == "ONCE"


def test_count_exists_and_paginate(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        for slug in ("a1", "a2", "b", "c", "d"):
            assert post(client, slug) == 201
        assert client.get("/stats").json() == {
            "count": 5,
            "count_a": 2,
            "exists_b": True,
            "exists_z": False,
        }
        page = client.get("/articles", params={"page": 3, "size": 2}).json()
        assert [item["slug"] for item in page["items"]] == ["d"]
        assert {k: page[k] for k in ("page", "size", "total", "pages")} == {
            "page": 3,
            "size": 2,
            "total": 5,
            "pages": 3,
        }
        assert client.get("/articles", params={"size": 500}).json()["size"] == 100
        assert client.get("/articles", params={"page": 0}).status_code == 400


def test_unknown_filter_is_a_programming_error(database: Database) -> None:
    async def main() -> None:
        async with database.session() as session:
            with pytest.raises(ValueError, match="Article has no column 'titel'"):
                await session.get_one_or_404(Article, titel="x")
        await database.dispose()

    asyncio.run(main())


def test_updated_at_moves_on_update(database: Database) -> None:
    async def main() -> None:
        async with database.session() as session:
            session.add(Article(slug="t", title="T"))
            await session.commit()
            past = datetime(2000, 1, 1).astimezone()
            await session.execute(update(Article).values(updated_at=past))
            await session.commit()
            article = await session.get_one_or_404(Article, slug="t")
            await session.refresh(article)
            assert article.updated_at.year == 2000
            article.title = "T2"
            await session.commit()
            await session.refresh(article)
            assert article.updated_at.year > 2000
            assert article.updated_at.tzinfo is not None
        await database.dispose()

    asyncio.run(main())


def test_creating_and_attaching_connects_to_nothing() -> None:
    database = Database("postgresql+asyncpg://nobody@127.0.0.1:1/nowhere", pool_size=2)
    app = App(settings=Settings())
    database.init_app(app)
    assert database_of(app) is database
    with TestClient(app):  # starts and shuts down (disposing the engine) without connecting
        assert database.engine.pool.status().endswith("Current Checked out connections: 0")
    assert "nobody" in repr(database)


def test_password_is_masked_in_repr() -> None:
    assert "secret" not in repr(Database("postgresql+asyncpg://u:secret@db/app"))


def test_one_database_per_app() -> None:
    app = App(settings=Settings())
    Database().init_app(app)
    with pytest.raises(ConfigurationError, match="already has a Database"):
        Database().init_app(app)
    with pytest.raises(ConfigurationError, match="no Database for this app"):
        database_of(App(settings=Settings()))


def test_import_satchel_loads_no_sqlalchemy_but_satchel_db_works() -> None:
    code = (
        "import sys, satchel; assert 'sqlalchemy' not in sys.modules; "
        "import satchel.db; assert 'sqlalchemy' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_filters_may_name_any_column(tmp_path: Path) -> None:
    # The helpers' keyword filters once went through run_sync, whose own parameter
    # ``fn`` took a filter on a column of that name (a TypeError).
    class Base(DeclarativeBase):
        pass

    class Formula(Base):
        __tablename__ = "formula"
        id: Mapped[int] = mapped_column(primary_key=True)
        fn: Mapped[str]

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'formulas.db'}")

    async def main() -> None:
        await database.create_all(Base.metadata)
        async with database.transaction() as session:
            session.add(Formula(fn="sin"))
        async with database.session() as session:
            assert (await session.get_one_or_404(Formula, fn="sin")).fn == "sin"
            assert await session.exists(Formula, fn="sin")
            assert await session.count(Formula, fn="cos") == 0
        await database.dispose()

    asyncio.run(main())
