"""The 422 answer: every failing field, named by location and path; 400 and 415 for bad bodies."""

from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
import pydantic
import pytest

from satchel import (
    App,
    Body,
    Cookie,
    FieldError,
    Header,
    Query,
    RequestValidationError,
    Settings,
)
from satchel.testing import TestClient
from satchel.validation import MAX_REPORTED_ERRORS, explain
from tests.support import assert_problem


class LineItem(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(gt=0)]


class Order(msgspec.Struct):
    customer: str
    items: list[LineItem]
    note: str | None = None


class Loose(msgspec.Struct):
    n: Any


class PydanticLine(pydantic.BaseModel):
    name: str
    price: float = pydantic.Field(gt=0)


class PydanticOrder(pydantic.BaseModel):
    customer: str
    items: list[PydanticLine]


class PydanticFilters(pydantic.BaseModel):
    q: str = ""
    limit: int = pydantic.Field(10, le=100)
    tags: list[str] = []


class PydanticPublic(pydantic.BaseModel):
    name: str


class PydanticSecret(PydanticPublic):
    password: str


def make_app() -> App[Any]:
    # Requests here carry cookies without CSRF tokens: tests/test_csrf.py covers those.
    app = App(settings=Settings(access_log=False), openapi=None, csrf=False)

    @app.post("/orders/{shop_id:int}")
    async def create(
        shop_id: int,
        order: Order,
        limit: Annotated[int, Query(ge=1)] = 1,
        x_token: Annotated[str, Header()] = "",
        session: Annotated[str, Cookie(min_length=4)] = "anon",
    ) -> Order:
        return order

    @app.post("/optional")
    async def optional(order: Order | None = None) -> bool:
        return order is not None

    @app.post("/numbers")
    async def numbers(values: Annotated[list[int], Body()]) -> int:
        return len(values)

    @app.post("/lines")
    async def lines(values: list[LineItem]) -> int:
        return len(values)

    @app.post("/anything")
    async def anything(data: dict[str, Any]) -> dict[str, Any]:
        return data

    @app.post("/loose")
    async def loose(data: Loose) -> None:
        pass

    @app.post("/count")
    async def count(n: Annotated[int, Body(ge=0)]) -> int:
        return n

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        yield client


def errors(response: Any) -> list[tuple[str, str, str]]:
    assert response.status_code == 422, response.text
    return [(e["location"], e["name"], e["message"]) for e in response.json()["errors"]]


GOOD_ORDER = {"customer": "c", "items": [{"name": "pen", "price": 1.5}]}


def test_valid_request_passes(client: TestClient) -> None:
    response = client.post("/orders/1", json=GOOD_ORDER)
    assert response.json() == {**GOOD_ORDER, "note": None}


