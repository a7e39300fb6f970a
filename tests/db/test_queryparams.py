"""Sorting and filtering from the query string, and the SQL-injection guard around them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pytest

from satchel import App, Depends
from satchel.db import Database, Filters, Session, Sort, filter_params, select, sort_param
from satchel.errors import ConfigurationError
from satchel.testing import TestClient
from tests.db.entries import entries_app
from tests.db.entries import seed as seed_entries
from tests.db.models import Article, Book, Entry

entry_sort = sort_param(Entry, "name", "rank", "at", default="-rank")
entry_filters = filter_params(Entry, "status", "rank", "name", "at")

START = datetime(2024, 5, 1, 12, tzinfo=UTC)
ROWS = [  # name, status, rank, hours after START
    ("alpha", "draft", 2, 0),
    ("beta", "published", 1, 1),
    ("gamma", "published", 2, 2),
    ("delta", "draft", 3, 3),
]


def make_app(database: Database) -> App[Any]:
    app = entries_app(database)

    @app.get("/entries")
    async def listing(
        db: Session,
        sort: Annotated[Sort, Depends(entry_sort)],
        filters: Annotated[Filters, Depends(entry_filters)],
    ) -> list[str]:
        return list(await db.scalars(filters.apply(sort.apply(select(Entry.name)))))

    @app.get("/articles/{slug}")
    async def article(slug: str, db: Session) -> dict[str, Any]:
        found = await db.get_one_or_404(Article, slug=slug)
        return {"slug": found.slug}

    @app.get("/articles-exist")
    async def articles_exist(db: Session, slug: str) -> dict[str, Any]:
        exists, count = await db.exists(Article, slug=slug), await db.count(Article, slug=slug)
        return {"exists": exists, "count": count}

    @app.post("/articles", status_code=201)
    async def add_article(db: Session, slug: str) -> None:
        db.add(Article(slug=slug, title=slug))

    return app


def seed(client: TestClient) -> None:
    seed_entries(client, START, ROWS)


def names(client: TestClient, query: str) -> Any:
    return client.get(f"/entries?{query}").json()


def test_sorting_by_declared_columns(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        # The default, then ties broken by the primary key.
        assert names(client, "") == ["delta", "alpha", "gamma", "beta"]
        assert names(client, "sort=") == ["delta", "alpha", "gamma", "beta"]
        assert names(client, "sort=name") == ["alpha", "beta", "delta", "gamma"]
        assert names(client, "sort=-rank,name") == ["delta", "alpha", "gamma", "beta"]
        assert names(client, "sort=rank,-name") == ["beta", "gamma", "alpha", "delta"]
        assert names(client, "sort=rank&sort=-name") == ["beta", "gamma", "alpha", "delta"]
        assert names(client, "sort=-at") == ["delta", "gamma", "beta", "alpha"]
        assert names(client, "sort=%20rank%20,%20-name%20") == ["beta", "gamma", "alpha", "delta"]


def test_filtering_by_declared_columns(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        assert names(client, "status=draft&sort=name") == ["alpha", "delta"]
        assert names(client, "rank=2&rank=3&sort=name") == ["alpha", "delta", "gamma"]
        assert names(client, "status=published&rank=2") == ["gamma"]
        at = (START + timedelta(hours=1)).isoformat()
        assert client.get("/entries", params={"at": at}).json() == ["beta"]
        assert names(client, "name=nobody") == []


HOSTILE_SORTS = [
    "title;DROP TABLE entry",
    "name;DROP TABLE entry",
    "name desc--",
    "name DESC",
    "id desc--",
    "'name'",
    '"name"',
    "name'); DELETE FROM entry; --",
    "(SELECT 1)",
    "nàme",
    "名前",
    "-",
    "--name",
    "+name",
    "name\x00",
    "entry.name",
    "__class__",
    "x" * 5000,
]


@pytest.mark.parametrize("value", HOSTILE_SORTS)
def test_hostile_sorts_are_400_naming_the_allowed_fields(database: Database, value: str) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        response = client.get("/entries", params={"sort": value})
        assert response.status_code == 400
        detail = response.json()["detail"]
        assert "sort takes name, rank, at" in detail
        assert len(detail) < 200  # a long value is not echoed whole
        assert client.get("/count").json() == len(ROWS)  # the table is intact


def test_repeated_and_duplicated_sort_keys(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        for query in ("sort=name,name", "sort=name&sort=-name", "sort=rank&sort=rank"):
            response = client.get(f"/entries?{query}")
            assert response.status_code == 400
            assert "more than once" in response.json()["detail"]
        many = "&".join(["sort=name"] * 200)
        assert client.get(f"/entries?{many}").status_code == 400
        assert client.get("/count").json() == len(ROWS)


@pytest.mark.parametrize(
    "query",
    [
        "status=archived",  # not one of the enum's labels
        "status=draft'--",
        "rank=1;DROP TABLE entry",
        "rank=99999",  # beyond the SMALLINT column
        "rank=abc",
        "at=2024-05-01T12:00:00",  # no time zone, for a UTC column
        "name=a%00b",  # PostgreSQL text cannot hold NUL
    ],
)
def test_bad_filter_values_are_refused_before_the_database(database: Database, query: str) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        response = client.get(f"/entries?{query}")
        assert response.status_code == 422
        assert response.json()["errors"][0]["location"] == "query"
        assert client.get("/count").json() == len(ROWS)


@pytest.mark.parametrize("value", ["x' OR '1'='1", "' OR 1=1 --", 'x"; DROP TABLE article; --'])
def test_helper_filters_are_bound_parameters(database: Database, value: str) -> None:
    with TestClient(make_app(database)) as client:
        assert client.post("/articles", params={"slug": "real"}).status_code == 201
        assert client.get("/articles/x' OR '1'='1").status_code == 404
        assert client.get("/articles-exist", params={"slug": value}).json() == {
            "exists": False,
            "count": 0,
        }
        assert names(client, f"name={value}") == []
        assert client.get("/articles-exist", params={"slug": "real"}).json()["count"] == 1


def test_openapi_documents_the_parameters(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        operation = client.get("/openapi.json").json()["paths"]["/entries"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"sort", "status", "rank", "name", "at"}
    assert parameters["sort"]["description"] == (
        "Sort by name, rank, at: comma-separated, each prefixed with - for descending order. "
        "Default: -rank."
    )
    assert parameters["sort"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert parameters["status"]["schema"]["items"] == {"enum": ["draft", "published"]}
    assert parameters["rank"]["schema"]["items"] == {
        "type": "integer",
        "minimum": -32768,
        "maximum": 32767,
    }
    assert parameters["at"]["schema"]["items"]["format"] == "date-time"
    assert parameters["status"]["description"] == "Keep rows whose status is one of these values."
    assert not any(p["required"] for p in parameters.values())


def test_declaring_unknown_or_unsuitable_columns_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Entry has no column 'title'"):
        sort_param(Entry, "name", "title")
    with pytest.raises(ConfigurationError, match="sort_param default '-title'"):
        sort_param(Entry, "name", default="-title")
    with pytest.raises(ConfigurationError, match="name the columns of Entry"):
        filter_params(Entry)
    with pytest.raises(ConfigurationError, match="Book has no column 'reviews'"):
        filter_params(Book, "reviews")


def test_the_providers_can_be_called_directly() -> None:
    by = sort_param(Book, "title", "pages", default="-pages")
    assert by(sort=None).keys == (("pages", True),)
    ordered = by(sort=["title,-pages"]).apply(select(Book))
    assert str(ordered).endswith("ORDER BY book.title ASC, book.pages DESC, book.id")
    where = filter_params(Book, "genre", "isbn")(genre=None, isbn=["1", "2"])
    assert dict(where.values) == {"isbn": ["1", "2"]}
    assert "WHERE book.isbn IN" in str(where.apply(select(Book)))
