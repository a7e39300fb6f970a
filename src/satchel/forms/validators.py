"""Validators: checks a field runs on its parsed value, raising :class:`ValidationError`.

A validator is any callable that takes the value and raises ``ValidationError``
with a message for the user when the value is wrong; the classes here cover the
common checks, and the field options (``max_length=``, ``min_value=``, ...) use
them too. Validators only see values that are present: an empty optional field
is never validated, and an empty required one fails with the field's own
"required" message first.

>>> from satchel.forms import StringField, validators
>>> code = StringField("Code", validators=[validators.Regex(r"[A-Z]{3}", "Three capitals")])
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sized
from typing import Any, Final
from urllib.parse import urlsplit

from satchel.datastructures import parse_options_header
from satchel.uploads import UploadFile

__all__ = [
    "URL",
    "ContentType",
    "Email",
    "FileSize",
    "Length",
    "Range",
    "Regex",
    "ValidationError",
    "Validator",
    "format_size",
]


class ValidationError(ValueError):
    """A value is not acceptable; ``message`` is shown to the user next to the field.

    Raise it from custom validators and from ``Form.clean``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: A check on a field's value: returns nothing, raises ``ValidationError``.
Validator = Callable[[Any], None]


class Length:
    """The value (a string, or a list of selections) has between ``min`` and ``max`` items.

    >>> Length(max=3)("abcd")
    Traceback (most recent call last):
    satchel.forms.validators.ValidationError: Ensure this value has at most 3 characters (it has 4).
    """

    __slots__ = ("max", "message", "min")

    def __init__(
        self, min: int | None = None, max: int | None = None, *, message: str | None = None
    ) -> None:
        if min is None and max is None:
            raise ValueError("Length needs min, max or both")
        self.min = min
        self.max = max
        self.message = message

    def __call__(self, value: Sized) -> None:
        size = len(value)
        unit = "character" if isinstance(value, str) else "item"
        for limit, word, failed in (
            (self.min, "least", self.min is not None and size < self.min),
            (self.max, "most", self.max is not None and size > self.max),
        ):
            if failed:
                units = unit if limit == 1 else f"{unit}s"
                raise ValidationError(
                    self.message
                    or f"Ensure this value has at {word} {limit} {units} (it has {size})."
                )


class Range:
    """The value (a number or a date) lies between ``min`` and ``max``, both included.

    >>> Range(min=1)(0)
    Traceback (most recent call last):
    satchel.forms.validators.ValidationError: Ensure this value is greater than or equal to 1.
    """

    __slots__ = ("max", "message", "min")

    def __init__(self, min: Any = None, max: Any = None, *, message: str | None = None) -> None:
        if min is None and max is None:
            raise ValueError("Range needs min, max or both")
        self.min = min
        self.max = max
        self.message = message

    def __call__(self, value: Any) -> None:
        if self.min is not None and value < self.min:
            raise ValidationError(
                self.message or f"Ensure this value is greater than or equal to {self.min}."
            )
        if self.max is not None and value > self.max:
            raise ValidationError(
                self.message or f"Ensure this value is less than or equal to {self.max}."
            )


class Regex:
    """The whole string matches ``pattern`` (``re.fullmatch``).

    Keep patterns simple: they run on user input (input length is bounded by the
    field, but a pattern with nested repetition can still take long).
    """

    __slots__ = ("message", "pattern")

    def __init__(
        self, pattern: str | re.Pattern[str], message: str = "Enter a valid value."
    ) -> None:
        self.pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
        self.message = message

    def __call__(self, value: str) -> None:
        if self.pattern.fullmatch(value) is None:
            raise ValidationError(self.message)


# The rule browsers apply to <input type="email"> (WHATWG HTML, "valid email address").
_EMAIL: Final = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)


