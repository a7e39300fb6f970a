"""Reading handler and provider signatures: what each parameter becomes, and startup errors."""

import functools
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import msgspec
import pytest

from satchel import (
    App,
    Body,
    ConfigurationError,
    Cookie,
    Depends,
    Form,
    Header,
    Path,
    Query,
    Request,
    Settings,
    UploadFile,
)
from satchel.signatures import Input, Needs, Special, read_signature
from satchel.testing import TestClient


class Item(msgspec.Struct):
    name: str


class Page(msgspec.Struct):
    number: int = 1
    tags: list[str] = []


class Nested(msgspec.Struct):
    page: Page


class Mystery:
    """A type no request input can become."""


def make_app() -> App[Any]:
    return App(settings=Settings(), openapi=None)


def build(handler: Callable[..., Any], path: str = "/", method: str = "get") -> None:
    app = make_app()
    getattr(app, method)(path)(handler)
    app.build()


def refused(handler: Callable[..., Any], path: str = "/", method: str = "get") -> str:
    """Build an app serving ``handler`` and return the startup error's message."""
    with pytest.raises(ConfigurationError) as info:
        build(handler, path, method)
    return str(info.value)


def read(func: Callable[..., Any], **options: Any) -> dict[str, Any]:
    options.setdefault("connection", "http")
    options.setdefault("specials", {Request: "connection"})
    return dict(read_signature(func, **options).arguments)


# -- what parameters become ----------------------------------------------------------------------


def test_plain_parameters_are_classified_by_type() -> None:
    async def handler(
        request: Request,
        item_id: int,
        limit: int,
        tags: list[str],
        item: Item,
        data: dict[str, int],
        doc: UploadFile,
    ) -> None: ...

    arguments = read(handler, path_names=["item_id"], methods=["POST"])
    assert arguments["request"] == Special("connection", "request")
    kinds = {
        name: (arg.location, arg.multiple, arg.is_file)
        for name, arg in arguments.items()
        if isinstance(arg, Input)
    }
    assert kinds == {
        "item_id": ("path", False, False),
        "limit": ("query", False, False),
        "tags": ("query", True, False),
        "item": ("body", False, False),
        "data": ("body", False, False),
        "doc": ("form", False, True),
    }


def test_marker_constraints_are_folded_into_the_type() -> None:
    async def handler(limit: Annotated[int, Query(ge=1, le=100, description="How many")]) -> None:
        pass

    limit = read(handler)["limit"]
    assert isinstance(limit, Input)
    assert limit.type == Annotated[int, msgspec.Meta(ge=1, le=100, description="How many")]
    assert limit.required


def test_optional_constraint_keeps_none_allowed() -> None:
    async def handler(limit: Annotated[int | None, Query(ge=1)] = None) -> None:
        pass

    limit = read(handler)["limit"]
    assert isinstance(limit, Input)
    assert limit.type == Annotated[int, msgspec.Meta(ge=1)] | None
    assert (limit.required, limit.default) == (False, None)


def test_marker_as_default_and_in_annotated_mean_the_same() -> None:
    async def as_default(limit: int = Query(10, ge=1)) -> None:
        pass

    async def annotated(limit: Annotated[int, Query(ge=1)] = 10) -> None:
        pass

    first, second = read(as_default)["limit"], read(annotated)["limit"]
    assert isinstance(first, Input)
    assert isinstance(second, Input)
    assert (first.type, first.default, first.required) == (second.type, 10, False)


def test_header_keys_are_lower_case_with_dashes() -> None:
    async def handler(
        x_request_id: Annotated[str, Header()],
        other: Annotated[str, Header(alias="X-Other_Name")],
        raw_name: Annotated[str, Header(convert_underscores=False)],
    ) -> None:
        pass

    keys = {name: arg.key for name, arg in read(handler).items()}
    assert keys == {"x_request_id": "x-request-id", "other": "x-other_name", "raw_name": "raw_name"}


def test_gathering_models_list_their_fields_with_wire_names() -> None:
    class Meta(msgspec.Struct):
        x_trace: str
        x_flags: list[str] = []

    async def handler(
        page: Annotated[Page, Query()], meta: Annotated[Meta, Header()], item: Item
    ) -> None:
        pass

    arguments = read(handler, methods=["POST"])
    page, meta, item = arguments["page"], arguments["meta"], arguments["item"]
    assert isinstance(page, Input)
    assert isinstance(meta, Input)
    assert isinstance(item, Input)
    assert [(f.key, f.required) for f in page.fields or ()] == [("number", False), ("tags", False)]
    assert [f.key for f in meta.fields or ()] == ["x-trace", "x-flags"]
    assert item.fields is None  # a body is one value


