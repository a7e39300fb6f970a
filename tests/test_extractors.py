"""Reading typed inputs from real requests: query, headers, cookies, forms and uploads."""

import dataclasses
import datetime
import decimal
import enum
import os
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pytest

from satchel import App, Body, Cookie, Form, Header, Query, Settings, UploadFile
from satchel.testing import TestClient
from tests.support import open_files_under


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Page(msgspec.Struct):
    number: int = 1
    size: Annotated[int, msgspec.Meta(le=100)] = 10
    tags: list[str] = []
    sort: list[str] | None = None


@dataclasses.dataclass
class Window:
    start: int
    end: int = 0


class Filters(TypedDict, total=False):
    q: str
    n: int


class Trace(msgspec.Struct):
    x_request_id: str
    x_hops: list[int] = []


class Login(msgspec.Struct):
    user: str
    age: int = 0
    roles: list[str] = []


def make_app(**settings: Any) -> App[Any]:
    return App(settings=Settings(access_log=False, **settings), openapi=None)


def errors(response: Any) -> list[tuple[str, str, str]]:
    assert response.status_code == 422, response.text
    return [(e["location"], e["name"], e["message"]) for e in response.json()["errors"]]


def echo_query(tp: Any) -> TestClient:
    """A client for an app whose ``GET /`` echoes query parameter ``v`` of type ``tp``."""
    app = make_app()

    @app.get("/")
    async def handler(v: Annotated[tp, Query()]) -> list[Any]:
        return [v]

    return TestClient(app)


# -- query -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "raw", "expected"),
    [
        (int, "42", 42),
        (int, "-7", -7),
        (float, "2.5", 2.5),
        (float, "1e3", 1000.0),
        (bool, "true", True),
        (bool, "false", False),
        (decimal.Decimal, "1.10", "1.10"),
        (uuid.UUID, "12345678-1234-5678-1234-567812345678", "12345678-1234-5678-1234-567812345678"),
        (datetime.date, "2024-02-29", "2024-02-29"),
        (datetime.datetime, "2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"),
        (Color, "blue", "blue"),
        (Literal["a", "b"], "b", "b"),
        (str, "caf\u00e9 \u00fcber", "caf\u00e9 \u00fcber"),
    ],
)
def test_query_scalars_are_converted(tp: Any, raw: str, expected: Any) -> None:
    with echo_query(tp) as client:
        response = client.get("/", params={"v": raw})
        assert response.status_code == 200, response.text
        assert response.json() == [expected]


@pytest.mark.parametrize(
    ("tp", "raw", "message"),
    [
        (int, "4.5", "Expected `int`, got `str`"),
        (bool, "maybe", "Expected `bool`, got `str`"),
        (Color, "green", "Invalid enum value 'green'"),
        (Literal["a", "b"], "c", "Invalid enum value 'c'"),
        (datetime.date, "2023-02-29", "Invalid RFC3339 encoded date"),
    ],
)
def test_query_scalar_errors_name_the_parameter(tp: Any, raw: str, message: str) -> None:
    with echo_query(tp) as client:
        assert errors(client.get("/", params={"v": raw})) == [("query", "v", message)]


def test_query_lists_take_every_repeated_key() -> None:
    app = make_app()

    @app.get("/")
    async def handler(
        tag: list[str] = [],  # noqa: B006 - copied per request
        ids: Annotated[list[int], Query(max_length=3)] = [],  # noqa: B006
        scores: tuple[float, ...] = (),
    ) -> dict[str, Any]:
        return {"tag": tag, "ids": ids, "scores": scores}

    with TestClient(app) as client:
        body = client.get("/?tag=a&tag=b&ids=1&ids=2&scores=0.5").json()
        assert body == {"tag": ["a", "b"], "ids": [1, 2], "scores": [0.5]}
        assert client.get("/").json() == {"tag": [], "ids": [], "scores": []}
        assert errors(client.get("/?ids=1&ids=x")) == [
            ("query", "ids[1]", "Expected `int`, got `str`")
        ]
        assert errors(client.get("/?ids=1&ids=2&ids=3&ids=4")) == [
            ("query", "ids", "Expected `array` of length <= 3")
        ]


def test_optional_values_are_none_when_absent() -> None:
    app = make_app()

    @app.get("/")
    async def handler(
        name: str | None = None,
        limit: int | None = None,
        tags: list[str] | None = None,
        agent: Annotated[str | None, Header(alias="x-agent")] = None,
    ) -> list[Any]:
        return [name, limit, tags, agent]

    with TestClient(app) as client:
        assert client.get("/").json() == [None, None, None, None]
        response = client.get("/?name=n&limit=3&tags=a", headers={"x-agent": "bot"})
        assert response.json() == ["n", 3, ["a"], "bot"]


