"""Cursor (keyset) pagination on SQLite and PostgreSQL: walking, keys, and refused cursors."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from satchel import App
from satchel.db import CursorPage, Database, Session, select
from satchel.db.cursor import KeyArgument
from satchel.testing import TestClient
from tests.db.entries import entries_app
from tests.db.entries import seed as seed_entries
from tests.db.models import Book, Entry

START = datetime(2024, 5, 1, 12, tzinfo=UTC)
# name, status, rank, hours after START: equal ranks and times, so the tiebreaker matters.
ROWS = [
    ("a", "draft", 3, 0),
    ("b", "draft", 1, 1),
    ("c", "draft", 3, 1),
    ("d", "draft", 2, 2),
    ("e", "draft", 1, 2),
    ("f", "draft", 3, 2),
    ("g", "draft", 2, 5),
]

ORDERINGS: dict[str, tuple[KeyArgument, ...]] = {
    "newest": (Entry.at.desc(), Entry.id.desc()),
    "rank": (Entry.rank, Entry.id),
    "mixed": (Entry.rank, Entry.at.desc(), Entry.id),
    "name": (Entry.name.desc(),),
}
EXPECTED = {
    "newest": ["g", "f", "e", "d", "c", "b", "a"],
    "rank": ["b", "e", "d", "g", "a", "c", "f"],
    "mixed": ["e", "b", "g", "d", "f", "c", "a"],
    "name": ["g", "f", "e", "d", "c", "b", "a"],
}


def make_app(database: Database) -> App[Any]:
    app = entries_app(database)

    @app.get("/entries/{ordering}")
    async def listing(
        ordering: str, db: Session, cursor: str | None = None, size: int = 3
    ) -> CursorPage[str]:
        page = await db.paginate_cursor(
            select(Entry).order_by(Entry.name),  # replaced by order_by=
            order_by=ORDERINGS[ordering],
            cursor=cursor,
            size=size,
            max_size=4,
        )
        return page.map(lambda entry: entry.name)

    return app


def seed(client: TestClient) -> None:
    seed_entries(client, START, ROWS)


def page(client: TestClient, ordering: str, **params: Any) -> Any:
    response = client.get(f"/entries/{ordering}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_walking_forward_and_back_visits_every_row_once(database: Database, ordering: str) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        pages = [page(client, ordering)]
        assert pages[0]["previous_cursor"] is None
        while pages[-1]["next_cursor"] is not None:
            pages.append(page(client, ordering, cursor=pages[-1]["next_cursor"]))
        assert [p["items"] for p in pages] == [
            EXPECTED[ordering][i : i + 3] for i in range(0, len(ROWS), 3)
        ]
        back = [pages[-1]]
        while back[-1]["previous_cursor"] is not None:
            back.append(page(client, ordering, cursor=back[-1]["previous_cursor"]))
        assert [p["items"] for p in reversed(back)] == [p["items"] for p in pages]
        assert back[-1]["next_cursor"] == pages[0]["next_cursor"]


def test_size_is_capped_and_checked(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        capped = page(client, "rank", size=100)
        assert (capped["size"], len(capped["items"])) == (4, 4)
        assert client.get("/entries/rank", params={"size": 0}).status_code == 400


def cursor_of(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "!!!!",
        "eyJ",  # cut short
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b"{'next': 1}").decode(),
        cursor_of("next", 1),  # too few values for (rank, id)
        cursor_of("next", 1, 2, 3),
        cursor_of("sideways", 1, 2),
        cursor_of("next", "1 OR 1=1", 2),
        cursor_of("next", 1, "2; DROP TABLE entry"),
        cursor_of("next", 1 << 20, 1),  # beyond the SMALLINT column
        cursor_of("next", 1, 1 << 40),  # beyond the INTEGER column
        cursor_of("next", None, 1),
        cursor_of("next", 1.5, 1),
        "A" * 5000,
    ],
)
def test_malformed_or_altered_cursors_are_400(database: Database, cursor: str) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        response = client.get("/entries/rank", params={"cursor": cursor})
        assert response.status_code == 400
        assert response.json()["detail"].startswith("Invalid cursor")
        assert client.get("/count").json() == len(ROWS)


@pytest.mark.parametrize(
    ("ordering", "cursor"),
    [
        ("newest", cursor_of("next", "2024-05-01T12:00:00", 1)),  # a naive time for a UTC column
        ("newest", cursor_of("next", "yesterday", 1)),
        ("name", cursor_of("next", "a\x00b")),  # PostgreSQL text cannot hold NUL
    ],
)
def test_cursor_values_are_checked_against_the_column_types(
    database: Database, ordering: str, cursor: str
) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        assert client.get(f"/entries/{ordering}", params={"cursor": cursor}).status_code == 400


def test_an_edited_but_well_formed_cursor_is_just_another_position(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        seed(client)
        assert page(client, "rank", cursor=cursor_of("next", 2, 0))["items"] == ["d", "g", "a"]
        assert page(client, "name", cursor=cursor_of("previous", "e"))["items"] == ["g", "f"]
        assert page(client, "rank", cursor=cursor_of("next", 9, 0))["items"] == []


def test_an_empty_page_has_no_cursors(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        assert page(client, "newest") == {
            "items": [],
            "size": 3,
            "next_cursor": None,
            "previous_cursor": None,
        }


def test_cursor_pages_document_themselves(database: Database) -> None:
    with TestClient(make_app(database)) as client:
        document = client.get("/openapi.json").json()
    operation = document["paths"]["/entries/{ordering}"]["get"]
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"items", "size", "next_cursor", "previous_cursor"}
    assert schema["properties"]["items"] == {"type": "array", "items": {"type": "string"}}


def test_keys_must_be_plain_columns_and_not_null(database: Database) -> None:
    async def scenario() -> None:
        async with database.transaction() as db:
            db.add_all([Book(isbn="1", title="One"), Book(isbn="2", title="Two")])
        async with database.session() as db:
            with pytest.raises(ValueError, match="needs order_by keys"):
                await db.paginate_cursor(select(Book), order_by=())
            with pytest.raises(ValueError, match="plain columns"):
                await db.paginate_cursor(select(Book), order_by=[Book.id.desc().nulls_last()])
            with pytest.raises(ValueError, match="must not be NULL"):
                await db.paginate_cursor(select(Book), order_by=[Book.subtitle, Book.id], size=1)
        await database.dispose()

    asyncio.run(scenario())
