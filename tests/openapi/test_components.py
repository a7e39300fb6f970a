"""Schemas: shared components, error bodies as documented, names that clash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pydantic
import pytest
from openapi_spec_validator import validate

from satchel import App, ConfigurationError, ResponseDoc, Settings
from satchel.openapi import build_openapi
from satchel.openapi.components import FieldError as DocumentedFieldError
from satchel.openapi.components import Problem, ValidationProblem
from satchel.testing import TestClient
from satchel.validation import FieldError


class Thing(msgspec.Struct):
    a: int


class Other(pydantic.BaseModel):
    b: str


# Same name, another module: msgspec qualifies both names.
Elsewhere = msgspec.defstruct("Thing", [("b", str)], module="shop.elsewhere")
# Same name, pydantic: numbered.
PydanticThing = pydantic.create_model("Thing", child=(Other, ...))


def test_documented_error_bodies_match_what_the_app_sends() -> None:
    documented = [f.name for f in msgspec.structs.fields(DocumentedFieldError)]
    assert documented == [f.name for f in msgspec.structs.fields(FieldError)]
    app = App(settings=Settings())

    @app.get("/n")
    async def number(n: int) -> int:
        return n

    with TestClient(app) as client:
        body = client.get("/n", params={"n": "x"}).json()
    msgspec.convert(body, ValidationProblem)  # the body matches its documented schema
    assert set(body) == {f.name for f in msgspec.structs.fields(ValidationProblem)}
    with TestClient(app) as client:
        missing = client.get("/missing", headers={"accept": "application/json"}).json()
    msgspec.convert(missing, Problem)


def body_ref(doc: dict[str, Any], path: str) -> str:
    body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    ref: str = body["schema"]["$ref"]
    return ref.removeprefix("#/components/schemas/")


def test_same_named_structs_are_told_apart_by_module() -> None:
    app = App(settings=Settings())

    @app.post("/one")
    async def one(body: Thing) -> None:
        return None

    @app.post("/two")
    async def two(body: Elsewhere) -> None:  # type: ignore[valid-type]
        return None

    doc = build_openapi(app)
    validate(doc)
    assert body_ref(doc, "/one") == f"{__name__}.Thing"
    assert body_ref(doc, "/two") == "shop.elsewhere.Thing"
    schemas = doc["components"]["schemas"]
    assert schemas[f"{__name__}.Thing"]["properties"] == {"a": {"type": "integer"}}
    assert schemas["shop.elsewhere.Thing"]["properties"] == {"b": {"type": "string"}}


def test_pydantic_model_named_like_a_struct_is_numbered() -> None:
    app = App(settings=Settings())

    @app.post("/one")
    async def one(body: Thing) -> None:
        return None

    @app.post("/two")
    async def two(body: PydanticThing) -> None:  # type: ignore[valid-type]
        return None

    doc = build_openapi(app)
    validate(doc)
    assert body_ref(doc, "/one") == "Thing"
    assert body_ref(doc, "/two") == "Thing2"
    schemas = doc["components"]["schemas"]
    assert schemas["Thing"]["properties"] == {"a": {"type": "integer"}}
    assert schemas["Thing2"]["properties"]["child"] == {"$ref": "#/components/schemas/Other"}


def test_same_qualified_name_twice_is_an_error() -> None:
    def make() -> Any:
        class Twin(msgspec.Struct):
            a: int

        return Twin

    app = App(settings=Settings())

    @app.post("/one", responses={201: ResponseDoc("One", make()), 202: ResponseDoc("Two", make())})
    async def one() -> None:
        return None

    with pytest.raises(
        ConfigurationError, match=r"Two different types are named .*make.<locals>.Twin"
    ):
        build_openapi(app)


def test_undocumentable_type_names_the_handler() -> None:
    class Opaque:
        pass

    app = App(settings=Settings())

    @app.get("/", responses={500: ResponseDoc("Broken", Opaque)})
    async def index() -> str:
        return "home"

    with pytest.raises(ConfigurationError, match=r"index: cannot describe .*Opaque"):
        build_openapi(app)


class Hook(pydantic.BaseModel):
    callback: Callable[[], None]


def test_pydantic_type_without_json_schema_names_the_handler() -> None:
    app = App(settings=Settings())

    @app.post("/hooks")
    async def add_hook(hook: Hook) -> None:
        return None

    with pytest.raises(ConfigurationError, match=r"pydantic types of handler .*add_hook: "):
        build_openapi(app)
