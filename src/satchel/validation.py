"""Validation of request inputs against type hints, and the 422 answer when they fail.

A :class:`Validator` is built once per parameter at startup. Valid input takes
msgspec's single pass; only invalid input pays for the second look that finds
*every* failing field (msgspec itself stops at the first), so a client can fix
them all at once.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from satchel.errors import BadRequest, UnprocessableEntity
from satchel.params import Location
from satchel.typeforms import ModelField, model_fields, sequence_item, split_annotated

__all__ = [
    "MAX_REPORTED_ERRORS",
    "FieldError",
    "Invalid",
    "MsgspecValidator",
    "RequestValidationError",
    "Validator",
    "explain",
    "join_name",
]

#: A hostile body with a million bad items gets this many errors back, not a million.
MAX_REPORTED_ERRORS = 50


class FieldError(msgspec.Struct, frozen=True):
    """One failing input in a 422 response.

    Attributes:
        location: ``path``, ``query``, ``header``, ``cookie``, ``body`` or ``form``.
        name: The parameter's name on the wire; inside a body, the field's path
            (``items[0].price``), or ``""`` for the body as a whole.
        message: What is wrong, e.g. ``Expected `int` >= 1``.
    """

    location: str
    name: str
    message: str


class RequestValidationError(UnprocessableEntity):
    """422: the request's inputs do not match the handler's types.

    The problem+json body lists every failing field::

        {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
         "detail": "2 invalid request fields",
         "errors": [{"location": "query", "name": "limit", "message": "Expected `int` <= 100"},
                    {"location": "body", "name": "price", "message": "Expected `float` > 0"}]}
    """

    def __init__(self, errors: list[FieldError]) -> None:
        # A handler and its provider may read the same input: report its fault once.
        unique = list(dict.fromkeys(errors))
        self.errors = unique[:MAX_REPORTED_ERRORS]
        count = len(unique)
        super().__init__(f"{count} invalid request field{'s' if count != 1 else ''}")

    def problem_members(self) -> dict[str, Any]:
        return {"errors": self.errors}


class Invalid(Exception):
    """Raised by validators; the plan gathers these into one RequestValidationError."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        self.errors = errors


class Validator(Protocol):
    """Turns raw input into a value of one type, raising :class:`Invalid` when it cannot."""

    def decode_json(self, data: bytes) -> Any:
        """Decode and validate a JSON document (400 when it is not JSON at all)."""

    def convert(self, value: Any) -> Any:
        """Validate decoded data: strings from a query or form, or JSON-like builtins."""


class MsgspecValidator:
    """Validation by msgspec: Structs, dataclasses, TypedDicts, scalars and containers."""

    __slots__ = ("_decoder", "_location", "_name", "_strict", "_type")

    def __init__(self, tp: Any, location: Location, name: str, *, lax: bool) -> None:
        self._type = tp
        self._location = location
        self._name = name
        self._strict = not lax
        self._decoder = msgspec.json.Decoder(tp)  # raises TypeError for unsupported types

    def decode_json(self, data: bytes) -> Any:
        try:
            return self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            first = exc
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(f"Malformed JSON: {exc}") from None
        try:
            # The typed decoder stops at the first bad field: the rest may still be malformed.
            raw = msgspec.json.decode(data)
        except msgspec.ValidationError:
            # A number beyond any Python type: no walk can name more than the first error.
            message, at = _split_message(str(first))
            raise Invalid(
                [FieldError(self._location, join_name(self._name, at), message)]
            ) from None
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(f"Malformed JSON: {exc}") from None
        raise Invalid(explain(raw, self._type, self._location, self._name, strict=True))

    def convert(self, value: Any) -> Any:
        try:
            return msgspec.convert(value, self._type, strict=self._strict)
        except msgspec.ValidationError:
            pass
        raise Invalid(explain(value, self._type, self._location, self._name, strict=self._strict))


def explain(
    value: Any, tp: Any, location: Location, name: str, *, strict: bool
) -> list[FieldError]:
    """List every failing field of ``value`` against ``tp`` (at most MAX_REPORTED_ERRORS).

    Walks models and sequences so that each bad field is named, and falls back
    to msgspec's own first error when the fault is not in one field (a wrong
    union member, a failing ``__post_init__``). The work stays in proportion to
    the size of ``value``, however deep the faults are.
    """
    walk = _Explanation(location, strict)
    walk.value(value, tp, name, None)
    return walk.errors