def test_plain_none_default_is_an_optional_query_parameter() -> None:
    async def handler(name: str | None = None) -> None:
        pass

    name = read(handler)["name"]
    assert isinstance(name, Input)
    assert (name.location, name.required, name.default) == ("query", False, None)


def test_dependencies_and_app_are_recognised() -> None:
    def provider() -> int:
        return 1

    async def handler(value: Annotated[int, Depends(provider)], app: App[Any]) -> None:
        pass

    arguments = read(handler, specials={Request: "connection", App: "app"})
    assert arguments["value"] == Needs(Depends(provider), provider)
    assert arguments["app"] == Special("app", "app")


def test_without_a_connection_parameters_are_given_by_the_caller() -> None:
    def job(name: str, verbose: bool = False) -> None:
        pass

    arguments = read(job, connection="none", specials={})
    assert arguments["name"] == Special("given", "name")
    assert arguments["verbose"] == Special("given", "verbose", False)


# -- startup errors ------------------------------------------------------------------------------


def test_errors_name_the_function_and_the_parameter() -> None:
    async def listing(limit: Mystery) -> None:
        pass

    message = refused(listing)
    assert "handler tests.test_signatures." in message
    assert "listing, parameter 'limit'" in message
    assert "cannot tell where" in message


def test_unknown_annotation_in_a_provider_names_the_provider() -> None:
    def lookup(thing: Mystery) -> int:
        return 1

    async def handler(value: int = Depends(lookup)) -> None:
        pass

    message = refused(handler)
    assert "provider tests.test_signatures." in message
    assert "lookup, parameter 'thing'" in message


@pytest.mark.parametrize("tp", [Mystery, dict[str, int], list[Item]])
def test_marked_query_of_a_type_text_cannot_hold_is_refused(tp: Any) -> None:
    async def handler(value: Annotated[tp, Query()]) -> None:
        pass

    assert "parameter 'value': a query value is text:" in refused(handler)


def test_depends_without_provider_or_annotation_is_refused() -> None:
    async def handler(value=Depends()) -> None:  # type: ignore[no-untyped-def]
        pass

    assert "Depends() without a provider needs a class annotation" in refused(handler)


def test_gathering_model_with_a_nested_model_is_refused() -> None:
    async def handler(filters: Annotated[Nested, Query()]) -> None:
        pass

    assert "field 'page' of a query model must be a scalar" in refused(handler)


def test_an_alias_taking_another_parameters_name_is_refused() -> None:
    async def handler(first: int, second: Annotated[int, Query(alias="first")]) -> None:
        pass

    assert "parameter 'second': reads query 'first', which 'first' reads already" in refused(
        handler
    )


def test_headers_differing_only_in_underscores_and_case_are_refused() -> None:
    async def handler(
        x_y: Annotated[str, Header()], xy: Annotated[str, Header(alias="X-Y")]
    ) -> None:
        pass

    assert "parameter 'xy': reads header 'x-y', which 'x_y' reads already" in refused(handler)


def test_handler_and_provider_reading_one_name_as_two_types_are_refused() -> None:
    def as_text(q: Annotated[str, Query()]) -> str:
        return q

    async def handler(q: int, text: str = Depends(as_text)) -> None:
        pass

    message = refused(handler)
    assert "as_text, parameter 'q': query 'q' is read elsewhere in this route" in message


@pytest.mark.parametrize("method", ["get", "head"])
def test_a_body_on_get_or_head_is_refused(method: str) -> None:
    async def handler(item: Item) -> None:
        pass

    expected = "['GET'] has no body" if method == "get" else "['HEAD'] has no body"
    assert expected in refused(handler, method=method)


def test_form_fields_on_get_are_refused() -> None:
    async def handler(name: Annotated[str, Form()]) -> None:
        pass

    assert "parameter 'name': reads the form" in refused(handler)


def test_a_provider_reading_the_body_of_a_get_route_is_refused() -> None:
    def payload(item: Item) -> str:
        return item.name

    async def handler(name: str = Depends(payload)) -> None:
        pass

    assert "payload, parameter 'item': reads the body" in refused(handler)


def test_two_bodies_are_refused() -> None:
    async def handler(first: Item, second: Annotated[int, Body()]) -> None:
        pass

    message = refused(handler, method="post")
    assert "parameter 'second'" in message
    assert "at most one body parameter" in message


@pytest.mark.parametrize("second", ["form", "file"])
def test_a_body_and_form_fields_are_refused(second: str) -> None:
    async def with_form(item: Item, name: Annotated[str, Form()]) -> None:
        pass

    async def with_file(item: Item, doc: UploadFile) -> None:
        pass

    message = refused(with_form if second == "form" else with_file, method="post")
    assert "one JSON body or form fields, not both" in message


