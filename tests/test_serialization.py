"""Return annotations: the body is what the signature promises, and nothing more."""

import dataclasses
import datetime
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest

from satchel import (
    App,
    ConfigurationError,
    HTMLResponse,
    JSONResponse,
    Response,
    Settings,
    StreamingResponse,
)
from satchel.serialization import ResponseValidationError, response_type
from satchel.testing import TestClient
from tests.support import FORBIDDEN_IN_BODY, assert_problem


class Item(msgspec.Struct):
    name: str
    price: float = 0.0


class SecretItem(Item, kw_only=True):
    password: str


class Order(msgspec.Struct):
    items: list[Item]
    lead: Item | None = None


@dataclasses.dataclass
class User:
    name: str


@dataclasses.dataclass
class Admin(User):
    token: str


@dataclasses.dataclass
class Team:
    members: list[User]


class Summary(TypedDict):
    name: str


class Named(pydantic.BaseModel):
    name: str


class Row:
    """An ORM-like object: attributes, not a mapping; more of them than the type declares."""

    def __init__(self, name: str, price: float) -> None:
        self.name = name
        self.price = price
        self.internal_cost = price / 2


class OrderRow:
    def __init__(self, *rows: Row) -> None:
        self.items = list(rows)
        self.lead = rows[0] if rows else None
        self.owner_email = "owner@example.com"


def serve(value: Any, annotation: Any, **route: Any) -> TestClient:
    """A client for an app whose ``GET /`` returns ``value`` annotated ``-> annotation``."""
    app = App(settings=Settings(access_log=False), openapi=None)

    async def handler() -> Any:
        return value

    handler.__annotations__["return"] = annotation
    app.get("/", **route)(handler)
    return TestClient(app, raise_server_exceptions=False)


def body(value: Any, annotation: Any, **route: Any) -> Any:
    with serve(value, annotation, **route) as client:
        response = client.get("/")
        assert response.status_code == route.get("status_code", 200), response.text
        assert response.headers["content-type"] == "application/json"
        return response.json()


# -- filtering ---------------------------------------------------------------------------------


def test_a_subclass_is_filtered_to_the_declared_fields() -> None:
    secret = SecretItem("pen", 1.5, password="hunter2")
    assert body(secret, Item) == {"name": "pen", "price": 1.5}
    assert body([secret, Item("cap")], list[Item]) == [
        {"name": "pen", "price": 1.5},
        {"name": "cap", "price": 0.0},
    ]
    assert body(Admin("ann", "t0k3n"), User) == {"name": "ann"}


def test_a_subclass_nested_in_an_exact_instance_is_filtered() -> None:
    secret = SecretItem("pen", password="hunter2")
    expected = {"items": [{"name": "pen", "price": 0.0}], "lead": {"name": "pen", "price": 0.0}}
    assert body(Order([secret], lead=secret), Order) == expected
    assert body([Order([secret], lead=secret)], list[Order]) == [expected]
    assert body(Team([Admin("ann", "t0k3n")]), Team) == {"members": [{"name": "ann"}]}


class Cached(msgspec.Struct):
    payload: msgspec.Raw
    when: datetime.datetime


class Page(msgspec.Struct):
    entries: list[Cached]
    ratio: float


def test_filtering_nested_values_keeps_every_field_type() -> None:
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    page = Page([Cached(msgspec.Raw(b'{"pre":"encoded"}'), when)], float("nan"))
    assert body(page, Page) == {
        "entries": [{"payload": {"pre": "encoded"}, "when": "2024-01-02T03:04:05Z"}],
        "ratio": None,  # NaN has no JSON form
    }


def test_exact_instances_are_encoded_as_they_are() -> None:
    assert body(Item("pen", 2.0), Item) == {"name": "pen", "price": 2.0}
    assert body(User("ann"), User) == {"name": "ann"}
    assert body(Order([Item("a")]), Order) == {"items": [{"name": "a", "price": 0.0}], "lead": None}


def test_dicts_are_converted_and_filtered() -> None:
    value = {"name": "pen", "price": 3, "password": "hunter2"}
    assert body(value, Item) == {"name": "pen", "price": 3.0}
    assert body({"name": "ann", "token": "x"}, User) == {"name": "ann"}
    assert body({"name": "ann", "token": "x"}, Summary) == {"name": "ann"}
    assert body({"a": 1}, dict[str, int]) == {"a": 1}


def test_orm_like_objects_are_read_by_attribute() -> None:
    assert body(Row("pen", 4.0), Item) == {"name": "pen", "price": 4.0}
    rows = [Row("a", 1.0), Row("b", 2.0)]
    assert body(rows, list[Item]) == [{"name": "a", "price": 1.0}, {"name": "b", "price": 2.0}]
    assert body(OrderRow(*rows), Order) == {
        "items": [{"name": "a", "price": 1.0}, {"name": "b", "price": 2.0}],
        "lead": {"name": "a", "price": 1.0},
    }


def test_pydantic_return_types_filter_and_read_attributes() -> None:
    class Tagged(Named):
        secret: str

    assert body(Tagged(name="a", secret="s"), Named) == {"name": "a"}
    assert body([Row("b", 1.0)], list[Named]) == [{"name": "b"}]
    assert body({"name": "c", "secret": "s"}, Named) == {"name": "c"}


