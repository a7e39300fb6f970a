"""Validation, serialization and schemas for pydantic v2 models.

Imported only when a handler's types contain a pydantic model, which means the
application has imported pydantic itself; Satchel never depends on it.
"""

from __future__ import annotations

from typing import Any

import pydantic

from satchel.errors import BadRequest
from satchel.params import Location
from satchel.validation import MAX_REPORTED_ERRORS, FieldError, Invalid, join_name

__all__ = ["PydanticSerializer", "PydanticValidator", "pydantic_schema"]


class PydanticValidator:
    """Validation by a ``pydantic.TypeAdapter`` (lax mode, like pydantic's default)."""

    __slots__ = ("_adapter", "_location", "_name")

    def __init__(self, tp: Any, location: Location, name: str) -> None:
        self._adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(tp)
        self._location = location
        self._name = name

    def decode_json(self, data: bytes) -> Any:
        try:
            return self._adapter.validate_json(data)
        except pydantic.ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors(include_url=False)):
                raise BadRequest("Malformed JSON") from None
            raise Invalid(self._errors(exc)) from None

    def convert(self, value: Any) -> Any:
        try:
            return self._adapter.validate_python(value)
        except pydantic.ValidationError as exc:
            raise Invalid(self._errors(exc)) from None

    def _errors(self, exc: pydantic.ValidationError) -> list[FieldError]:
        found = []
        for error in exc.errors(include_url=False, include_context=False)[:MAX_REPORTED_ERRORS]:
            name = self._name
            for part in error["loc"]:
                name = join_name(name, f"[{part}]" if isinstance(part, int) else str(part))
            found.append(FieldError(self._location, name, error["msg"]))
        return found


class PydanticSerializer:
    """Dumps return values of a pydantic-typed handler to JSON bytes, filtered to the type."""

    __slots__ = ("_adapter",)

    def __init__(self, tp: Any) -> None:
        self._adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(tp)

    def __call__(self, value: Any) -> bytes:
        # Objects that are not instances (an ORM row, a dict) are validated
        # into the declared type first, which also drops undeclared fields.
        checked = self._adapter.validate_python(value, from_attributes=True)
        return self._adapter.dump_json(checked)


def pydantic_schema(tp: Any, ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the JSON Schema of ``tp`` and the named schemas it refers to."""
    schema = pydantic.TypeAdapter(tp).json_schema(ref_template=ref_template, mode="validation")
    defs = schema.pop("$defs", {})
    return schema, defs
