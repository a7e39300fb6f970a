"""Path parameter converters: turn one URL segment into a value and back.

A converter raises ``ValueError`` from ``to_python`` when the segment does not
match; the router then tries other routes and finally answers 404.
"""

from __future__ import annotations

import datetime
import math
import uuid
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

__all__ = [
    "Converter",
    "DateConverter",
    "FloatConverter",
    "IntConverter",
    "PathConverter",
    "StrConverter",
    "UUIDConverter",
    "default_converters",
]

T = TypeVar("T")

# Longer digit strings are refused before int() sees them: Python limits
# int-from-str conversions and no real id needs more.
_MAX_DIGITS = 32


@runtime_checkable
class Converter(Protocol[T]):
    """Turns a path segment into a value (``to_python``) and back (``to_url``).

    Implement ``to_python`` to raise ``ValueError`` for segments that do not
    match. Set ``matches_slash = True`` for a converter that takes the rest of
    the path, slashes included (it must be the last segment).

    >>> class SlugConverter:
    ...     matches_slash = False
    ...     def to_python(self, value: str) -> str:
    ...         if not value.replace("-", "").isalnum():
    ...             raise ValueError(value)
    ...         return value
    ...     def to_url(self, value: str) -> str:
    ...         return value
    >>> isinstance(SlugConverter(), Converter)
    True
    """

    matches_slash: ClassVar[bool]

    def to_python(self, value: str) -> T: ...

    def to_url(self, value: T) -> str: ...


class StrConverter:
    """Any non-empty segment (no slash)."""

    matches_slash: ClassVar[bool] = False

    def to_python(self, value: str) -> str:
        if not value:
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        text = str(value)
        if not text:
            raise ValueError("An empty string cannot fill a path segment")
        return text


class PathConverter(StrConverter):
    """The rest of the path, slashes included (must be the last segment).

    ``to_url`` refuses values that would change the URL's meaning: a leading
    slash (``//host`` is another site) and empty, ``.`` or ``..`` segments.
    """

    matches_slash: ClassVar[bool] = True

    def to_url(self, value: str) -> str:
        text = str(value)
        if any(segment in ("", ".", "..") for segment in text.split("/")):
            raise ValueError(f"{text!r} has an empty, '.' or '..' segment")
        return text


class IntConverter:
    """A non-negative integer written in ASCII digits (``'٣'`` and ``'+1'`` do not match)."""

    matches_slash: ClassVar[bool] = False

    def to_python(self, value: str) -> int:
        if not (value.isascii() and value.isdigit()) or len(value) > _MAX_DIGITS:
            raise ValueError(value)
        return int(value)

    def to_url(self, value: int) -> str:
        if value < 0:
            raise ValueError(f"{value} is negative; the int converter matches digits only")
        return str(int(value))


class FloatConverter:
    """A non-negative decimal number such as ``3`` or ``2.5`` (no ``nan``/``inf``)."""

    matches_slash: ClassVar[bool] = False

    def to_python(self, value: str) -> float:
        whole, _, fraction = value.partition(".")
        digits = whole + fraction
        if not (digits.isascii() and digits.isdigit()) or not whole or len(value) > _MAX_DIGITS:
            raise ValueError(value)
        return float(value)

    def to_url(self, value: float) -> str:
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{value!r} cannot be written as a path segment")
        return repr(number)


class UUIDConverter:
    """A UUID in its canonical 36-character form."""

    matches_slash: ClassVar[bool] = False

    def to_python(self, value: str) -> uuid.UUID:
        if len(value) != 36:
            raise ValueError(value)
        result = uuid.UUID(value)
        # uuid.UUID also takes braces and misplaced hyphens: one URL per UUID only.
        if str(result) != value.lower():
            raise ValueError(value)
        return result

    def to_url(self, value: uuid.UUID) -> str:
        return str(value)


class DateConverter:
    """An ISO date ``YYYY-MM-DD``."""

    matches_slash: ClassVar[bool] = False

    def to_python(self, value: str) -> datetime.date:
        if len(value) != 10:
            raise ValueError(value)
        result = datetime.date.fromisoformat(value)
        # fromisoformat also takes week dates such as '2024-W01-1'.
        if result.isoformat() != value:
            raise ValueError(value)
        return result

    def to_url(self, value: datetime.date) -> str:
        return value.isoformat()


def default_converters() -> dict[str, Converter[Any]]:
    """Return a fresh name-to-converter mapping of the built-in converters."""
    return {
        "str": StrConverter(),
        "path": PathConverter(),
        "int": IntConverter(),
        "float": FloatConverter(),
        "uuid": UUIDConverter(),
        "date": DateConverter(),
    }


#: Which converter a parameter gets from its annotation when the pattern names none.
CONVERTER_FOR_TYPE: dict[type, str] = {
    str: "str",
    int: "int",
    float: "float",
    uuid.UUID: "uuid",
    datetime.date: "date",
}
