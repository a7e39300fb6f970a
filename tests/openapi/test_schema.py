"""The OpenAPI document: one rich app checked part by part, then the edge cases."""

from __future__ import annotations

import importlib
import re
from typing import Annotated, Any

import msgspec
import pytest
from openapi_spec_validator import validate

from satchel import App, Body, ConfigurationError, Query, Response, Router, Settings
from satchel.openapi import OpenAPIConfig, build_openapi
from tests.openapi.shop import SCHEMES, make_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    doc = build_openapi(make_app())
    validate(doc)  # the OpenAPI 3.1 schema, JSON Schema 2020-12 included
    return doc


def operation(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][path][method]
    return found


def parameters(doc: dict[str, Any], path: str, method: str) -> dict[tuple[str, str], Any]:
    return {(p["in"], p["name"]): p for p in operation(doc, path, method).get("parameters", [])}


# -- the document as a whole ------------------------------------------------------------------


def test_document_header(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "version": "2.0", "description": "The shop's API."}
    assert document["servers"] == [{"url": "https://shop.example.com"}]
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"] == SCHEMES


def test_tags_declared_first_then_used(document: dict[str, Any]) -> None:
    assert document["tags"] == [
        {"name": "items", "description": "What the shop sells"},
        {"name": "api"},
        {"name": "reviews"},
    ]


def test_paths_and_methods(document: dict[str, Any]) -> None:
    paths = {path: sorted(item) for path, item in document["paths"].items()}
    assert paths == {
        "/api/v1/items": ["get", "post"],
        "/api/v1/items/{item_id}": ["delete", "get"],
        "/api/v1/stats": ["get", "post"],
        "/api/v1/reviews": ["post"],
        "/api/v1/reviews/{review_id}/text": ["get"],
        "/profile": ["post"],
        "/login": ["post"],
        "/profile/settings": ["post"],
        "/files/{rest}": ["get"],
        "/home": ["get"],
    }


def test_operation_ids(document: dict[str, Any]) -> None:
    ids = {
        (path, method): op["operationId"]
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    assert ids[("/api/v1/items", "post")] == "api_create_item"
    assert ids[("/api/v1/items/{item_id}", "get")] == "fetchItem"
    assert ids[("/api/v1/stats", "get")] == "api_stats_get"
    assert ids[("/api/v1/stats", "post")] == "api_stats_post"
    assert ids[("/api/v1/reviews", "post")] == "api_reviews_post_review"
    assert len(set(ids.values())) == len(ids)


def test_summary_description_tags_deprecated(document: dict[str, Any]) -> None:
    create = operation(document, "/api/v1/items", "post")
    assert create["summary"] == "Create item"
    assert create["description"] == "Create an item.\n\nThe new item gets an id."
    assert create["tags"] == ["api", "items"]
    assert "deprecated" not in create
    fetch = operation(document, "/api/v1/items/{item_id}", "get")
    assert fetch["summary"] == "Fetch one item"
    assert "description" not in fetch
    assert operation(document, "/api/v1/items/{item_id}", "delete")["deprecated"] is True
    review = operation(document, "/api/v1/reviews", "post")
    assert review["description"] == "Post a review."
    assert review["tags"] == ["api", "reviews"]
    assert "tags" not in operation(document, "/profile", "post")


def test_route_security_overrides_the_default(document: dict[str, Any]) -> None:
    assert "security" not in operation(document, "/api/v1/items", "post")
    assert operation(document, "/api/v1/stats", "get")["security"] == [{"apiKey": []}]
    assert operation(document, "/api/v1/stats", "post")["security"] == [{"apiKey": []}]
    assert operation(document, "/api/v1/reviews/{review_id}/text", "get")["security"] == []
    assert operation(document, "/login", "post")["security"] == []


# -- parameters -------------------------------------------------------------------------------


def test_parameters_of_the_handler_and_its_dependencies(document: dict[str, Any]) -> None:
    found = parameters(document, "/api/v1/items", "get")
    assert set(found) == {
        ("query", "number"),
        ("query", "size"),
        ("header", "x-trace-id"),
        ("header", "x-span-id"),
        ("query", "limit"),
        ("query", "offset"),
        ("query", "label"),
        ("query", "q"),
        ("query", "sort-by"),
        ("query", "old"),
        ("cookie", "session_id"),
    }
    assert found["query", "limit"] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        "description": "How many",
    }
    assert found["query", "offset"]["schema"] == {"type": "integer", "default": 0}
    assert found["query", "label"] == {
        "name": "label",
        "in": "query",
        "required": False,
        "schema": {"type": "array", "items": {"type": "string"}, "default": []},
        "style": "form",
        "explode": True,
    }
    # Optional parameters are optional by being absent: no null in their schema.
    assert found["query", "q"]["schema"] == {"type": "string"}
    assert found["query", "sort-by"]["schema"] == {
        "type": "string",
        "pattern": "^[a-z]+$",
        "default": "name",
    }
    assert found["query", "old"]["deprecated"] is True
    assert found["query", "old"]["description"] == "Use page"
    assert found["cookie", "session_id"]["required"] is False


