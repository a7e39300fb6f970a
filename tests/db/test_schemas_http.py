"""ModelSchema through handlers, on SQLite and PostgreSQL: bodies, responses, PATCH, OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate
from sqlalchemy.orm import selectinload

from satchel import App, Query, Settings
from satchel.db import Database, ModelSchema, Page, Session, select
from satchel.testing import TestClient
from tests.db.models import Book, Entry, Review
from tests.support import assert_problem


class BookOut(ModelSchema[Book], exclude=("internal_note",)):
    pass


class BookIn(ModelSchema[Book], mode="create", read_only=("internal_note",)):
    pass


class BookPatch(ModelSchema[Book], mode="update", read_only=("isbn", "internal_note")):
    pass


class ReviewOut(ModelSchema[Review], include=("stars",)):
    pass


class BookWithReviews(ModelSchema[Book], include=("title",)):
    reviews: list[ReviewOut]  # a relationship: declared, and loaded by the query


class EntryIn(ModelSchema[Entry], mode="create"):  # Entry.at is a UTCDateTime
    pass


def make_app(database: Database) -> App[Any]:
    app = App(settings=Settings())
    database.init_app(app)

    @app.post("/books", status_code=201)
    async def create(body: BookIn, db: Session) -> BookOut:
        book = body.to_model(internal_note="created through the API")
        db.add(book)
        await db.flush()  # a duplicate isbn answers 409 here
        return BookOut.from_model(book)

    @app.get("/books/{pk:int}")
    async def show(pk: int, db: Session) -> BookOut:
        book = await db.get_or_404(Book, pk)
        return book  # type: ignore[return-value]  # a row: filtered as the annotation says

    @app.get("/books")
    async def listing(
        db: Session, page: Annotated[int, Query()] = 1, size: Annotated[int, Query()] = 2
    ) -> Page[BookOut]:
        found = await db.paginate(select(Book).order_by(Book.id), page=page, size=size)
        return found  # type: ignore[return-value]  # rows, filtered as the annotation says

    @app.get("/titles")
    async def titles(db: Session) -> list[BookOut]:
        books = list(await db.scalars(select(Book).order_by(Book.id)))
        return books  # type: ignore[return-value]

    @app.patch("/books/{pk:int}")
    async def edit(pk: int, body: BookPatch, db: Session) -> BookOut:
        book = body.apply_to(await db.get_or_404(Book, pk))
        await db.flush()
        await db.refresh(book)  # updated_at is the database's: read it back
        return BookOut.from_model(book)

    @app.post("/books/{pk:int}/reviews", status_code=201)
    async def review(pk: int, stars: Annotated[int, Query()], db: Session) -> None:
        db.add(Review(book_id=(await db.get_or_404(Book, pk)).id, stars=stars))

    @app.get("/books/{pk:int}/reviews")
    async def with_reviews(pk: int, db: Session) -> BookWithReviews:
        query = select(Book).where(Book.id == pk).options(selectinload(Book.reviews))
        return BookWithReviews.from_model(await db.one_or_404(query))

    return app


DUNE = {"isbn": "9780441013593", "title": "Dune", "price": "9.99"}


def test_create_read_and_list(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        created = client.post("/books", json=DUNE)
        assert created.status_code == 201, created.text
        body = created.json()
        assert "internal_note" not in body
        assert {k: body[k] for k in ("isbn", "title", "subtitle", "pages", "genre", "price")} == {
            "isbn": "9780441013593",
            "title": "Dune",
            "subtitle": None,
            "pages": 0,
            "genre": "novel",
            "price": "9.99",
        }
        assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
        assert client.get(f"/books/{body['id']}").json() == body
        client.post("/books", json={"isbn": "2", "title": "Emma", "genre": "novel"})
        client.post("/books", json={"isbn": "3", "title": "Essays", "genre": "essay"})
        page = client.get("/books?page=2").json()
        assert (page["total"], page["pages"]) == (3, 2)
        assert [item["title"] for item in page["items"]] == ["Essays"]
        assert "internal_note" not in page["items"][0]
        assert [book["isbn"] for book in client.get("/titles").json()] == [
            "9780441013593",
            "2",
            "3",
        ]
        assert client.post("/books", json=DUNE).status_code == 409


def test_bad_bodies_are_422s(database: Database) -> None:
    cases = {
        "wrong type": ({**DUNE, "pages": "many"}, "pages", "Expected `int`, got `str`"),
        "too long": ({**DUNE, "title": "x" * 81}, "title", "Expected `str` of length <= 80"),
        "unknown": ({**DUNE, "id": 5}, "", "Object contains unknown field `id`"),
        "read only": (
            {**DUNE, "internal_note": "x"},
            "",
            "Object contains unknown field `internal_note`",
        ),
        "missing": ({"title": "Dune"}, "isbn", "Field required"),
        "enum": ({**DUNE, "genre": "poem"}, "genre", "Invalid enum value 'poem'"),
    }
    with TestClient(make_app(database)) as client:
        for name, (sent, field, message) in cases.items():
            response = client.post("/books", json=sent)
            assert_problem(response.json(), 422)
            errors = response.json()["errors"]
            assert errors == [{"location": "body", "name": field, "message": message}], name
        assert client.get("/books").json()["total"] == 0


def test_a_datetime_without_its_zone_is_a_422_not_a_500(database: Database) -> None:
    app = App(settings=Settings())
    database.init_app(app)

    @app.post("/entries", status_code=201)
    async def create(body: EntryIn, db: Session) -> None:
        db.add(body.to_model())

    entry = {"name": "n", "status": "draft", "rank": 1}
    with TestClient(app) as client:
        naive = client.post("/entries", json={**entry, "at": "2024-01-01T12:00:00"})
        assert_problem(naive.json(), 422)
        assert naive.json()["errors"] == [
            {
                "location": "body",
                "name": "at",
                "message": "Expected `datetime` with a timezone component",
            }
        ]
        zoned = client.post("/entries", json={**entry, "at": "2024-01-01T12:00:00+02:00"})
        assert zoned.status_code == 201


def test_patch_changes_only_the_fields_sent(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        book = client.post("/books", json={**DUNE, "subtitle": "Book one"}).json()
        path = f"/books/{book['id']}"
        patched = client.patch(path, json={"title": "Dune Messiah", "subtitle": None})
        assert patched.status_code == 200, patched.text
        after = patched.json()
        changed = {k for k in after if after[k] != book[k]}
        assert changed <= {"title", "subtitle", "updated_at"}
        assert (after["title"], after["subtitle"], after["price"]) == ("Dune Messiah", None, "9.99")
        assert client.patch(path, json={}).json()["title"] == "Dune Messiah"
        assert client.get(path).json()["title"] == "Dune Messiah"
        refused = client.patch(path, json={"isbn": "1"})
        assert refused.json()["errors"][0]["message"] == "Object contains unknown field `isbn`"
        assert client.patch(path, json={"pages": None}).status_code == 422  # not nullable
        assert client.patch(f"/books/{book['id'] + 1}", json={}).status_code == 404


def test_declared_relationships_are_read_when_loaded(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        pk = client.post("/books", json=DUNE).json()["id"]
        for stars in (5, 3):
            assert client.post(f"/books/{pk}/reviews?stars={stars}").status_code == 201
        assert client.get(f"/books/{pk}/reviews").json() == {
            "title": "Dune",
            "reviews": [{"stars": 5}, {"stars": 3}],
        }


def test_the_openapi_document_names_each_schema() -> None:
    app = make_app(Database("sqlite+aiosqlite:///:memory:"))
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    validate(document)
    schemas = document["components"]["schemas"]
    assert schemas["BookIn"]["required"] == ["isbn", "title"]
    assert schemas["BookIn"]["additionalProperties"] is False
    assert schemas["BookIn"]["properties"]["title"] == {"type": "string", "maxLength": 80}
    assert "internal_note" not in schemas["BookIn"]["properties"]
    assert schemas["BookPatch"]["required"] == []
    assert "internal_note" not in schemas["BookOut"]["properties"]
    assert set(schemas["BookOut"]["required"]) == set(schemas["BookOut"]["properties"])
    ref = "#/components/schemas/"
    paths = document["paths"]
    post = paths["/books"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": ref + "BookIn"}
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": ref + "BookOut"
    }
    patch = paths["/books/{pk}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": ref + "BookPatch"
    }
    listing = paths["/books"]["get"]["responses"]["200"]["content"]["application/json"]
    page = schemas[listing["schema"]["$ref"].removeprefix(ref)]
    assert page["properties"]["items"] == {"type": "array", "items": {"$ref": ref + "BookOut"}}
    reviews = schemas["BookWithReviews"]["properties"]["reviews"]
    assert reviews == {"type": "array", "items": {"$ref": ref + "ReviewOut"}}


@pytest.mark.parametrize("path", ["/books/{pk}", "/books", "/titles"])
def test_responses_built_from_rows_have_no_undeclared_field(database: Database, path: str) -> None:
    with TestClient(make_app(database)) as client:
        pk = client.post("/books", json=DUNE).json()["id"]
        response = client.get(path.format(pk=pk))
        assert response.status_code == 200
        assert "Dune" in response.text
        assert "created through the API" not in response.text