#: A fault msgspec found: its message and where, below the converted value (``a[0].b``).
_Fault = tuple[str, str]
# Items of a list converted in one call while looking for the next bad one: large enough
# for few calls, small enough that copying out the chunks costs little.
_CHUNK = 1024


class _Explanation:
    """One walk of :func:`explain`: where the values come from, and the errors found so far."""

    def __init__(self, location: Location, strict: bool) -> None:
        self.location = location
        self.strict = strict
        self.errors: list[FieldError] = []

    def value(self, value: Any, tp: Any, name: str, known: _Fault | None) -> None:
        # ``known``: the first fault of ``value``, found by the conversion of what encloses
        # it. Converting it again on every level down would cost its size once per level.
        if len(self.errors) >= MAX_REPORTED_ERRORS:
            return
        fault = known if known is not None else self.first_fault(value, tp)
        if fault is None:
            return
        before = len(self.errors)
        fields = model_fields(tp) if isinstance(value, dict) else None
        item = sequence_item(tp) if isinstance(value, list) else None
        if fields is not None:
            self.fields(value, fields, name, fault)
        elif item is not None and _item_constraints_only(tp):
            self.items(value, item, name, fault)
        if len(self.errors) == before:
            message, at = fault
            self.errors.append(FieldError(self.location, join_name(name, at), message))

    def first_fault(self, value: Any, tp: Any) -> _Fault | None:
        try:
            msgspec.convert(value, tp, strict=self.strict)
        except msgspec.ValidationError as exc:
            return _split_message(str(exc))
        return None

    def fields(
        self, value: dict[str, Any], fields: list[ModelField], name: str, fault: _Fault
    ) -> None:
        message, at = fault
        below = {f.key: rest for f in fields if (rest := _below_key(at, f.key)) is not None}
        if len(below) != 1:
            below = {}  # "a.b.c" with fields "a" and "a.b": which one failed is not known
        for field in fields:
            key_name = join_name(name, field.key)
            if field.key in value:
                rest = below.get(field.key)
                known = None if rest is None else (message, rest)
                self.value(value[field.key], field.type, key_name, known)
            elif field.required:
                self.errors.append(FieldError(self.location, key_name, "Field required"))

    def items(self, value: list[Any], item: Any, name: str, fault: _Fault) -> None:
        # msgspec converts items in order and stops at the first bad one: those before it
        # are valid. The next bad one is looked for a chunk of items at a time (one call each).
        message, at = fault
        found = _below_index(at, len(value))
        start = 0
        while len(self.errors) < MAX_REPORTED_ERRORS:
            if found is None:
                chunk = value[start : start + _CHUNK]
                if not chunk:
                    return
                fault_after = self.first_fault(chunk, list[item])
                if fault_after is None:
                    start += len(chunk)
                    continue
                message, at = fault_after
                found = _below_index(at, len(chunk))
                if found is None:
                    return
                found = (start + found[0], found[1])
            index, rest = found
            self.value(value[index], item, f"{name}[{index}]", (message, rest))
            start, found = index + 1, None


def _below_key(at: str, key: str) -> str | None:
    """The rest of path ``at`` when it goes through field ``key`` (``"b"`` for ``"a.b"``)."""
    if not at.startswith(key):
        return None
    rest = at[len(key) :]
    if not rest or rest[0] == "[":
        return rest
    return rest[1:] if rest[0] == "." else None


def _below_index(at: str, length: int) -> tuple[int, str] | None:
    """The item index path ``at`` starts with, and the rest (``(3, "b")`` for ``"[3].b"``)."""
    end = at.find("]")
    digits = at[1:end]
    if not at.startswith("[") or end < 0 or not (digits.isascii() and digits.isdigit()):
        return None
    index = int(digits)
    if index >= length:
        return None
    rest = at[end + 1 :]
    return index, rest[1:] if rest.startswith(".") else rest


def _item_constraints_only(tp: Any) -> bool:
    # A list with its own constraints (max_length=3) can fail as a whole; its items
    # are only worth walking when no list-level constraint exists.
    return not split_annotated(tp)[1]


def _split_message(text: str) -> tuple[str, str]:
    """``"Expected `int` - at `$.a[0]`"`` -> ``("Expected `int`", "a[0]")``."""
    message, sep, at = text.rpartition(" - at `$")
    if not sep:
        return text, ""
    return message, at.rstrip("`").removeprefix(".")


def join_name(base: str, key: str) -> str:
    """Join a field path: ``join_name("items[0]", "price") == "items[0].price"``."""
    if not key:
        return base
    if not base or key.startswith("["):
        return base + key
    return f"{base}.{key}"
