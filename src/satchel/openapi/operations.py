"""One OpenAPI operation from a compiled route: parameters, request body, responses.

Everything comes from the route's call plan, the same one that validates
requests, so the document cannot drift from what the app accepts: the
parameters of dependencies are there too, with the constraints enforced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from satchel.openapi.components import Problem, SchemaRegistry, ValidationProblem
from satchel.responses import Response
from satchel.routers import ResponseDoc
from satchel.routing import parse_path
from satchel.serialization import response_type
from satchel.signatures import NO_HINT, Input
from satchel.status import reason_phrase
from satchel.typeforms import ModelField, sequence_item, split_annotated, split_optional

if TYPE_CHECKING:
    from satchel.app import RouteInfo

__all__ = [
    "SECURITY_HOOK",
    "SecurityDoc",
    "add_security_responses",
    "build_operation",
    "declared_security",
    "document_security",
    "openapi_path",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The attribute through which a dependency provider documents the security it enforces.
SECURITY_HOOK = "__satchel_openapi_security__"


@dataclasses.dataclass(frozen=True, slots=True)
class SecurityDoc:
    """What a dependency (a guard) enforces, for the operations of the routes using it.

    Attributes:
        schemes: Security scheme objects by name (``components.securitySchemes``);
            any one of them satisfies the requirement.
        scopes: The scopes (roles) each scheme must carry.
        responses: The refusals it answers with (401, 403) and their descriptions.
    """

    schemes: Mapping[str, Mapping[str, Any]]
    scopes: tuple[str, ...] = ()
    responses: Mapping[int, str] = dataclasses.field(default_factory=dict)


def document_security(provider: F, describe: Callable[[Any], SecurityDoc | None]) -> F:
    """Make ``provider`` document itself: ``describe(app)`` says what it enforces in ``app``.

    The routes that depend on ``provider`` (a parameter, or ``dependencies=[...]`` of
    the route or its routers) then list the schemes in their ``security``, their
    schemes join ``components.securitySchemes``, and the refusals their responses.
    """
    setattr(provider, SECURITY_HOOK, describe)
    return provider


def declared_security(info: RouteInfo, app: Any) -> SecurityDoc | None:
    """What the dependencies of a route enforce, merged (None: they enforce nothing)."""
    assert info.compiled is not None  # every HTTP route is compiled by App.build
    docs = []
    for step in info.compiled.plan.graph.steps:
        describe = getattr(step.func, SECURITY_HOOK, None)
        doc = describe(app) if describe is not None else None
        if doc is not None:
            docs.append(doc)
    if not docs:
        return None
    schemes: dict[str, Mapping[str, Any]] = {}
    scopes: dict[str, None] = {}
    responses: dict[int, str] = {}
    for doc in docs:
        schemes.update(doc.schemes)
        scopes.update(dict.fromkeys(doc.scopes))
        responses.update(doc.responses)
    return SecurityDoc(schemes, tuple(scopes), responses)


def add_security_responses(
    operation: dict[str, Any], doc: SecurityDoc, where: str, registry: SchemaRegistry
) -> None:
    """Document ``doc``'s refusals (401, 403) unless the route documents them itself."""
    responses = operation["responses"]
    for code, description in doc.responses.items():
        responses.setdefault(
            str(code),
            {
                "description": description,
                "content": {_PROBLEM: {"schema": registry.schema(Problem, where)}},
            },
        )
    operation["responses"] = dict(sorted(responses.items()))


_PARAMETER_LOCATIONS = frozenset({"path", "query", "header", "cookie"})
# Path parameters without a type hint are documented by their converter.
_CONVERTER_SCHEMAS: dict[str | None, dict[str, Any]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
    "date": {"type": "string", "format": "date"},
}
# What the router accepts in a text path parameter: no control characters (refused with 400
# before routing), no "." or ".." segment, and no "/" except for the path converter.
_SEGMENT_PATTERN = r"^(?!\.{1,2}$)[^/\u0000-\u001f\u007f\ufffd]+$"
_PATH_PATTERN = r"^(?!(.*/)?\.{1,2}(/.*)?$)[^\u0000-\u001f\u007f\ufffd]+$"
_BINARY = {"type": "string", "format": "binary"}
_JSON = "application/json"
_PROBLEM = "application/problem+json"


def openapi_path(path: str) -> str:
    """A route path as an OpenAPI path template: ``/files/{rest:path}`` -> ``/files/{rest}``."""
    parts = [s if isinstance(s, str) else f"{{{s.name}}}" for s in parse_path(path)]
    return "/" + "/".join(parts)