class Email:
    """An email address, by the rule browsers apply to ``<input type="email">``.

    At most 254 characters (what SMTP can carry). The address may still not
    exist: only sending to it tells.

    >>> Email()("ada@example.com")
    >>> Email()("ada@example.com\\nBcc: x@example.com")
    Traceback (most recent call last):
    satchel.forms.validators.ValidationError: Enter a valid email address.
    """

    __slots__ = ("message",)

    def __init__(self, message: str = "Enter a valid email address.") -> None:
        self.message = message

    def __call__(self, value: str) -> None:
        if len(value) > 254 or _EMAIL.fullmatch(value) is None:
            raise ValidationError(self.message)


# Characters no URL a user means to enter contains: browsers would drop or rewrite them.
_URL_FORBIDDEN: Final = re.compile(r"[\x00-\x20\x7f\\<>\"`]")
_HOST: Final = re.compile(r"(?:[\w-]+\.)*[\w-]+\.?")


class URL:
    """An absolute URL whose scheme is one of ``schemes`` (``http`` and ``https`` by default).

    ``javascript:``, ``data:`` and scheme-relative URLs (``//host``) are refused,
    so a value that passes is safe to put in a link's ``href``.

    >>> URL()("https://example.com/a?b=c")
    >>> URL()("javascript:alert(1)")
    Traceback (most recent call last):
    satchel.forms.validators.ValidationError: Enter a valid URL starting with http:// or https://.
    """

    __slots__ = ("message", "schemes")

    def __init__(
        self, schemes: Iterable[str] = ("http", "https"), message: str | None = None
    ) -> None:
        self.schemes = tuple(s.lower() for s in schemes)
        self.message = message or (
            "Enter a valid URL starting with " + " or ".join(f"{s}://" for s in self.schemes) + "."
        )

    def __call__(self, value: str) -> None:
        if _URL_FORBIDDEN.search(value):
            raise ValidationError(self.message)
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
        except ValueError:
            raise ValidationError(self.message) from None
        if parts.scheme.lower() not in self.schemes or not _valid_host(parts.hostname):
            raise ValidationError(self.message)


def _valid_host(host: str | None) -> bool:
    if not host:
        return False
    if ":" in host:  # an IPv6 address (urlsplit removed its brackets)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return _HOST.fullmatch(host) is not None


def format_size(size: int) -> str:
    """A byte count for people: ``format_size(2_500_000) == "2.5 MB"``.

    >>> format_size(512), format_size(2_000), format_size(5 * 1000**3)
    ('512 bytes', '2 kB', '5 GB')
    """
    amount = float(size)
    for unit in ("bytes", "kB", "MB"):
        if amount < 1000:
            return f"{amount:g} {unit}"
        amount /= 1000
    return f"{amount:g} GB"


class FileSize:
    """An upload holds at most ``max`` bytes."""

    __slots__ = ("max", "message")

    def __init__(self, max: int, *, message: str | None = None) -> None:
        self.max = max
        self.message = message

    def __call__(self, value: UploadFile) -> None:
        if value.size > self.max:
            raise ValidationError(
                self.message
                or f"The file is too large ({format_size(value.size)}); "
                f"the limit is {format_size(self.max)}."
            )


class ContentType:
    """An upload's declared Content-Type is one of ``types`` (``image/*`` allows every image).

    The type is what the client says; check the content itself (its first bytes)
    before trusting it, and never serve uploads with the type they came with.
    """

    __slots__ = ("message", "types")

    def __init__(self, types: Iterable[str], *, message: str | None = None) -> None:
        self.types = tuple(t.strip().lower() for t in types)
        if not self.types:
            raise ValueError("ContentType needs at least one type")
        self.message = message

    def __call__(self, value: UploadFile) -> None:
        declared = parse_options_header(value.content_type)[0]
        for allowed in self.types:
            if declared == allowed or (
                allowed.endswith("/*") and declared.startswith(allowed[:-1])
            ):
                return
        raise ValidationError(
            self.message or f"Upload a file of one of these types: {', '.join(self.types)}."
        )