def test_annotated_and_optional_return_types() -> None:
    assert body(Item("a"), Annotated[Item, "documented"]) == {"name": "a", "price": 0.0}
    assert body(None, Item | None) is None


# -- wrong values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "annotation"),
    [
        ({"price": 1}, Item),  # a required field missing
        ({"name": 5}, Item),
        ("text", Item),
        ([Item("a"), "b"], list[Item]),
        (object(), Item),
        (Row("a", 1), int),
        ({"nope": 1}, Named),  # pydantic
        (Row("a", 1), list[Named]),
    ],
)
def test_a_value_that_does_not_match_is_a_logged_500(
    value: Any, annotation: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with serve(value, annotation) as client, caplog.at_level(logging.ERROR, "satchel.error"):
        response = client.get("/")
    assert response.status_code == 500
    assert_problem(response.json(), 500)
    for secret in ("hunter2", "Expected", "handler"):
        assert secret not in response.text
    logged = [r for r in caplog.records if r.exc_info is not None]
    assert len(logged) == 1
    error = logged[0].exc_info[1]  # type: ignore[index]
    assert isinstance(error, ResponseValidationError)
    assert "serve.<locals>.handler returned a value that is not a" in str(error)


def test_error_body_has_no_internals() -> None:
    with serve({"price": 1}, Item) as client:
        text = client.get("/").text
    for forbidden in FORBIDDEN_IN_BODY:
        assert forbidden not in text


def test_a_return_annotation_that_cannot_be_encoded_is_refused_at_startup() -> None:
    class A(msgspec.Struct):
        x: int

    class B(msgspec.Struct):
        y: int

    app = App(settings=Settings(), openapi=None)

    @app.get("/")
    async def handler() -> A | B:
        return A(1)

    with pytest.raises(ConfigurationError, match=r"handler.*the return annotation .* cannot be"):
        app.build()


# -- responses, None and status codes ----------------------------------------------------------


def test_a_response_passes_through_a_typed_handler() -> None:
    html = HTMLResponse("<p>hi</p>", 418, {"x-kind": "html"})
    with serve(html, Item, status_code=201) as client:
        response = client.get("/")
    assert (response.status_code, response.text) == (418, "<p>hi</p>")
    assert response.headers["x-kind"] == "html"


def test_none_is_204_and_keeps_a_route_status() -> None:
    with serve(None, None) as client:
        response = client.get("/")
        assert (response.status_code, response.content) == (204, b"")
        assert "content-type" not in response.headers
    with serve(None, None, status_code=202) as client:
        assert (client.get("/").status_code, client.get("/").content) == (202, b"")


def test_route_status_code_applies_to_typed_bodies() -> None:
    assert body(Item("a"), Item, status_code=201) == {"name": "a", "price": 0.0}
    assert body([1, 2], list[int], status_code=203) == [1, 2]


@pytest.mark.parametrize(
    "annotation",
    [Any, object, str, bytes, None, type(None), Response, JSONResponse, StreamingResponse],
)
def test_untyped_returns_keep_the_plain_rules(annotation: Any) -> None:
    assert response_type(annotation) is None


@pytest.mark.parametrize(
    "annotation", [AsyncIterator[bytes], Iterator[str], Response | str, Response | JSONResponse]
)
def test_streams_and_unions_of_responses_and_plain_values_are_untyped(annotation: Any) -> None:
    assert response_type(annotation) is None


def test_a_union_with_responses_is_typed_by_its_other_members() -> None:
    assert response_type(Response | dict[str, int]) == dict[str, int]
    assert response_type(Item | None | HTMLResponse) == Item | None


def test_a_union_with_a_response_still_filters_other_values() -> None:
    # "-> User | RedirectResponse": a Response passes as it is, but a row must not leak.
    secret = SecretItem(name="a", password="hunter2")
    assert body(secret, Item | HTMLResponse) == {"name": "a", "price": 0.0}
    with serve(HTMLResponse("<p>hi</p>"), Item | HTMLResponse) as client:
        assert client.get("/").text == "<p>hi</p>"


@pytest.mark.parametrize("annotation", [Item, list[Item], dict[str, int], int, Item | None])
def test_data_types_are_typed(annotation: Any) -> None:
    assert response_type(annotation) == annotation


def test_streaming_response_under_a_stream_annotation() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    app = App(settings=Settings(access_log=False), openapi=None)

    @app.get("/")
    async def handler() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    with TestClient(app) as client:
        assert client.get("/").text == "ab"


def test_a_wrong_pydantic_value_is_logged_without_its_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The value was never filtered: what the type leaves out must not reach the logs either.
    row = {"nope": 1, "password_hash": "argon2id$hunter2"}
    with serve(row, Named) as client, caplog.at_level(logging.ERROR, "satchel.error"):
        assert client.get("/").status_code == 500
    (record,) = [r for r in caplog.records if r.exc_info is not None]
    message = str(record.exc_info[1])  # type: ignore[index]
    assert "name: Field required" in message
    assert "hunter2" not in message


def test_a_model_free_container_is_encoded_as_it_is() -> None:
    from satchel.serialization import serializer_for

    serialize = serializer_for(dict[str, int], 200, "handler h")
    # Nothing to filter: no conversion (and no type re-check) on the hot path.
    assert serialize({"a": 1}).body == b'{"a":1}'
    assert serialize({"a": "x"}).body == b'{"a":"x"}'
