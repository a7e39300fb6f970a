"""Validation, serialization and schemas for pydantic v2 models.

Imported only when a handler's types contain a pydantic model, which means the
application has imported pydantic itself; Satchel never depends on it.
"""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic_core import ErrorDetails

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
            listed = _listed(exc)
            if listed is not None and any(e["type"] == "json_invalid" for e in listed):
                raise BadRequest("Malformed JSON") from None
            raise Invalid(self._errors(exc, listed)) from None

    def convert(self, value: Any) -> Any:
        try:
            return self._adapter.validate_python(value)
        except pydantic.ValidationError as exc:
            raise Invalid(self._errors(exc, _listed(exc))) from None

    def _errors(
        self, exc: pydantic.ValidationError, listed: list[ErrorDetails] | None
    ) -> list[FieldError]:
        if listed is None:
            count = exc.error_count()
            message = f"{count} invalid values; too many to name each"
            return [FieldError(self._location, self._name, message)]
        return [
            FieldError(self._location, _path(self._name, error["loc"]), error["msg"])
            for error in listed[:MAX_REPORTED_ERRORS]
        ]


class PydanticSerializer:
    """Dumps return values of a pydantic-typed handler to JSON bytes, filtered to the type."""

    __slots__ = ("_adapter",)

    def __init__(self, tp: Any) -> None:
        self._adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(tp)

    def __call__(self, value: Any) -> bytes:
        # Objects that are not instances (an ORM row, a dict) are validated
        # into the declared type first, which also drops undeclared fields.
        try:
            checked = self._adapter.validate_python(value, from_attributes=True)
        except pydantic.ValidationError as exc:
            # Not str(exc): it quotes the unfiltered value, which may hold what the type hides.
            listed = _listed(exc) or []
            found = "; ".join(f"{_path('', e['loc'])}: {e['msg']}" for e in listed[:5])
            raise ValueError(f"{exc.error_count()} validation error(s): {found}") from None
        return self._adapter.dump_json(checked)


# pydantic reports every error; turning a huge number of them into Python objects would
# cost much more than finding them (seconds and hundreds of MB for a 2 MB body).
_LISTED_AT_MOST = 20 * MAX_REPORTED_ERRORS


def _listed(exc: pydantic.ValidationError) -> list[ErrorDetails] | None:
    """``exc``'s errors without inputs, or None when there are too many to list cheaply."""
    if exc.error_count() > _LISTED_AT_MOST:
        return None
    return exc.errors(include_url=False, include_context=False, include_input=False)


def _path(base: str, loc: tuple[int | str, ...]) -> str:
    for part in loc:
        base = join_name(base, f"[{part}]" if isinstance(part, int) else str(part))
    return base


def pydantic_schema(tp: Any, ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the JSON Schema of ``tp`` and the named schemas it refers to."""
    schema = pydantic.TypeAdapter(tp).json_schema(ref_template=ref_template, mode="validation")
    defs = schema.pop("$defs", {})
    return schema, defs
