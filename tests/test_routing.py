"""Tests for path parsing, the route table (static dict + segment trie) and URL reversing."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

import pytest

from satchel import App, ConfigurationError, Request, Settings
from satchel.converters import (
    Converter,
    DateConverter,
    IntConverter,
    PathConverter,
    StrConverter,
    UUIDConverter,
)
from satchel.routing import Param, RouteTable, parse_path
from tests.support import call_asgi, request

INT = IntConverter()
STR = StrConverter()
PATH = PathConverter()


# -- parse_path --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", [""]),
        ("/users", ["users"]),
        ("/users/", ["users", ""]),
        ("/users/{id}", ["users", Param("id", None)]),
        ("/users/{id:int}/posts", ["users", Param("id", "int"), "posts"]),
        ("/{a}/{b:path}", [Param("a", None), Param("b", "path")]),
        ("/{a:}", [Param("a", None)]),
    ],
)
def test_parse_path(path: str, expected: list[Any]) -> None:
    assert parse_path(path) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("users", "must start with '/'"),
        ("", "must start with '/'"),
        ("/users/x{id}", "whole segment"),
        ("/users/{id}x", "whole segment"),
        ("/users/{id", "whole segment"),
        ("/users/id}", "whole segment"),
        ("/users/{{id}}", "whole segment"),
        ("/{a}/{a}", "duplicate parameter 'a'"),
        ("/{1a}", "bad or duplicate"),
        ("/{}", "bad or duplicate"),
        ("/{a-b}", "bad or duplicate"),
    ],
)
def test_parse_path_refuses_malformed(path: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_path(path)


# -- RouteTable --------------------------------------------------------------------------------


def _table(*routes: tuple[str, dict[str, Converter[Any]]]) -> RouteTable[str]:
    table: RouteTable[str] = RouteTable()
    for path, converters in routes:
        table.add(parse_path(path), converters, path)
        table.add_name(path, parse_path(path), converters)
    return table


def test_static_paths() -> None:
    table = _table(("/", {}), ("/a/b", {}), ("/a/b/", {}))
    assert table.match("/") == ("/", {})
    assert table.match("/a/b") == ("/a/b", {})
    assert table.match("/a/b/") == ("/a/b/", {})
    assert table.match("/a") is None
    assert table.match("") is None
    assert table.match("a/b") is None


def test_typed_parameter_wins_over_plain_string() -> None:
    table = _table(("/{slug}", {"slug": STR}), ("/{id:int}", {"id": INT}))
    assert table.match("/42") == ("/{id:int}", {"id": 42})
    assert table.match("/hello") == ("/{slug}", {"slug": "hello"})


def test_static_segment_wins_over_parameter() -> None:
    table = _table(
        ("/users/{id:int}", {"id": INT}), ("/users/me", {}), ("/users/{name}", {"name": STR})
    )
    assert table.match("/users/me") == ("/users/me", {})
    assert table.match("/users/7") == ("/users/{id:int}", {"id": 7})
    assert table.match("/users/bob") == ("/users/{name}", {"name": "bob"})


def test_backtracking_leaves_no_stale_parameters() -> None:
    table = _table(
        ("/a/{x:int}/b", {"x": INT}),
        ("/a/{y}/c", {"y": STR}),
        ("/a/static/{z}/d", {"z": STR}),
        ("/a/{w}/{v}/e", {"w": STR, "v": STR}),
    )
    assert table.match("/a/1/c") == ("/a/{y}/c", {"y": "1"})
    assert table.match("/a/1/b") == ("/a/{x:int}/b", {"x": 1})
    assert table.match("/a/static/q/e") == ("/a/{w}/{v}/e", {"w": "static", "v": "q"})
    assert table.match("/a/static/q/d") == ("/a/static/{z}/d", {"z": "q"})
    assert table.match("/a/1/x") is None


def test_empty_segment_never_matches_a_parameter() -> None:
    table = _table(("/users/{id}", {"id": STR}), ("/{rest:path}", {"rest": PATH}))
    assert table.match("/users/") == ("/{rest:path}", {"rest": "users/"})
    assert table.match("//x") is None
    assert table.match("/users/a/") == ("/{rest:path}", {"rest": "users/a/"})


def test_path_converter_takes_the_rest() -> None:
    table = _table(("/files/{name:path}", {"name": PATH}), ("/files/special", {}))
    assert table.match("/files/a/b/c.txt") == ("/files/{name:path}", {"name": "a/b/c.txt"})
    assert table.match("/files/special") == ("/files/special", {})
    assert table.match("/files/x") == ("/files/{name:path}", {"name": "x"})
    assert table.match("/files") is None


def test_path_converter_must_be_last() -> None:
    table: RouteTable[str] = RouteTable()
    with pytest.raises(ConfigurationError, match="must be last"):
        table.add(parse_path("/{p:path}/x"), {"p": PATH}, "x")


class _NeverConverter:
    matches_slash: ClassVar[bool] = True

    def to_python(self, value: str) -> str:
        raise ValueError(value)

    def to_url(self, value: str) -> str:
        return value


def test_failing_catch_all_falls_through() -> None:
    never = _NeverConverter()
    table = _table(("/x/{a:never}", {"a": never}), ("/x/{b:path}", {"b": PATH}))
    assert table.match("/x/1/2") == ("/x/{b:path}", {"b": "1/2"})
    only_never = _table(("/y/{a:never}", {"a": never}))
    assert only_never.match("/y/1") is None


def test_duplicate_endpoints_are_refused() -> None:
    table: RouteTable[str] = RouteTable()
    table.add(parse_path("/a"), {}, "one")
    with pytest.raises(ConfigurationError, match="Two endpoints for path '/a'"):
        table.add(parse_path("/a"), {}, "two")
    table.add(parse_path("/b/{x}"), {"x": STR}, "one")
    with pytest.raises(ConfigurationError, match="same path pattern"):
        table.add(parse_path("/b/{x}"), {"x": STR}, "two")


def test_parameters_with_same_name_and_converter_share_a_node() -> None:
    table = _table(("/{id:int}/a", {"id": INT}), ("/{id:int}/b", {"id": INT}))
    assert table.match("/1/a") == ("/{id:int}/a", {"id": 1})
    assert table.match("/1/b") == ("/{id:int}/b", {"id": 1})


# -- reversing ---------------------------------------------------------------------------------


def test_url_path_quotes_parameters() -> None:
    table = _table(("/users/{name}", {"name": STR}), ("/files/{rest:path}", {"rest": PATH}))
    assert table.url_path("/users/{name}", {"name": "a b/c?d#e%"}) == "/users/a%20b%2Fc%3Fd%23e%25"
    assert table.url_path("/files/{rest:path}", {"rest": "a b/c"}) == "/files/a%20b/c"


def test_url_path_errors() -> None:
    table = _table(("/users/{name}", {"name": STR}))
    with pytest.raises(KeyError):
        table.url_path("nope", {})
    with pytest.raises(ValueError, match=r"takes parameters \['name'\], got \[\]"):
        table.url_path("/users/{name}", {})
    with pytest.raises(ValueError, match="got"):
        table.url_path("/users/{name}", {"name": "x", "extra": 1})


def test_duplicate_names_are_refused() -> None:
    table: RouteTable[str] = RouteTable()
    table.add_name("n", parse_path("/a"), {})
    with pytest.raises(ConfigurationError, match="Two routes are named 'n'"):
        table.add_name("n", parse_path("/b"), {})


# -- through the app ---------------------------------------------------------------------------


def test_app_typed_precedence_and_path_converter() -> None:
    app = App(settings=Settings())

    @app.get("/{slug}")
    async def by_slug(slug: str) -> dict[str, str]:
        return {"slug": slug}

    @app.get("/{item_id:int}")
    async def by_id(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/static/{rest:path}")
    async def static(rest: str) -> dict[str, str]:
        return {"rest": rest}

    assert request(app, "GET", "/42").json() == {"id": 42}
    assert request(app, "GET", "/forty-two").json() == {"slug": "forty-two"}
    assert request(app, "GET", "/static/css/site.css").json() == {"rest": "css/site.css"}


def test_app_converters_by_annotation() -> None:
    app = App(settings=Settings())

    @app.get("/u/{key}")
    async def by_uuid(key: uuid.UUID) -> str:
        return key.hex

    @app.get("/d/{day}")
    async def by_date(day: datetime.date) -> str:
        return day.strftime("%A")

    @app.get("/f/{ratio}")
    async def by_float(ratio: float) -> float:
        return ratio * 2

    key = uuid.UUID(int=5)
    assert request(app, "GET", f"/u/{key}").text == key.hex
    assert request(app, "GET", "/d/2024-02-29").text == "Thursday"
    assert request(app, "GET", "/f/1.25").json() == 2.5
    assert request(app, "GET", "/d/2024-02-30").status_code == 404
    assert request(app, "GET", "/f/nan").status_code == 404


def test_app_percent_decoded_parameters() -> None:
    app = App(settings=Settings())

    @app.get("/n/{name}")
    async def named(name: str) -> str:
        return name

    result = call_asgi(app, raw_path=b"/n/caf%C3%A9%20au%20lait", path="/n/café au lait")
    assert result.body.decode() == "café au lait"


def test_route_needs_a_converter_for_its_annotation() -> None:
    app = App(settings=Settings())

    @app.get("/x/{value}")
    async def handler(value: bytes) -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="no converter for parameter 'value'"):
        app.build()


def test_unknown_converter_name() -> None:
    app = App(settings=Settings())

    @app.get("/x/{value:slug}")
    async def handler(value: str) -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="unknown converter 'slug'"):
        app.build()


def test_routes_for_one_path_must_agree_on_types() -> None:
    app = App(settings=Settings())

    @app.get("/x/{value}")
    async def get(value: int) -> str:
        return "x"

    @app.post("/x/{value}")
    async def post(value: str) -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="disagree on parameter types"):
        app.build()


def test_two_handlers_for_one_method_and_path() -> None:
    app = App(settings=Settings())

    @app.get("/x")
    async def one() -> str:
        return "x"

    @app.route("/x", ["POST", "GET"], name="two")
    async def two() -> str:
        return "x"

    with pytest.raises(ConfigurationError, match="Two handlers for GET /x"):
        app.build()


def test_converter_instances_used_by_the_table() -> None:
    assert isinstance(UUIDConverter(), Converter)
    assert isinstance(DateConverter(), Converter)


def test_url_for_refuses_values_that_would_not_route_back() -> None:
    app = App(settings=Settings())

    @app.get("/pages/{page:path}")
    async def page(page: str) -> str:
        return page

    @app.get("/n/{n}")
    async def number(n: int) -> str:
        return ""

    @app.get("/f/{x}")
    async def fraction(x: float) -> str:
        return ""

    assert app.url_for("page", page="a/b c") == "/pages/a/b%20c"
    for bad in ("/evil.com/x", "../admin", "a//b", "a/./b", ""):
        with pytest.raises(ValueError, match="segment"):
            app.url_for("page", page=bad)
    with pytest.raises(ValueError, match="negative"):
        app.url_for("number", n=-3)
    for value in (float("inf"), float("nan"), -1.0):
        with pytest.raises(ValueError, match="path segment"):
            app.url_for("fraction", x=value)


def test_one_function_under_several_method_decorators() -> None:
    app = App(settings=Settings())

    @app.post("/items")
    @app.get("/items")
    async def items(request: Request) -> str:
        return request.method

    assert request(app, "GET", "/items").text == "GET"
    assert request(app, "POST", "/items").text == "POST"
    assert app.url_for("items") == "/items"


def test_a_failed_build_reports_the_same_error_every_time() -> None:
    app = App(settings=Settings())

    @app.get("/a/{x}")
    async def first(y: int) -> str:
        return ""

    for _ in range(2):
        with pytest.raises(ConfigurationError, match=r"does not take path parameter\(s\) \['x'\]"):
            app.build()
