"""Parameter markers: what they record, and that each works where a handler declares it."""

from typing import Annotated, Any

import msgspec
import pytest

from satchel import App, Body, Cookie, Depends, File, Form, Header, Path, Query, Settings
from satchel.params import Dependency, Param
from satchel.testing import TestClient


def test_markers_record_their_location_and_default() -> None:
    markers = {
        "query": Query(5),
        "header": Header("h"),
        "cookie": Cookie("c"),
        "body": Body(None),
        "form": Form(""),
    }
    for location, marker in markers.items():
        assert isinstance(marker, Param)
        assert marker.location == location
    assert markers["query"].default == 5
    assert Path().default is msgspec.NODEFAULT  # a path parameter is always required
    assert Query().default is msgspec.NODEFAULT


def test_file_is_a_form_marker() -> None:
    marker = File(description="The document")
    assert (marker.location, marker.options) == ("form", {"description": "The document"})


def test_header_converts_underscores_unless_told_not_to() -> None:
    assert Header().convert_underscores
    assert not Header(convert_underscores=False).convert_underscores


def test_meta_holds_constraints_and_descriptions() -> None:
    marker = Query(
        ge=1,
        lt=10,
        multiple_of=2,
        title="Limit",
        description="How many",
        examples=[2, 4],
        alias="n",
        deprecated=True,
        include_in_schema=False,
    )
    assert marker.meta == msgspec.Meta(
        ge=1, lt=10, multiple_of=2, title="Limit", description="How many", examples=[2, 4]
    )


def test_meta_is_none_without_constraints_or_descriptions() -> None:
    assert Query(alias="n", deprecated=True).meta is None
    assert Header().meta is None


def test_string_constraints() -> None:
    assert Query(min_length=2, max_length=5, pattern="^[a-z]+$").meta == msgspec.Meta(
        min_length=2, max_length=5, pattern="^[a-z]+$"
    )


def test_depends_records_its_options() -> None:
    def provider() -> int:
        return 1

    assert Depends(provider) == Dependency(provider, True, "request", False)
    marker = Depends(provider, use_cache=False, scope="app", thread=True)
    assert marker == Dependency(provider, False, "app", True)
    assert Depends().provider is None


# -- markers at work ---------------------------------------------------------------------------


def make_app() -> App[Any]:
    return App(settings=Settings(), openapi=None)


def test_marker_as_default_and_in_annotated_behave_alike() -> None:
    app = make_app()

    @app.get("/default")
    async def as_default(limit: int = Query(10, ge=1, le=50)) -> int:
        return limit

    @app.get("/annotated")
    async def annotated(limit: Annotated[int, Query(ge=1, le=50)] = 10) -> int:
        return limit

    with TestClient(app) as client:
        for path in ("/default", "/annotated"):
            assert client.get(path).json() == 10
            assert client.get(path, params={"limit": "7"}).json() == 7
            response = client.get(path, params={"limit": "51"})
            assert response.status_code == 422
            assert response.json()["errors"] == [
                {"location": "query", "name": "limit", "message": "Expected `int` <= 50"}
            ]


def test_alias_is_the_name_on_the_wire() -> None:
    app = make_app()

    @app.get("/")
    async def handler(page_size: Annotated[int, Query(alias="page-size")] = 20) -> int:
        return page_size

    with TestClient(app) as client:
        assert client.get("/?page-size=5").json() == 5
        assert client.get("/?page_size=5").json() == 20  # the Python name is not read
        errors = client.get("/?page-size=x").json()["errors"]
        assert [e["name"] for e in errors] == ["page-size"]


def test_descriptions_alone_do_not_constrain() -> None:
    app = make_app()

    @app.get("/")
    async def handler(
        q: Annotated[str, Query(title="Search", description="Words", examples=["cats"])] = "",
    ) -> str:
        return q

    with TestClient(app) as client:
        assert client.get("/?q=anything at all").text == "anything at all"


@pytest.mark.parametrize(
    ("marker", "value", "ok"),
    [
        (Query(gt=0), "0", False),
        (Query(gt=0), "1", True),
        (Query(lt=5), "5", False),
        (Query(le=5), "5", True),
        (Query(multiple_of=3), "6", True),
        (Query(multiple_of=3), "7", False),
    ],
)
def test_numeric_constraints(marker: Any, value: str, ok: bool) -> None:
    app = make_app()

    @app.get("/")
    async def handler(n: Annotated[int, marker]) -> int:
        return n

    with TestClient(app) as client:
        assert client.get("/", params={"n": value}).status_code == (200 if ok else 422)


@pytest.mark.parametrize(
    ("value", "ok"), [("ab", True), ("a", False), ("abcdef", False), ("AB", False)]
)
def test_string_constraints_at_work(value: str, ok: bool) -> None:
    app = make_app()

    @app.get("/")
    async def handler(
        code: Annotated[str, Query(min_length=2, max_length=5, pattern="^[a-z]+$")],
    ) -> str:
        return code

    with TestClient(app) as client:
        assert client.get("/", params={"code": value}).status_code == (200 if ok else 422)


def test_path_marker_constrains_a_path_parameter() -> None:
    app = make_app()

    @app.get("/items/{item_id}")
    async def handler(item_id: Annotated[int, Path(ge=1)]) -> int:
        return item_id

    with TestClient(app) as client:
        assert client.get("/items/3").json() == 3
        response = client.get("/items/0")
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"location": "path", "name": "item_id", "message": "Expected `int` >= 1"}
        ]


@pytest.mark.parametrize("marker", [Query, Header, Cookie, Path, Body, Form, File])
def test_a_misspelt_option_is_refused_rather_than_ignored(marker: Any) -> None:
    # Without a type checker, Query(maxlength=3) would otherwise constrain nothing.
    with pytest.raises(TypeError, match="maxlength"):
        marker(maxlength=3)