def test_required_query_parameter_missing() -> None:
    with echo_query(int) as client:
        assert errors(client.get("/")) == [("query", "v", "Field required")]


def test_query_struct_gathers_its_fields() -> None:
    app = make_app()

    @app.get("/")
    async def handler(page: Annotated[Page, Query()]) -> Page:
        return page

    with TestClient(app) as client:
        assert client.get("/?number=2&tags=a&tags=b&sort=name&sort=id").json() == {
            "number": 2,
            "size": 10,
            "tags": ["a", "b"],
            "sort": ["name", "id"],
        }
        assert errors(client.get("/?number=x&size=500")) == [
            ("query", "number", "Expected `int`, got `str`"),
            ("query", "size", "Expected `int` <= 100"),
        ]


def test_query_dataclass_and_typeddict_gather_their_fields() -> None:
    app = make_app()

    @app.get("/window")
    async def window(w: Annotated[Window, Query()]) -> list[int]:
        return [w.start, w.end]

    @app.get("/filters")
    async def filters(f: Annotated[Filters, Query()]) -> dict[str, Any]:
        return dict(f)

    with TestClient(app) as client:
        assert client.get("/window?start=3").json() == [3, 0]
        assert errors(client.get("/window?end=1")) == [("query", "start", "Field required")]
        assert client.get("/filters?q=x&n=2&other=1").json() == {"q": "x", "n": 2}
        assert client.get("/filters").json() == {}


def test_mutable_defaults_are_fresh_for_each_request() -> None:
    app = make_app()

    @app.post("/")
    async def handler(
        tags: list[str] = [],  # noqa: B006 - the point of the test
        extra: Annotated[dict[str, int], Body()] = {},  # noqa: B006
    ) -> int:
        tags.append("seen")
        extra["calls"] = extra.get("calls", 0) + 1
        return len(tags) + extra["calls"]

    with TestClient(app) as client:
        assert [client.post("/").json() for _ in range(3)] == [2, 2, 2]


# -- headers and cookies -----------------------------------------------------------------------


def test_header_names_come_from_parameter_names_and_aliases() -> None:
    app = make_app()

    @app.get("/")
    async def handler(
        x_request_id: Annotated[str, Header()],
        user_agent: str = Header("none"),
        token: Annotated[str, Header(alias="X-Api-Token")] = "",
        raw_name: Annotated[str | None, Header(convert_underscores=False)] = None,
        x_forwarded: Annotated[list[str], Header()] = [],  # noqa: B006
    ) -> list[Any]:
        return [x_request_id, user_agent, token, raw_name, x_forwarded]

    with TestClient(app) as client:
        response = client.get(
            "/",
            headers=[
                ("X-Request-ID", "r1"),
                ("user-agent", "me"),
                ("x-api-token", "t"),
                ("raw_name", "raw"),
                ("x-forwarded", "a"),
                ("x-forwarded", "b"),
            ],
        )
        assert response.json() == ["r1", "me", "t", "raw", ["a", "b"]]
        assert errors(client.get("/")) == [("header", "x-request-id", "Field required")]
        # The underscore spelling is another header, not the one asked for.
        assert errors(client.get("/", headers={"x_request_id": "r"})) == [
            ("header", "x-request-id", "Field required")
        ]


def test_header_struct_gathers_headers_by_their_wire_names() -> None:
    app = make_app()

    @app.get("/")
    async def handler(trace: Annotated[Trace, Header()]) -> Trace:
        return trace

    with TestClient(app) as client:
        response = client.get(
            "/", headers=[("x-request-id", "r"), ("x-hops", "1"), ("x-hops", "2")]
        )
        assert response.json() == {"x_request_id": "r", "x_hops": [1, 2]}
        assert errors(client.get("/", headers={"x-hops": "z"})) == [
            ("header", "x-request-id", "Field required"),
            ("header", "x-hops[0]", "Expected `int`, got `str`"),
        ]


def test_cookies() -> None:
    app = make_app()

    class Prefs(msgspec.Struct):
        theme: str = "light"
        size: int = 12

    @app.get("/")
    async def handler(
        session: Annotated[str, Cookie()],
        visits: Annotated[int, Cookie(ge=0)] = 0,
        prefs: Annotated[Prefs | None, Cookie()] = None,
    ) -> list[Any]:
        return [session, visits, prefs]

    with TestClient(app) as client:
        response = client.get("/", headers={"cookie": "session=s; visits=3; theme=dark"})
        assert response.json() == ["s", 3, {"theme": "dark", "size": 12}]
        # None of the model's cookies sent: the parameter's default, not a model of defaults.
        assert client.get("/", headers={"cookie": "session=s"}).json() == ["s", 0, None]
        assert errors(client.get("/", headers={"cookie": "visits=-1; size=x"})) == [
            ("cookie", "session", "Field required"),
            ("cookie", "visits", "Expected `int` >= 0"),
            ("cookie", "size", "Expected `int`, got `str`"),
        ]