def test_gathering_models_give_one_parameter_per_field(document: dict[str, Any]) -> None:
    found = parameters(document, "/api/v1/items", "get")
    assert found["query", "number"] == {
        "name": "number",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1},
        "description": "Page number",
    }
    assert found["query", "size"]["schema"] == {"type": "integer", "maximum": 100}
    assert found["header", "x-trace-id"]["required"] is True
    assert found["header", "x-span-id"]["required"] is False


def test_headers_from_dependencies_and_the_handler(document: dict[str, Any]) -> None:
    found = parameters(document, "/api/v1/items", "post")
    assert found == {
        ("header", "authorization"): {
            "name": "authorization",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
        },
        ("header", "x-request-id"): {
            "name": "x-request-id",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
        },
    }


def test_path_parameters(document: dict[str, Any]) -> None:
    assert parameters(document, "/api/v1/items/{item_id}", "get")["path", "item_id"] == {
        "name": "item_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
    rest = parameters(document, "/files/{rest}", "get")["path", "rest"]["schema"]
    assert rest["type"] == "string"
    assert "pattern" in rest  # what the path converter accepts


# -- request bodies ---------------------------------------------------------------------------


def test_json_body(document: dict[str, Any]) -> None:
    assert operation(document, "/api/v1/items", "post")["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewItem"}}},
    }
    schema = document["components"]["schemas"]["NewItem"]
    assert schema["required"] == ["name", "price"]
    assert schema["properties"]["name"] == {"type": "string", "minLength": 1, "maxLength": 100}
    assert schema["properties"]["price"] == {"type": "number", "exclusiveMinimum": 0}
    assert schema["properties"]["labels"]["items"] == {"$ref": "#/components/schemas/Label"}


def test_multipart_form_with_files(document: dict[str, Any]) -> None:
    body = operation(document, "/profile", "post")["requestBody"]
    assert body == {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "nickname": {"type": "string", "minLength": 2},
                        "avatar": {"type": "string", "format": "binary"},
                        "extras": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "minItems": 1,  # no part at all is a missing field
                        },
                        "motto": {"type": "string"},
                    },
                    "required": ["nickname", "avatar", "extras"],
                }
            }
        },
    }


def test_urlencoded_form(document: dict[str, Any]) -> None:
    content = operation(document, "/login", "post")["requestBody"]["content"]
    assert content == {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {
                    "username": {"type": "string"},
                    "password": {"type": "string", "minLength": 8},
                },
                "required": ["username", "password"],
            }
        }
    }