def build_operation(info: RouteInfo, registry: SchemaRegistry) -> dict[str, Any]:
    """The operation object of an HTTP route (without ``operationId``, set per method).

    Schemas are placeholders until ``registry.resolve()`` fills them.
    """
    compiled = info.compiled
    assert compiled is not None  # every HTTP route is compiled by App.build
    where = compiled.signature.where
    handler_name = getattr(info.handler, "__name__", type(info.handler).__name__)
    doc = info.doc
    operation: dict[str, Any] = {
        "summary": doc.summary or handler_name.replace("_", " ").strip().capitalize(),
    }
    description = doc.description or inspect.getdoc(info.handler)
    if description:
        operation["description"] = description
    if info.tags:
        operation["tags"] = list(info.tags)
    inputs = [i for i in compiled.plan.graph.inputs if _documented(i)]
    parameters = _parameters(inputs, info.path, where, registry)
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(inputs, where, registry)
    if body is not None:
        operation["requestBody"] = body
    validates = any(_validated(i) for i in compiled.plan.graph.inputs)
    status, success = _success(info.status_code, compiled.signature.return_type, where, registry)
    operation["responses"] = _responses(info, status, success, validates, where, registry)
    _add_framework_responses(
        operation, has_path=bool(_path_names(info.path)), where=where, registry=registry
    )
    if doc.deprecated:
        operation["deprecated"] = True
    return operation


def _documented(inp: Input) -> bool:
    return inp.param.options.get("include_in_schema", True)


def _validated(inp: Input) -> bool:
    # Plain path parameters are checked by the route's converter (a mismatch is a 404);
    # every other input can fail validation (422).
    return not inp.converter_checks_all


# -- parameters ---------------------------------------------------------------------------


def _parameters(
    inputs: list[Input], path: str, where: str, registry: SchemaRegistry
) -> list[dict[str, Any]]:
    converters = {s.name: s.converter for s in parse_path(path) if not isinstance(s, str)}
    found: list[dict[str, Any]] = []
    for inp in inputs:
        if inp.location not in _PARAMETER_LOCATIONS:
            continue
        if inp.fields is not None:
            found.extend(_field_parameter(inp, f, where, registry) for f in inp.fields)
            continue
        if inp.location == "path" and inp.type in (Any, str):
            schema = _converter_schema(converters.get(inp.name))
        else:
            schema = registry.schema(split_optional(inp.type)[0], where)
        _add_default(schema, inp)
        parameter = _parameter(inp.key, inp.location, inp.required, schema, inp.multiple)
        options = inp.param.options
        if "description" in options:
            parameter["description"] = options["description"]
        if options.get("deprecated"):
            parameter["deprecated"] = True
        found.append(parameter)
    return found


def _converter_schema(converter: str | None) -> dict[str, Any]:
    """What a path converter accepts, for a parameter the annotation says nothing more about."""
    if converter in _CONVERTER_SCHEMAS:
        return dict(_CONVERTER_SCHEMAS[converter])
    pattern = _PATH_PATTERN if converter == "path" else _SEGMENT_PATTERN
    return {"type": "string", "pattern": pattern}


def _add_default(schema: dict[str, Any], inp: Input) -> None:
    """Show an optional input's default (the docs UI fills it in); None means absent."""
    if inp.required or inp.default is None:
        return
    with contextlib.suppress(TypeError):  # a default that is not JSON-like stays undocumented
        schema["default"] = msgspec.to_builtins(inp.default)


def _field_parameter(
    inp: Input, field: ModelField, where: str, registry: SchemaRegistry
) -> dict[str, Any]:
    schema = registry.schema(split_optional(field.type)[0], where)
    required = inp.required and field.required
    return _parameter(field.key, inp.location, required, schema, _is_list(field.type))


def _parameter(
    name: str, location: str, required: bool, schema: dict[str, Any], multiple: bool
) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": name,
        "in": location,
        "required": required or location == "path",
        "schema": schema,
    }
    if multiple and location in ("query", "cookie"):
        # Repeated keys: ?tag=a&tag=b.
        parameter["style"] = "form"
        parameter["explode"] = True
    if multiple and required:
        _at_least_one(schema)
    return parameter


def _is_list(tp: Any) -> bool:
    return sequence_item(split_optional(split_annotated(tp)[0])[0]) is not None


def _at_least_one(schema: dict[str, Any]) -> None:
    # A required list read from repeated keys or parts: no value at all is "missing" (422).
    # Set before the schema is filled in, so that a min_length constraint wins.
    schema["minItems"] = 1


def lift_descriptions(parameter: dict[str, Any]) -> None:
    """Show a parameter's schema description on the parameter, where the docs UI shows it.

    Called once the schemas are filled in; a parameter's own schema is never shared.
    """
    description = parameter["schema"].pop("description", None)
    if description is not None:
        parameter.setdefault("description", description)


# -- request body -------------------------------------------------------------------------


def _request_body(
    inputs: list[Input], where: str, registry: SchemaRegistry
) -> dict[str, Any] | None:
    for inp in inputs:
        if inp.location == "body":
            body: dict[str, Any] = {
                "required": inp.required,
                "content": {_JSON: {"schema": registry.schema(inp.type, where)}},
            }
            if "description" in inp.param.options:
                body["description"] = inp.param.options["description"]
            return body
    form = [inp for inp in inputs if inp.location == "form"]
    return _form_body(form, where, registry) if form else None


