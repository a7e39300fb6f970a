"""Sync handlers and scripts: ``SyncSession``, ``sync_session()``, ``sync_transaction()``."""

from __future__ import annotations

import threading
from typing import Annotated, Any

import msgspec
import pytest

from satchel import App, BadRequest, Query, Settings
from satchel.db import CursorPage, Database, Page, SyncDbSession, SyncSession, select
from satchel.errors import Conflict, NotFound
from satchel.testing import TestClient
from tests.db.models import Article


class ArticleIn(msgspec.Struct):
    slug: str
    title: str


def make_app(database: Database) -> App[Any]:
    app = App(settings=Settings())
    database.init_app(app)
    threads: set[str] = set()

    @app.post("/articles", status_code=201)
    def create(body: ArticleIn, db: SyncSession) -> int:
        threads.add(threading.current_thread().name)
        article = Article(slug=body.slug, title=body.title)
        db.add(article)
        db.flush()  # a duplicate answers 409 here
        return article.id

    @app.post("/articles/unflushed")
    def create_unflushed(body: ArticleIn, db: SyncSession) -> str:
        db.add(Article(slug=body.slug, title=body.title))
        return "queued"  # committed after the handler, before the response

    @app.post("/articles/failing")
    def create_then_fail(body: ArticleIn, db: SyncSession) -> None:
        db.add(Article(slug=body.slug, title=body.title))
        db.flush()
        raise BadRequest("changed my mind")

    @app.get("/articles/{slug}")
    def show(slug: str, db: SyncSession) -> str:
        return db.get_one_or_404(Article, slug=slug).title

    @app.get("/by-id/{pk:int}")
    def by_id(pk: int, db: SyncSession) -> str:
        return db.get_or_404(Article, pk).slug

    @app.get("/first/{prefix}")
    def first(prefix: str, db: SyncSession) -> str:
        query = select(Article).where(Article.slug.startswith(prefix)).order_by(Article.slug)
        return db.first_or_404(query).slug

    @app.get("/stats")
    def stats(db: SyncSession) -> dict[str, int | bool]:
        return {"count": db.count(Article), "exists_b": db.exists(Article, slug="b")}

    @app.get("/pages")
    def pages(db: SyncSession, page: Annotated[int, Query()] = 1) -> Page[str]:
        found = db.paginate(select(Article).order_by(Article.slug), page=page, size=2)
        return found.map(lambda article: article.slug)

    @app.get("/cursor")
    def cursor(db: SyncSession, cursor: str | None = None) -> CursorPage[str]:
        found = db.paginate_cursor(select(Article), order_by=[Article.slug], cursor=cursor, size=2)
        return found.map(lambda article: article.slug)

    @app.get("/threads")
    def seen_threads() -> list[str]:
        return sorted(threads)

    return app


def post(client: TestClient, slug: str, path: str = "/articles") -> int:
    return client.post(path, json={"slug": slug, "title": slug.upper()}).status_code


def test_sync_handlers_get_a_session_committed_on_success(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert post(client, "a1") == 201
        assert client.get("/articles/a1").text == "A1"
        assert post(client, "later", "/articles/unflushed") == 200
        assert client.get("/articles/later").text == "LATER"
        assert "MainThread" not in client.get("/threads").json()  # sync I/O stays off the loop


def test_sync_handlers_roll_back_on_error_and_answer_409_for_conflicts(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert post(client, "ghost", "/articles/failing") == 400
        assert client.get("/articles/ghost").status_code == 404
        assert post(client, "dup") == 201
        assert post(client, "dup") == 409
        assert post(client, "dup", "/articles/unflushed") == 409  # refused at commit
        assert client.get("/articles/dup").text == "DUP"


def test_sync_helpers(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        for slug in ("a1", "a2", "b", "c", "d"):
            assert post(client, slug) == 201
        assert client.get("/stats").json() == {"count": 5, "exists_b": True}
        assert client.get("/pages", params={"page": 3}).json()["items"] == ["d"]
        assert client.get("/first/a").text == "a1"
        created = client.post("/articles", json={"slug": "e", "title": "E"}).json()
        assert client.get(f"/by-id/{created}").text == "e"
        assert client.get("/by-id/999").json()["detail"] == "Article not found"
        assert client.get("/first/zz").json()["detail"] == "Article not found"
        first = client.get("/cursor").json()
        second = client.get("/cursor", params={"cursor": first["next_cursor"]}).json()
        assert (first["items"], second["items"]) == (["a1", "a2"], ["b", "c"])


def test_sync_transaction_commits_rolls_back_and_allows_batches(database: Database) -> None:
    def failing_job() -> None:
        with database.sync_transaction() as db:
            assert isinstance(db, SyncDbSession)
            db.add(Article(slug="kept", title="K"))
            db.commit()  # a batch: kept whatever happens next
            db.add(Article(slug="lost", title="L"))
            db.flush()
            raise RuntimeError("job failed")

    with pytest.raises(RuntimeError):
        failing_job()
    with database.sync_transaction() as db:
        db.add(Article(slug="added", title="A"))
    with pytest.raises(Conflict), database.sync_transaction() as db:
        db.add(Article(slug="kept", title="again"))  # refused by the commit at the end
    with database.sync_session() as db:
        with pytest.raises(NotFound):
            db.get_one_or_404(Article, slug="lost")
        titles = db.scalars(select(Article.title).order_by(Article.slug)).all()
        assert titles == ["A", "K"]


def test_savepoints_in_a_sync_session(database: Database) -> None:
    def add_twice(db: SyncDbSession) -> None:
        with db.begin_nested():  # the session's first statement: SAVEPOINT
            db.add(Article(slug="first", title="F"))
            db.flush()
            db.add(Article(slug="first", title="again"))
            db.flush()

    with database.sync_transaction() as db:
        with pytest.raises(Conflict):
            add_twice(db)
        db.add(Article(slug="second", title="S"))
    with database.sync_session() as db:
        assert db.scalars(select(Article.slug)).all() == ["second"]