def test_form_model_gives_one_property_per_field(document: dict[str, Any]) -> None:
    schema = operation(document, "/profile/settings", "post")["requestBody"]["content"][
        "application/x-www-form-urlencoded"
    ]["schema"]
    assert schema == {
        "type": "object",
        "properties": {"nickname": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["nickname"],
    }


def test_required_lists_need_one_value() -> None:
    app = App(settings=Settings())

    @app.get("/pick")
    async def pick(
        ids: list[int],
        names: Annotated[list[str], Query(min_length=2)],
        extra: list[str] | None = None,
    ) -> None:
        return None

    found = parameters(build_openapi(app), "/pick", "get")
    assert found["query", "ids"]["schema"] == {
        "type": "array",
        "items": {"type": "integer"},
        "minItems": 1,
    }
    assert found["query", "names"]["schema"]["minItems"] == 2
    assert "minItems" not in found["query", "extra"]["schema"]


def test_get_has_no_body(document: dict[str, Any]) -> None:
    assert "requestBody" not in operation(document, "/api/v1/items", "get")


# -- responses --------------------------------------------------------------------------------


def test_typed_response_with_status_code(document: dict[str, Any]) -> None:
    responses = operation(document, "/api/v1/items", "post")["responses"]
    assert list(responses) == ["201", "400", "409", "413", "415", "422"]
    assert responses["201"] == {
        "description": "Created",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
    }


def test_list_response(document: dict[str, Any]) -> None:
    content = operation(document, "/api/v1/items", "get")["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Item"},
    }


def test_validation_error_response_is_shared(document: dict[str, Any]) -> None:
    response = operation(document, "/api/v1/items", "post")["responses"]["422"]
    assert response["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
    }
    schemas = document["components"]["schemas"]
    assert schemas["ValidationProblem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
        "errors",
    ]
    errors = schemas["ValidationProblem"]["properties"]["errors"]
    assert errors["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert schemas["FieldError"]["properties"]["location"]["enum"] == [
        "body",
        "cookie",
        "form",
        "header",
        "path",
        "query",
    ]


def test_no_validation_error_without_validated_inputs(document: dict[str, Any]) -> None:
    # Plain path parameters are checked by the route's converter: a mismatch is a 404.
    assert "422" not in operation(document, "/api/v1/items/{item_id}", "delete")["responses"]
    assert "422" not in operation(document, "/home", "get")["responses"]
    assert "422" in operation(document, "/api/v1/items/{item_id}", "get")["responses"]