def test_422_is_a_problem_listing_every_failing_field_in_every_location(
    client: TestClient,
) -> None:
    response = client.post(
        "/orders/1?limit=0",
        json={"customer": 5, "items": [{"name": "pen", "price": -1}, {"price": 2}, "junk"]},
        headers={"cookie": "session=abc"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert_problem(body, 422)
    assert body["detail"] == "6 invalid request fields"
    assert errors(response) == [
        ("body", "customer", "Expected `str`, got `int`"),
        ("body", "items[0].price", "Expected `float` > 0.0"),
        ("body", "items[1].name", "Field required"),
        ("body", "items[2]", "Expected `object`, got `str`"),
        ("query", "limit", "Expected `int` >= 1"),
        ("cookie", "session", "Expected `str` of length >= 4"),
    ]


def test_path_parameter_converter_failure_is_404(client: TestClient) -> None:
    assert client.post("/orders/abc", json=GOOD_ORDER).status_code == 404


def test_missing_required_fields_are_named(client: TestClient) -> None:
    assert errors(client.post("/orders/1", json={})) == [
        ("body", "customer", "Field required"),
        ("body", "items", "Field required"),
    ]


def test_one_error_reads_in_the_singular(client: TestClient) -> None:
    response = client.post("/count", json=-1)
    assert response.json()["detail"] == "1 invalid request field"
    assert errors(response) == [("body", "", "Expected `int` >= 0")]


def test_top_level_list_items_are_named_by_index(client: TestClient) -> None:
    response = client.post("/lines", json=[{"name": "a", "price": 1}, {"name": "b", "price": 0}])
    assert errors(response) == [("body", "[1].price", "Expected `float` > 0.0")]


def test_hostile_list_reports_at_most_max_reported_errors(client: TestClient) -> None:
    body = b"[" + b",".join([b'"x"'] * 100_000) + b"]"
    response = client.post("/numbers", content=body, headers={"content-type": "application/json"})
    found = errors(response)
    assert len(found) == MAX_REPORTED_ERRORS
    assert found[0] == ("body", "[0]", "Expected `int`, got `str`")
    assert found[-1][1] == f"[{MAX_REPORTED_ERRORS - 1}]"

    items = b"[" + b",".join([b'{"name":"","price":0}'] * 100_000) + b"]"  # within the body limit
    response = client.post("/lines", content=items, headers={"content-type": "application/json"})
    assert len(errors(response)) == MAX_REPORTED_ERRORS


def test_empty_body_for_a_required_body_is_422(client: TestClient) -> None:
    assert errors(client.post("/orders/1")) == [("body", "", "A JSON body is required")]
    assert errors(client.post("/orders/1", json=None)) == [("body", "", "A JSON body is required")]


def test_json_null_for_a_required_body_is_422(client: TestClient) -> None:
    response = client.post(
        "/orders/1", content=b"null", headers={"content-type": "application/json"}
    )
    assert errors(response) == [("body", "", "Expected `object`, got `null`")]


def test_optional_body_may_be_absent_or_null(client: TestClient) -> None:
    assert client.post("/optional").json() is False
    null = client.post("/optional", content=b"null", headers={"content-type": "application/json"})
    assert null.json() is False
    assert client.post("/optional", json=GOOD_ORDER).json() is True


@pytest.mark.parametrize(
    "body",
    [
        b'{"customer": "c", "items": [',  # truncated
        b"{'customer': 'c'}",
        b'{"customer": "c", "items": []} trailing',
        b'{"customer": 1, "items": [}',  # a field error first, then broken syntax
        b'{"customer": 1, "items": "\xff"}',  # a field error first, then invalid UTF-8
        b'{"customer": "\xff\xfe", "items": []}',
        b"\xef\xbb\xbf{}",  # a byte-order mark
        b"[NaN]",
        b"",
    ],
)
def test_malformed_json_is_400(client: TestClient, body: bytes) -> None:
    if not body:  # empty is "no body", covered above; a lone space is malformed
        body = b" "
    response = client.post("/orders/1", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert_problem(response.json(), 400)
    assert response.json()["detail"].startswith("Malformed JSON")


@pytest.mark.parametrize(
    ("body", "name", "message"),
    [
        (b'{"n": ' + b"9" * 5000 + b"}", "n", "Integer value out of range"),
        (b'{"n": 1e999}', "n", "Number out of range"),
        (b'{"n": [1, -1e400]}', "n[1]", "Number out of range"),
    ],
)
def test_numbers_out_of_range_are_422(
    client: TestClient, body: bytes, name: str, message: str
) -> None:
    response = client.post("/loose", content=body, headers={"content-type": "application/json"})
    assert errors(response) == [("body", name, message)]
    # In a dict msgspec names the place by position only.
    response = client.post("/anything", content=body, headers={"content-type": "application/json"})
    assert [(e[0], e[2]) for e in errors(response)] == [("body", message)]


def test_huge_number_for_a_typed_field_is_422(client: TestClient) -> None:
    response = client.post(
        "/count", content=b"9" * 5000, headers={"content-type": "application/json"}
    )
    assert errors(response) == [("body", "", "Integer value out of range")]


def test_deep_json_is_400(client: TestClient) -> None:
    for deep in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 100 + b"1" + b"}" * 100):
        response = client.post(
            "/anything", content=deep, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert "nested deeper than" in response.json()["detail"]


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_a_body_that_is_not_json_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post("/orders/1", content=b'{"customer": "c"}', headers=headers)
    assert response.status_code == 415
    assert_problem(response.json(), 415)


def test_json_suffix_media_types_are_json(client: TestClient) -> None:
    for content_type in ("application/vnd.api+json", "application/json; charset=utf-8"):
        response = client.post(
            "/orders/1",
            content=msgspec.json.encode(GOOD_ORDER),
            headers={"content-type": content_type},
        )
        assert response.status_code == 200, content_type


def test_handlers_may_raise_request_validation_error_themselves() -> None:
    app = App(settings=Settings(access_log=False), openapi=None)

    @app.get("/")
    async def handler() -> None:
        raise RequestValidationError([FieldError("query", "when", "Must be in the future")])

    with TestClient(app) as client:
        response = client.get("/")
        assert errors(response) == [("query", "when", "Must be in the future")]
        assert response.json()["detail"] == "1 invalid request field"


# -- pydantic models -----------------------------------------------------------------------------


def pydantic_app() -> App[Any]:
    app = App(settings=Settings(access_log=False), openapi=None)

    @app.post("/orders")
    async def create(order: PydanticOrder, limit: Annotated[int, Query(ge=1)] = 1) -> PydanticOrder:
        return order

    @app.get("/search")
    async def search(filters: Annotated[PydanticFilters, Query()]) -> PydanticFilters:
        return filters

    @app.get("/me")
    async def me() -> PydanticPublic:
        return PydanticSecret(name="n", password="hunter2")

    return app


def test_pydantic_body_and_errors_next_to_msgspec_ones() -> None:
    with TestClient(pydantic_app()) as client:
        good = {"customer": "c", "items": [{"name": "a", "price": 2}]}
        assert client.post("/orders", json=good).json() == {
            "customer": "c",
            "items": [{"name": "a", "price": 2.0}],
        }
        response = client.post(
            "/orders?limit=0", json={"customer": 1, "items": [{"name": "a", "price": -1}, {}]}
        )
        assert errors(response) == [
            ("body", "customer", "Input should be a valid string"),
            ("body", "items[0].price", "Input should be greater than 0"),
            ("body", "items[1].name", "Field required"),
            ("body", "items[1].price", "Field required"),
            ("query", "limit", "Expected `int` >= 1"),
        ]
        assert errors(client.post("/orders")) == [("body", "", "A JSON body is required")]


@pytest.mark.parametrize(
    "body", [b'{"customer": "c", "items": [', b'{"customer": "\xff", "items": []}', b"{]"]
)
def test_pydantic_malformed_json_is_400(body: bytes) -> None:
    with TestClient(pydantic_app()) as client:
        response = client.post(
            "/orders", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert_problem(response.json(), 400)


def test_pydantic_query_model() -> None:
    with TestClient(pydantic_app()) as client:
        assert client.get("/search?q=x&limit=5&tags=a&tags=b").json() == {
            "q": "x",
            "limit": 5,
            "tags": ["a", "b"],
        }
        assert errors(client.get("/search?limit=500")) == [
            ("query", "limit", "Input should be less than or equal to 100")
        ]


def test_pydantic_return_type_filters_extra_fields() -> None:
    with TestClient(pydantic_app()) as client:
        assert client.get("/me").json() == {"name": "n"}


class Node(msgspec.Struct):
    """A recursive body type that counts how many Nodes msgspec has built."""

    value: int
    children: list["Node"] = []

    def __post_init__(self) -> None:
        NODES_BUILT.append(None)


NODES_BUILT: list[None] = []


def test_naming_the_errors_of_a_deep_body_costs_in_proportion_to_its_size() -> None:
    # A chain of nested nodes with a wide list at the bottom whose last item is wrong:
    # re-validating the whole subtree at every level on the way down would build the
    # bottom list once per level.
    depth, width = 25, 500  # 2 levels of JSON nesting per node, within the limit of 64
    node: dict[str, Any] = {"value": 0, "children": [{"value": 1}] * width + [{"value": "x"}]}
    for _ in range(depth):
        node = {"value": 0, "children": [node]}
    app = App(settings=Settings(access_log=False), openapi=None)

    @app.post("/tree")
    async def tree(root: Node) -> None:
        pass  # pragma: no cover

    NODES_BUILT.clear()
    with TestClient(app) as client:
        response = client.post("/tree", json=node)
    assert errors(response) == [
        ("body", "children[0]." * depth + f"children[{width}].value", "Expected `int`, got `str`")
    ]
    assert len(NODES_BUILT) <= 3 * (depth + width + 1)


def test_errors_after_the_first_are_still_found_in_long_lists() -> None:
    with TestClient(make_app()) as client:
        lines = [{"name": "ok", "price": 1}] * 3000
        lines[5] = {"name": "bad", "price": 0}
        lines[2500] = {"price": 1}
        response = client.post("/lines", json=lines)
    assert errors(response) == [
        ("body", "[5].price", "Expected `float` > 0.0"),
        ("body", "[2500].name", "Field required"),
    ]


class Holder(msgspec.Struct):
    b: dict[str, int]


class Dotted(msgspec.Struct, rename={"outer": "a", "inner": "a.b"}):
    """Wire names msgspec's error paths cannot tell apart: ``a.b.b`` is in either field."""

    outer: Holder
    inner: Holder


def test_fields_whose_paths_look_alike_are_each_checked() -> None:
    # msgspec reads "a.b" first and reports "a.b.b[...]": that path fits "a" as well.
    value = {"a.b": {"b": {"k": "x"}}, "a": {"b": {"k": "y"}}}
    assert explain(value, Dotted, "body", "", strict=True) == [
        FieldError("body", "a.b[...]", "Expected `int`, got `str`"),
        FieldError("body", "a.b.b[...]", "Expected `int`, got `str`"),
    ]


def test_a_pydantic_body_with_too_many_errors_to_name_is_one_error() -> None:
    # pydantic finds every error; listing a million of them would cost far more than finding.
    with TestClient(pydantic_app()) as client:
        items = [{"name": "a", "price": 0}] * 2000
        response = client.post("/orders", json={"customer": "c", "items": items})
        assert errors(response) == [("body", "", "2000 invalid values; too many to name each")]
        response = client.post("/orders", json={"customer": "c", "items": items[:60]})
        assert len(errors(response)) == MAX_REPORTED_ERRORS