# -- forms and uploads -------------------------------------------------------------------------


def form_app() -> App[Any]:
    app = make_app()

    @app.post("/fields")
    async def fields(
        name: Annotated[str, Form(min_length=2)],
        count: Annotated[int, Form()] = 1,
        tags: Annotated[list[str], Form()] = [],  # noqa: B006
    ) -> list[Any]:
        return [name, count, tags]

    @app.post("/login")
    async def login(form: Annotated[Login, Form()]) -> Login:
        return form

    @app.post("/upload")
    async def upload(doc: UploadFile, note: Annotated[str, Form()] = "") -> list[Any]:
        return [doc.filename, (await doc.read()).decode(), note]

    @app.post("/uploads")
    async def uploads(docs: list[UploadFile]) -> list[Any]:
        return [(d.filename, (await d.read()).decode()) for d in docs]

    @app.post("/maybe")
    async def maybe(doc: UploadFile | None = None, note: Annotated[str, Form()] = "") -> bool:
        return doc is not None

    return app


def test_urlencoded_and_multipart_fields() -> None:
    with TestClient(form_app()) as client:
        data = {"name": "ab", "count": "2", "tags": ["x", "y"]}
        assert client.post("/fields", data=data).json() == ["ab", 2, ["x", "y"]]
        multipart = client.post("/fields", data=data, files={"unused": ("f", b"")})
        assert multipart.json() == ["ab", 2, ["x", "y"]]
        assert errors(client.post("/fields", data={"name": "a", "count": "z"})) == [
            ("form", "name", "Expected `str` of length >= 2"),
            ("form", "count", "Expected `int`, got `str`"),
        ]


def test_form_struct_gathers_its_fields() -> None:
    with TestClient(form_app()) as client:
        response = client.post("/login", data={"user": "u", "age": "3", "roles": ["a", "b"]})
        assert response.json() == {"user": "u", "age": 3, "roles": ["a", "b"]}
        assert errors(client.post("/login", data={"age": "x"})) == [
            ("form", "user", "Field required"),
            ("form", "age", "Expected `int`, got `str`"),
        ]


def test_uploads() -> None:
    with TestClient(form_app()) as client:
        response = client.post("/upload", files={"doc": ("a.txt", b"hello")}, data={"note": "n"})
        assert response.json() == ["a.txt", "hello", "n"]
        files = [("docs", ("a.txt", b"1")), ("docs", ("b.txt", b"2"))]
        assert client.post("/uploads", files=files).json() == [["a.txt", "1"], ["b.txt", "2"]]
        assert errors(client.post("/upload", data={"note": "n"})) == [
            ("form", "doc", "Field required")
        ]
        assert client.post("/maybe", data={"note": "n"}).json() is False
        assert client.post("/maybe", files={"doc": ("a", b"")}).json() is True


def test_a_request_without_any_body_is_an_empty_form() -> None:
    with TestClient(form_app()) as client:
        assert client.post("/maybe").json() is False
        assert errors(client.post("/upload")) == [("form", "doc", "Field required")]
        assert errors(client.post("/login")) == [("form", "user", "Field required")]


def test_a_json_body_where_a_form_is_expected_is_415() -> None:
    with TestClient(form_app()) as client:
        assert client.post("/login", json={"user": "u"}).status_code == 415