def _form_body(form: list[Input], where: str, registry: SchemaRegistry) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for inp in form:
        fields = inp.fields or (ModelField(inp.name, inp.key, inp.type, True),)
        for field in fields:
            if inp.is_file:
                schema = _file_schema(inp.type)
            else:
                schema = registry.schema(split_optional(field.type)[0], where)
                if inp.fields is None:
                    _add_default(schema, inp)
            if inp.required and field.required:
                required.append(field.key)
                if _is_list(field.type):
                    _at_least_one(schema)
            properties[field.key] = schema
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body["required"] = required
    multipart = any(inp.is_file for inp in form)
    media_type = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
    return {"required": bool(required), "content": {media_type: {"schema": body}}}


def _file_schema(tp: Any) -> dict[str, Any]:
    if _is_list(tp):
        return {"type": "array", "items": dict(_BINARY)}
    return dict(_BINARY)


# -- responses ----------------------------------------------------------------------------


def _responses(
    info: RouteInfo,
    status: int,
    success: dict[str, Any],
    validates: bool,
    where: str,
    registry: SchemaRegistry,
) -> dict[str, Any]:
    responses: dict[str, Any] = {str(status): success}
    if validates:
        responses["422"] = {
            "description": "The request's inputs are invalid; every failing field is listed.",
            "content": {_PROBLEM: {"schema": registry.schema(ValidationProblem, where)}},
        }
    for code, entry in info.doc.responses.items():
        responses[str(code)] = _documented_response(
            code, entry, responses.get(str(code)), where, registry
        )
    return responses  # sorted once the framework's responses are added


#: Answers the framework itself may give any operation, before the handler runs.
_FRAMEWORK_RESPONSES = {
    "400": "The request is malformed: its path, headers, query string or body cannot be read.",
}
_PATH_RESPONSES = {"404": "No resource at this path (a path parameter does not convert)."}
_BODY_RESPONSES = {
    "413": "The body exceeds the configured size limits.",
    "415": "The body's Content-Type is not one this operation reads.",
}


def _add_framework_responses(
    operation: dict[str, Any], *, has_path: bool, where: str, registry: SchemaRegistry
) -> None:
    """Document the problem responses any request may get, so clients and fuzzers expect them."""
    wanted = dict(_FRAMEWORK_RESPONSES)
    if has_path:
        wanted.update(_PATH_RESPONSES)
    if "requestBody" in operation:
        wanted.update(_BODY_RESPONSES)
    responses = operation["responses"]
    for code, description in wanted.items():
        if code not in responses:
            responses[code] = {
                "description": description,
                "content": {_PROBLEM: {"schema": registry.schema(Problem, where)}},
            }
    operation["responses"] = dict(sorted(responses.items()))


def _path_names(path: str) -> list[str]:
    return [part for part in path.split("/") if part.startswith("{")]


def _success(
    status: int, annotation: Any, where: str, registry: SchemaRegistry
) -> tuple[int, dict[str, Any]]:
    """The response a return value becomes, and its status."""
    if annotation is None or annotation is type(None):
        # None becomes an empty response: 204 unless the route names its status.
        status = 204 if status == 200 else status
        return status, {"description": reason_phrase(status) or "No content"}
    response: dict[str, Any] = {"description": reason_phrase(status) or "Success"}
    tp = None if annotation is NO_HINT else response_type(annotation)
    if tp is not None:
        response["content"] = {_JSON: {"schema": registry.schema(tp, where)}}
        return status, response
    content = _untyped_content(split_annotated(annotation)[0])
    if content is not None:
        response["content"] = content
    return status, response


def _untyped_content(bare: Any) -> dict[str, Any] | None:
    """What ``to_response`` makes of a str or bytes, or what a Response class declares."""
    if bare is str:
        return {"text/plain": {"schema": {"type": "string"}}}
    if bare is bytes:
        return {"application/octet-stream": {"schema": dict(_BINARY)}}
    if isinstance(bare, type) and issubclass(bare, Response) and bare.media_type:
        media_type = bare.media_type.partition(";")[0]
        return {media_type: {"schema": {} if media_type == _JSON else {"type": "string"}}}
    return None


def _documented_response(
    code: int,
    entry: str | ResponseDoc,
    computed: dict[str, Any] | None,
    where: str,
    registry: SchemaRegistry,
) -> dict[str, Any]:
    """A response from the route's ``responses``; it keeps a computed body it does not replace."""
    description = entry if isinstance(entry, str) else entry.description
    response: dict[str, Any] = {"description": description}
    if isinstance(entry, ResponseDoc) and entry.type is not None:
        response["content"] = {entry.media_type: {"schema": registry.schema(entry.type, where)}}
    elif computed is not None and "content" in computed:
        response["content"] = computed["content"]
    elif isinstance(entry, ResponseDoc) and code >= 400:
        # The body every HTTPError gets.
        response["content"] = {_PROBLEM: {"schema": registry.schema(Problem, where)}}
    return response