def test_documented_responses(document: dict[str, Any]) -> None:
    responses = operation(document, "/api/v1/items/{item_id}", "get")["responses"]
    assert list(responses) == ["200", "202", "400", "404", "422"]
    # A plain string replaces the description and keeps the computed body.
    assert responses["200"] == {
        "description": "The item",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
    }
    assert responses["202"] == {
        "description": "Later",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}},
    }
    assert responses["404"] == {"description": "No such item"}
    # A ResponseDoc without a type on an error: the problem+json every HTTPError gets.
    assert operation(document, "/api/v1/items", "post")["responses"]["409"] == {
        "description": "Exists",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def test_untyped_and_empty_responses(document: dict[str, Any]) -> None:
    deleted = operation(document, "/api/v1/items/{item_id}", "delete")["responses"]
    assert list(deleted) == ["204", "400", "404"]
    assert deleted["204"] == {"description": "No Content"}
    text = operation(document, "/api/v1/reviews/{review_id}/text", "get")["responses"]["200"]
    assert text["content"] == {"text/plain": {"schema": {"type": "string"}}}
    download = operation(document, "/files/{rest}", "get")["responses"]["200"]
    assert download["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }
    home = operation(document, "/home", "get")["responses"]["200"]
    assert home["content"] == {"text/html": {"schema": {"type": "string"}}}
    login = operation(document, "/login", "post")["responses"]
    assert login["204"] == {"description": "No Content"}


# -- schemas ----------------------------------------------------------------------------------


def test_shared_models_are_shared_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas) == {
        "Color",
        "FieldError",
        "Item",
        "Label",
        "NewItem",
        "Problem",
        "Profile",
        "Review",
        "Stats",
        "ValidationProblem",
    }
    assert schemas["Label"] == {
        "title": "Label",
        "description": "A label on an item.",
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }
    assert schemas["Color"]["enum"] == ["green", "red"]
    assert schemas["Item"]["properties"]["color"] == {
        "anyOf": [{"$ref": "#/components/schemas/Color"}, {"type": "null"}],
        "default": None,
    }
    assert schemas["Stats"]["required"] == ["count"]


def test_pydantic_models(document: dict[str, Any]) -> None:
    review = operation(document, "/api/v1/reviews", "post")
    ref = {"$ref": "#/components/schemas/Review"}
    assert review["requestBody"]["content"]["application/json"]["schema"] == ref
    assert review["responses"]["200"]["content"]["application/json"]["schema"] == ref
    stars = document["components"]["schemas"]["Review"]["properties"]["stars"]
    assert stars["minimum"] == 1
    assert stars["maximum"] == 5


def test_empty_app_is_a_valid_document() -> None:
    doc = build_openapi(App(settings=Settings(), openapi=OpenAPIConfig(docs_path=None)))
    assert doc == {
        "openapi": "3.1.0",
        "info": {"title": "Satchel API", "version": "0.1.0"},
        "paths": {},
    }
    validate(doc)


def test_build_openapi_is_loaded_lazily() -> None:
    package = importlib.import_module("satchel.openapi")
    assert package.build_openapi is build_openapi
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # noqa: B018


# -- edge cases -------------------------------------------------------------------------------


def test_explicit_operation_id_clash_is_an_error() -> None:
    app = App(settings=Settings())

    @app.get("/a", operation_id="same")
    async def a() -> str:
        return "a"

    @app.get("/b", operation_id="same")
    async def b() -> str:
        return "b"

    with pytest.raises(ConfigurationError, match=r"operation_id 'same' is used by .*a and .*b"):
        build_openapi(app)


def test_derived_operation_ids_are_made_unique() -> None:
    app = App(settings=Settings())
    api = Router(prefix="/api", name="api")

    @api.get("/items")
    async def items() -> str:
        return "a"

    @app.get("/api_items")
    async def api_items() -> str:
        return "b"

    @app.get("/explicit", operation_id="api_items")
    async def explicit() -> str:
        return "c"

    app.include(api)
    doc = build_openapi(app)
    ids = {path: item["get"]["operationId"] for path, item in doc["paths"].items()}
    assert ids == {
        "/api_items": "api_items_2",
        "/explicit": "api_items",
        "/api/items": "api_items_3",
    }


def test_explicit_head_and_options_are_documented() -> None:
    app = App(settings=Settings())

    @app.route("/both", methods=["GET", "HEAD"])
    async def both() -> str:
        return "a"

    @app.head("/head")
    async def head_only() -> None:
        return None

    @app.options("/options")
    async def options() -> None:
        return None

    doc = build_openapi(app)
    assert {path: list(item) for path, item in doc["paths"].items()} == {
        "/both": ["get"],
        "/head": ["head"],
        "/options": ["options"],
    }
    assert doc["paths"]["/both"]["get"]["operationId"] == "both"


def test_undeclared_security_scheme_is_an_error() -> None:
    app = App(settings=Settings())

    @app.get("/", security=[{"oauth": ["read"]}])
    async def index() -> str:
        return "home"

    with pytest.raises(ConfigurationError, match=r"undeclared scheme\(s\) \['oauth'\]"):
        build_openapi(app)


def test_openapi_none_still_builds_with_defaults() -> None:
    app = App(settings=Settings(), openapi=None)

    @app.get("/")
    async def index() -> str:
        return "home"

    assert build_openapi(app)["info"] == {"title": "Satchel API", "version": "0.1.0"}


def test_unannotated_path_parameter_is_documented_by_its_converter() -> None:
    app = App(settings=Settings())

    @app.get("/pages/{number:int}/{slug}")
    async def page(number, slug) -> str:  # type: ignore[no-untyped-def]
        return f"{number}{slug}"

    found = parameters(build_openapi(app), "/pages/{number}/{slug}", "get")
    assert found["path", "number"]["schema"] == {"type": "integer"}
    assert found["path", "slug"]["schema"] == {
        "type": "string",
        "pattern": r"^(?!\.{1,2}$)[^/\u0000-\u001f\u007f\ufffd]+$",
    }


def test_body_description_and_untyped_responses() -> None:
    app = App(settings=Settings())

    @app.post("/echo")
    async def echo(payload: Annotated[dict[str, int], Body(description="Any counts")]) -> Response:
        return Response(b"")

    @app.get("/raw")
    async def raw():  # type: ignore[no-untyped-def]
        return "raw"

    doc = build_openapi(app)
    validate(doc)
    echo_op = operation(doc, "/echo", "post")
    assert echo_op["requestBody"]["description"] == "Any counts"
    assert echo_op["responses"]["200"] == {"description": "OK"}
    raw_responses = operation(doc, "/raw", "get")["responses"]
    assert list(raw_responses) == ["200", "400"]
    assert raw_responses["200"] == {"description": "OK"}


def test_two_routes_with_the_same_template_are_an_error() -> None:
    app = App(settings=Settings())

    @app.get("/files/{name}")
    async def one(name: str) -> str:
        return name

    @app.get("/files/{name:path}")
    async def two(name: str) -> str:
        return name

    with pytest.raises(ConfigurationError, match=r"Two routes document GET /files/\{name\}"):
        build_openapi(app)


def test_configuration_mappings_become_plain_json() -> None:
    server = {"url": "https://{host}", "variables": {"host": {"default": "a", "enum": ("a", "b")}}}
    app = App(settings=Settings(), openapi=OpenAPIConfig(servers=(server,), docs_path=None))
    doc = build_openapi(app)
    validate(doc)
    assert doc["servers"] == [
        {"url": "https://{host}", "variables": {"host": {"default": "a", "enum": ["a", "b"]}}}
    ]


def test_framework_answers_are_documented() -> None:
    app = App(settings=Settings())

    @app.post("/notes/{slug}/{rest:path}")
    async def note(slug: str, rest: str, payload: dict[str, int]) -> None:
        return None

    doc = build_openapi(app)
    validate(doc)
    responses = operation(doc, "/notes/{slug}/{rest}", "post")["responses"]
    # Malformed requests (400), unconvertible paths (404), bodies too large (413) or of
    # another type (415) are answered before the handler runs, with a problem document.
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for code in ("400", "404", "413", "415"):
        assert responses[code]["content"] == problem
    found = parameters(doc, "/notes/{slug}/{rest}", "post")
    segment, path = found["path", "slug"]["schema"], found["path", "rest"]["schema"]
    assert re.match(segment["pattern"], "a.b")
    assert not any(re.match(segment["pattern"], bad) for bad in ("..", "a/b", "a\x1fb"))
    assert re.match(path["pattern"], "a/b.c")
    assert not any(re.match(path["pattern"], bad) for bad in ("a/../b", "a/.", "a\x7f"))


def test_msgspec_constraints_on_a_path_parameter_are_documented_and_answer_422() -> None:
    app = App(settings=Settings())

    @app.get("/items/{item_id}")
    async def item(item_id: Annotated[int, msgspec.Meta(ge=1)]) -> int:
        return item_id

    doc = build_openapi(app)
    assert parameters(doc, "/items/{item_id}", "get")["path", "item_id"]["schema"] == {
        "type": "integer",
        "minimum": 1,
    }
    assert "422" in operation(doc, "/items/{item_id}", "get")["responses"]
