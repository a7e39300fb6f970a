"""Building the OpenAPI 3.1 document of an app from its compiled routes.

The document is assembled from :meth:`App.routes_info`: one operation per
route and method, its parameters and body from the route's call plan, its
responses from the return annotation and the route's ``responses`` option.
Every schema is produced in one pass at the end (see
:mod:`satchel.openapi.components`), so shared models are shared components.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from satchel.errors import ConfigurationError
from satchel.openapi.components import SchemaRegistry
from satchel.openapi.config import OpenAPIConfig
from satchel.openapi.operations import (
    SecurityDoc,
    add_security_responses,
    build_operation,
    declared_security,
    lift_descriptions,
    openapi_path,
)
from satchel.signatures import describe

if TYPE_CHECKING:
    from satchel.app import App, RouteInfo

__all__ = ["build_openapi"]

_NOT_AN_ID = re.compile(r"[^0-9A-Za-z_]")


def build_openapi(app: App[Any]) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of ``app`` as a dict (builds the app if needed).

    An app with ``openapi=None`` is described with the default ``OpenAPIConfig``.

    Raises:
        ConfigurationError: a type cannot be described as JSON Schema, two
            routes have the same ``operation_id``, or a security requirement
            names a scheme that ``security_schemes`` does not declare.
    """
    config = app.openapi_config or OpenAPIConfig()
    routes = [(info, _documented_methods(info)) for info in app.routes_info()]
    routes = [(info, methods) for info, methods in routes if methods]
    guarded = [declared_security(info, app) for info, _ in routes]
    config = _with_declared_schemes(config, guarded)
    registry = SchemaRegistry()
    paths: dict[str, dict[str, Any]] = {}
    for (info, methods), ids, guard in zip(routes, _operation_ids(routes), guarded, strict=True):
        operation = build_operation(info, registry)
        if guard is not None:
            add_security_responses(operation, guard, describe(info.handler), registry)
        if info.doc.security is not None:
            operation["security"] = _security(info.doc.security, config, describe(info.handler))
        elif guard is not None:
            operation["security"] = [{name: list(guard.scopes)} for name in guard.schemes]
        item = paths.setdefault(openapi_path(info.path), {})
        for method, operation_id in zip(methods, ids, strict=True):
            if method.lower() in item:
                raise ConfigurationError(
                    f"Two routes document {method} {openapi_path(info.path)} "
                    f"(the second is {describe(info.handler)})"
                )
            item[method.lower()] = {"operationId": operation_id, **operation}
    schemas = registry.resolve()
    for item in paths.values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()):
                lift_descriptions(parameter)
    return _document(config, paths, schemas, _tags(config, routes))


def _with_declared_schemes(
    config: OpenAPIConfig, guarded: Iterable[SecurityDoc | None]
) -> OpenAPIConfig:
    """``config`` with the schemes that guards declare; the configured ones win."""
    schemes: dict[str, Mapping[str, Any]] = {}
    for doc in guarded:
        if doc is not None:
            schemes.update(doc.schemes)
    if not schemes.keys() - config.security_schemes.keys():
        return config
    return dataclasses.replace(config, security_schemes={**schemes, **config.security_schemes})


def _documented_methods(info: RouteInfo) -> list[str]:
    """The methods of a route that become operations.

    HEAD is left out when the route answers GET (it is GET without the body);
    QUERY has no place in an OpenAPI 3.1 path item.
    """
    if info.websocket or not info.doc.include_in_schema:
        return []
    methods = [m for m in info.methods if m != "QUERY"]
    if "GET" in methods and "HEAD" in methods:
        methods.remove("HEAD")
    return methods


def _operation_ids(routes: list[tuple[RouteInfo, list[str]]]) -> list[list[str]]:
    """One id per route and method, unique across the document.

    Explicit ids are kept (a clash is an error); the others come from the
    route's name, numbered when two would be equal. A route with several
    methods gets the method as a suffix: ``items_get``, ``items_post``.
    """
    explicit: dict[str, str] = {}
    for info, methods in routes:
        if info.doc.operation_id is not None:
            for operation_id in _with_methods(info.doc.operation_id, methods):
                if operation_id in explicit:
                    raise ConfigurationError(
                        f"operation_id {operation_id!r} is used by {explicit[operation_id]} "
                        f"and {describe(info.handler)}; operation ids must be unique"
                    )
                explicit[operation_id] = describe(info.handler)
    taken = set(explicit)
    found: list[list[str]] = []
    for info, methods in routes:
        if info.doc.operation_id is not None:
            found.append(_with_methods(info.doc.operation_id, methods))
            continue
        ids = []
        for candidate in _with_methods(_NOT_AN_ID.sub("_", info.name), methods):
            unique, number = candidate, 2
            while unique in taken:
                unique, number = f"{candidate}_{number}", number + 1
            taken.add(unique)
            ids.append(unique)
        found.append(ids)
    return found


def _with_methods(base: str, methods: list[str]) -> list[str]:
    if len(methods) == 1:
        return [base]
    return [f"{base}_{method.lower()}" for method in methods]


def _security(
    requirements: Iterable[Mapping[str, Iterable[str]]], config: OpenAPIConfig, where: str
) -> list[dict[str, list[str]]]:
    """Security requirements as JSON, each scheme checked against ``security_schemes``."""
    found = []
    for requirement in requirements:
        unknown = sorted(set(requirement) - set(config.security_schemes))
        if unknown:
            raise ConfigurationError(
                f"{where}: security requirement {dict(requirement)!r} names undeclared "
                f"scheme(s) {unknown}; declare them in OpenAPIConfig(security_schemes=...)"
            )
        found.append({name: list(scopes) for name, scopes in requirement.items()})
    return found


def _tags(config: OpenAPIConfig, routes: list[tuple[RouteInfo, list[str]]]) -> list[Any]:
    """The configured tag objects, then the tags routes use without declaring them."""
    tags = [_plain(tag) for tag in config.tags]
    declared = {tag["name"] for tag in tags}
    for info, _ in routes:
        for name in info.tags:
            if name not in declared:
                declared.add(name)
                tags.append({"name": name})
    return tags


def _document(
    config: OpenAPIConfig,
    paths: dict[str, dict[str, Any]],
    schemas: dict[str, Any],
    tags: list[Any],
) -> dict[str, Any]:
    info: dict[str, Any] = {"title": config.title, "version": config.version}
    if config.description:
        info["description"] = config.description
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info}
    if config.servers:
        document["servers"] = [_plain(server) for server in config.servers]
    document["paths"] = paths
    components: dict[str, Any] = {}
    if schemas:
        components["schemas"] = schemas
    if config.security_schemes:
        components["securitySchemes"] = _plain(config.security_schemes)
    if components:
        document["components"] = components
    if config.security:
        document["security"] = _security(config.security, config, "OpenAPIConfig.security")
    if tags:
        document["tags"] = tags
    return document


def _plain(value: Any) -> Any:
    """Mappings and sequences from the configuration as JSON dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