def test_path_marker_on_a_parameter_the_path_lacks_is_refused() -> None:
    async def handler(item_id: Annotated[int, Path(ge=1)]) -> None:
        pass

    assert "'item_id': is marked Path() but the route has no such parameter" in refused(handler)


def test_other_marker_on_a_path_parameter_is_refused() -> None:
    async def handler(item_id: Annotated[int, Query()]) -> None:
        pass

    message = refused(handler, "/items/{item_id}")
    assert "'item_id': is a path parameter; it cannot be read from the query" in message


@pytest.mark.parametrize("form", ["annotated", "annotated_and_default", "depends_and_query"])
def test_two_markers_on_one_parameter_are_refused(form: str) -> None:
    async def annotated(value: Annotated[str, Query(), Header()]) -> None:
        pass

    async def annotated_and_default(value: Annotated[str, Query()] = Cookie("x")) -> None:
        pass

    async def depends_and_query(value: Annotated[str, Depends(lambda: "x"), Query()]) -> None:
        pass

    handler = {
        "annotated": annotated,
        "annotated_and_default": annotated_and_default,
        "depends_and_query": depends_and_query,
    }[form]
    assert "parameter 'value': has more than one marker" in refused(handler)


def test_special_with_a_marker_is_refused() -> None:
    async def handler(request: Annotated[Request, Query()]) -> None:
        pass

    assert "a connection cannot take query options" in refused(handler)


def test_var_args_in_a_provider_are_refused() -> None:
    def loose(*values: int) -> int:
        return 1

    async def handler(value: int = Depends(loose)) -> None:
        pass

    assert "loose, parameter 'values': *args, **kwargs" in refused(handler)


def test_var_kwargs_in_a_provider_are_refused() -> None:
    def loose(**values: int) -> int:
        return 1

    async def handler(value: int = Depends(loose)) -> None:
        pass

    assert "loose, parameter 'values'" in refused(handler)


def test_depends_without_provider_needs_a_class() -> None:
    async def handler(value: Annotated[Any, Depends()]) -> None:
        pass

    assert "Depends() without a provider needs a class annotation" in refused(handler)


def test_unannotated_provider_parameter_is_refused() -> None:
    def loose(value) -> int:  # type: ignore[no-untyped-def]
        return 1

    async def handler(value: int = Depends(loose)) -> None:
        pass

    assert "loose, parameter 'value': has no type annotation" in refused(handler)


def test_unresolvable_provider_hints_are_refused() -> None:
    def broken(value: "NoSuchType") -> int:  # type: ignore[name-defined]  # noqa: F821
        return 1

    async def handler(value: int = Depends(broken)) -> None:
        pass

    message = refused(handler)
    assert "Cannot read the signature of provider" in message
    assert "NoSuchType" in message


def test_generator_handlers_are_refused() -> None:
    async def handler() -> AsyncIterator[bytes]:
        yield b"x"

    assert "is a generator; return a StreamingResponse" in refused(handler)


def test_a_startup_error_stops_every_later_build() -> None:
    async def handler(limit: Mystery) -> None:
        pass

    app = make_app()
    app.get("/")(handler)
    for _ in range(2):
        with pytest.raises(ConfigurationError, match="parameter 'limit'"):
            app.build()


# -- what can be called ----------------------------------------------------------------------------


class ItemView:
    """A handler with state: an object whose ``__call__`` is the handler."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def __call__(self, item_id: int, q: str = "") -> str:
        return f"{self.prefix}{item_id}{q}"


def greet(greeting: str, name: str) -> str:
    return f"{greeting} {name}"


def test_callable_objects_and_partials_are_handlers() -> None:
    app = make_app()
    app.get("/items/{item_id}", name="item")(ItemView("#"))
    app.get("/hello/{name}", name="hello")(functools.partial(greet, "hi"))
    with TestClient(app) as client:
        assert client.get("/items/3?q=x").text == "#3x"
        assert client.get("/hello/bob").text == "hi bob"


def test_a_partials_bound_keywords_are_not_inputs() -> None:
    arguments = read(functools.partial(greet, greeting="hey"))
    assert list(arguments) == ["name"]


def test_msgspec_constraints_in_annotated_are_kept_with_the_markers() -> None:
    async def handler(
        limit: Annotated[int, msgspec.Meta(ge=1)],
        page: Annotated[int | None, msgspec.Meta(ge=1), Query(le=9)] = None,
    ) -> None:
        pass

    arguments = read(handler)
    assert arguments["limit"].type == Annotated[int, msgspec.Meta(ge=1)]
    assert arguments["page"].type == Annotated[int, msgspec.Meta(ge=1), msgspec.Meta(le=9)] | None
