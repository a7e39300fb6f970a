"""JSON Schemas for the OpenAPI document: every type of the app, shared models named once.

Operations ask for the schema of a type and get a placeholder dict at once;
:meth:`SchemaRegistry.resolve` then fills every placeholder from one
``msgspec.json.schema_components`` call (and one pydantic call, for apps that
use pydantic), so a model used by several routes is one component that each
operation refers to.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from satchel.errors import ConfigurationError
from satchel.params import Location
from satchel.typeforms import is_pydantic
from satchel.validation import MAX_REPORTED_ERRORS

__all__ = ["REF_PREFIX", "FieldError", "Problem", "SchemaRegistry", "ValidationProblem"]

REF_PREFIX = "#/components/schemas/"

# The error bodies every app sends, as documented; tests/openapi checks that they
# match satchel.errorpages and satchel.validation.FieldError field for field.


class Problem(msgspec.Struct):
    """An error: RFC 9457 problem details."""

    type: Annotated[str, Meta(description='A URI naming the kind of problem ("about:blank").')]
    title: Annotated[str, Meta(description="The status code's reason phrase.")]
    status: Annotated[int, Meta(description="The HTTP status code.")]
    detail: Annotated[str, Meta(description="What went wrong, for people.")]


class FieldError(msgspec.Struct):
    """One invalid request input."""

    location: Annotated[Location, Meta(description="Where the input was read.")]
    name: Annotated[
        str,
        Meta(
            description="The input's name there; inside a body or form model, the field's path "
            '(items[0].price), or "" for the body as a whole.'
        ),
    ]
    message: Annotated[str, Meta(description="What is wrong with it.")]


class ValidationProblem(Problem):
    """422: the request's inputs do not match the handler's types."""

    errors: Annotated[
        list[FieldError],
        Meta(max_length=MAX_REPORTED_ERRORS, description="Every invalid input, at once."),
    ]


class SchemaRegistry:
    """Collects the types an app documents and turns them into JSON Schemas in one pass."""

    def __init__(self) -> None:
        self._pending: list[tuple[Any, dict[str, Any], str]] = []

    def schema(self, tp: Any, where: str) -> dict[str, Any]:
        """A placeholder for the schema of ``tp``, filled by :meth:`resolve`.

        Args:
            tp: The type (constraints in ``Annotated`` included).
            where: What documents it (a handler), for error messages.
        """
        placeholder: dict[str, Any] = {}
        self._pending.append((tp, placeholder, where))
        return placeholder

    def resolve(self) -> dict[str, Any]:
        """Fill every placeholder and return the named schemas (``components.schemas``).

        Raises:
            ConfigurationError: a type cannot be described as JSON Schema.
        """
        native = [entry for entry in self._pending if not is_pydantic(entry[0])]
        pydantic = [entry for entry in self._pending if is_pydantic(entry[0])]
        components = _msgspec_schemas(native)
        if pydantic:
            _merge(components, _pydantic_schemas(pydantic), [p for _, p, _ in pydantic])
        return dict(sorted(components.items()))


def _msgspec_schemas(pending: list[tuple[Any, dict[str, Any], str]]) -> dict[str, Any]:
    types = [tp for tp, _, _ in pending]
    try:
        schemas, components = msgspec.json.schema_components(
            types, ref_template=REF_PREFIX + "{name}"
        )
    except KeyError as exc:
        # msgspec cannot name two classes of the same module and qualified name apart.
        cls = exc.args[0] if exc.args else None
        if not isinstance(cls, type):
            raise
        raise ConfigurationError(
            f"Two different types are named {cls.__module__}.{cls.__qualname__}; the OpenAPI "
            "document needs a distinct name for each (rename one)"
        ) from None
    except (TypeError, ValueError) as exc:
        raise _culprit(pending, exc) from None
    for (_, placeholder, _), schema in zip(pending, schemas, strict=True):
        placeholder.update(schema)
    return dict(components)


def _culprit(pending: list[tuple[Any, dict[str, Any], str]], exc: Exception) -> Exception:
    # Only on failure: find which type msgspec refused, to name it and its handler.
    for tp, _, where in pending:
        try:
            msgspec.json.schema(tp)
        except (TypeError, ValueError) as own:
            return ConfigurationError(
                f"{where}: cannot describe {tp!r} in the OpenAPI document: {own}"
            )
    return ConfigurationError(f"Cannot build the OpenAPI schemas: {exc}")


def _pydantic_schemas(pending: list[tuple[Any, dict[str, Any], str]]) -> dict[str, Any]:
    # Loaded only for apps that use pydantic models.
    from satchel.pydantic_validation import pydantic_schema

    # One schema for all of them (as the items of one tuple), so pydantic names
    # each shared model once and tells same-named models apart itself.
    together: Any = tuple[tuple(tp for tp, _, _ in pending)]  # type: ignore[misc]
    try:
        schema, defs = pydantic_schema(together, REF_PREFIX + "{model}")
    except Exception as exc:  # pydantic raises several kinds; each is a documentation error
        wheres = sorted({where for _, _, where in pending})
        raise ConfigurationError(
            f"Cannot describe the pydantic types of {', '.join(wheres)}: {exc}"
        ) from None
    for (_, placeholder, _), item in zip(pending, schema["prefixItems"], strict=True):
        placeholder.update(item)
    return dict(defs)


def _merge(components: dict[str, Any], defs: dict[str, Any], users: list[dict[str, Any]]) -> None:
    """Add pydantic's named schemas, renaming those whose name a different msgspec schema has.

    ``users`` are the placeholders that may refer to them, renamed along.
    """
    names: dict[str, str] = {}
    for name, schema in defs.items():
        new_name = name
        number = 1
        while components.get(new_name, schema) != schema or (new_name != name and new_name in defs):
            number += 1
            new_name = f"{name}{number}"
        names[name] = new_name
    renames = {REF_PREFIX + old: REF_PREFIX + new for old, new in names.items() if old != new}
    for name, schema in defs.items():
        components[names[name]] = _renamed(schema, renames)
    for user in users:
        renamed = _renamed(user, renames)
        user.clear()
        user.update(renamed)


def _renamed(node: Any, renames: dict[str, str]) -> Any:
    """A copy of ``node`` with its ``$ref`` values renamed."""
    if isinstance(node, dict):
        return {
            key: renames.get(value, value)
            if key == "$ref" and isinstance(value, str)
            else _renamed(value, renames)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_renamed(item, renames) for item in node]
    return node