def test_text_where_a_file_is_expected_and_the_reverse_are_422() -> None:
    with TestClient(form_app()) as client:
        assert errors(client.post("/upload", data={"doc": "not a file"})) == [
            ("form", "doc", "Expected a file upload")
        ]
        mixed = client.post("/uploads", files={"docs": ("a", b"1")}, data={"docs": "text"})
        assert errors(mixed) == [("form", "docs", "Expected a file upload")]
        file_as_note = client.post("/upload", files={"doc": ("a", b"1"), "note": ("n", b"x")})
        assert errors(file_as_note) == [("form", "note", "Expected a text field, got a file")]
        file_as_field = client.post("/login", files={"user": ("u", b"x")})
        assert errors(file_as_field) == [("form", "user", "Expected a text field, got a file")]
        file_in_list = client.post("/fields", data={"name": "ab"}, files={"tags": ("t", b"")})
        assert errors(file_in_list) == [("form", "tags", "Expected a text field, got a file")]


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make uploads spool to ``tmp_path``."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="uses /proc")
def test_upload_temp_files_are_closed_after_every_outcome(temp_dir: Path) -> None:
    app = make_app(spool_max_size=0)  # every upload on disk

    @app.post("/keep")
    async def keep(doc: UploadFile, count: Annotated[int, Form()]) -> int:
        assert open_files_under(temp_dir)  # really on disk while the handler runs
        return count

    @app.post("/fail")
    async def fail(doc: UploadFile) -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        upload = {"doc": ("a.bin", b"x" * 1000)}
        assert client.post("/keep", files=upload, data={"count": "1"}).json() == 1
        assert client.post("/keep", files=upload, data={"count": "x"}).status_code == 422
        assert client.post("/keep", files=upload).status_code == 422
        assert client.post("/fail", files=upload).status_code == 500
        assert open_files_under(temp_dir) == []
    assert os.listdir(temp_dir) == []


# -- hostile input: 400 or 422, never 500 ------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "9" * 5000,  # beyond int64, and beyond Python's default digit limit for str -> int
        "-" + "9" * 400,
        "1e99999",
        "%00",
        "1%00",
        "\u202e1",
        "\uff11\uff12",  # full-width digits
        "0x10",
        "",
    ],
)
@pytest.mark.parametrize("tp", [int, float, decimal.Decimal, datetime.date, uuid.UUID, Color])
def test_hostile_query_values_are_refused_cleanly(tp: Any, raw: str) -> None:
    with echo_query(tp) as client:
        response = client.get("/?v=" + raw)
        assert response.status_code in (200, 422), response.text


def test_nul_bytes_reach_a_text_parameter_as_they_are() -> None:
    with echo_query(str) as client:
        assert client.get("/?v=a%00b").json() == ["a\x00b"]


@pytest.mark.parametrize("query", ["v=%ff", "v=%C3%28", "%ff=1"])
def test_query_that_is_not_utf8_is_400(query: str) -> None:
    with echo_query(str) as client:
        assert client.get("/?" + query).status_code == 400


def test_a_stray_percent_sign_is_text() -> None:
    with echo_query(str) as client:
        assert client.get("/?v=100%").json() == ["100%"]


def test_ten_thousand_repeated_keys_within_the_limits() -> None:
    app = make_app(max_form_fields=10_000)

    @app.get("/")
    async def handler(v: list[int] = [], other: Annotated[int, Query()] = 0) -> int:  # noqa: B006
        return len(v) + other

    with TestClient(app) as client:
        assert client.get("/?" + "&".join(["v=1"] * 10_000)).json() == 10_000
        bad = client.get("/?" + "&".join(["v=x"] * 9_999 + ["other=y"]))
        found = errors(bad)
        assert len(found) == 50  # MAX_REPORTED_ERRORS, whatever the number of bad values
        assert bad.json()["errors"][0]["name"] == "v[0]"
        assert client.get("/?" + "&".join(["v=1"] * 10_001)).status_code == 400


# -- constraints written as msgspec.Meta ---------------------------------------------------------


def test_msgspec_constraints_on_parameters_are_enforced_in_every_location() -> None:
    # The spelling the docs use for model fields: it must not be ignored on parameters.
    app = make_app()

    @app.get("/items/{item_id}")
    async def item(item_id: Annotated[int, msgspec.Meta(ge=1)]) -> int:
        return item_id

    @app.get("/slugs/{slug}")
    def slug(slug: Annotated[str, msgspec.Meta(pattern="^[a-z]+$")]) -> str:
        return slug

    @app.post("/search")
    async def search(
        limit: Annotated[int, msgspec.Meta(le=100)] = 10,
        tags: Annotated[list[str], msgspec.Meta(max_length=2)] = [],  # noqa: B006
        x_trace: Annotated[str | None, msgspec.Meta(max_length=8), Header()] = None,
        count: Annotated[int, msgspec.Meta(ge=0), Body()] = 0,
    ) -> int:
        return limit

    with TestClient(app) as client:
        assert client.get("/items/1").json() == 1
        assert errors(client.get("/items/0")) == [("path", "item_id", "Expected `int` >= 1")]
        assert client.get("/slugs/abc").text == "abc"
        assert errors(client.get("/slugs/ABC"))[0][:2] == ("path", "slug")
        response = client.post(
            "/search?limit=101&tags=a&tags=b&tags=c", headers={"x-trace": "x" * 9}, json=-1
        )
        assert [e[:2] for e in errors(response)] == [
            ("query", "limit"),
            ("query", "tags"),
            ("header", "x-trace"),
            ("body", ""),
        ]
