"""Form fields: what each input is called, how its text becomes a value, how it renders.

A field is declared on a :class:`~satchel.forms.Form` subclass; on a form instance
the same attribute gives its :class:`~satchel.forms.BoundField` (the field with
the submitted input, the parsed value and the errors).

Every field reads the values its name was submitted with, and:

- refuses more than one (``Enter a single value.``) unless it takes several;
- strips surrounding whitespace from text (``strip=False`` keeps it);
- treats an empty value as missing: a required field then fails with
  ``This field is required.``, an optional one gives ``None``;
- refuses text longer than its limit with an error, never by failing the request;
- parses the text into its type, then runs its validators.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Generic,
    Self,
    TypedDict,
    TypeVar,
    Unpack,
    overload,
)

from markupsafe import Markup

from satchel.forms.html import element, void_element
from satchel.forms.validators import URL, Email, Length, Range, ValidationError
from satchel.uploads import UploadFile

if TYPE_CHECKING:
    from satchel.forms.bound import BoundField
    from satchel.forms.forms import Form

__all__ = [
    "BooleanField",
    "DateField",
    "DecimalField",
    "EmailField",
    "Field",
    "FieldOptions",
    "FloatField",
    "HiddenField",
    "InputOptions",
    "IntegerField",
    "PasswordField",
    "StringField",
    "TextField",
    "URLField",
    "humanize",
]

T = TypeVar("T")

#: A raw value as the form parser gives it: text, or an uploaded file.
RawValue = str | UploadFile

MESSAGES: Final[Mapping[str, str]] = {
    "required": "This field is required.",
    "invalid": "Enter a valid value.",
    "single": "Enter a single value.",
    "file_sent": "Expected text, not a file.",
    "too_long": "Ensure this value has at most {limit} characters (it has {length}).",
    "control": "Remove the control characters from this value.",
}

# C0 controls and DEL: never typed by a user, and NUL is refused by PostgreSQL.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK: Final = re.compile(r"[\r\n]")


class InputOptions(TypedDict, Generic[T], total=False):
    """The options every field takes as keywords; :class:`Field` says what each does."""

    required: bool
    help_text: str
    validators: Iterable[Callable[[T], None]]
    messages: Mapping[str, str] | None
    attrs: Mapping[str, Any] | None


class FieldOptions(InputOptions[T], total=False):
    """:class:`InputOptions` and ``default``, for fields that can show a starting value."""

    default: T | Callable[[], T] | None


def humanize(name: str) -> str:
    """The label a field gets from its attribute name.

    >>> humanize("published_at")
    'Published at'
    """
    return name.replace("_", " ").strip().capitalize()


class Field(Generic[T]):
    """The base of every field: options common to all, and the parsing steps.

    Args:
        label: What the user reads; defaults to the attribute name, humanized.
            Plain text is escaped when rendered; pass ``Markup`` for markup.
        required: An empty value is an error (``This field is required.``).
        default: The value an unbound form shows, or a function returning it;
            the form's ``initial`` takes precedence.
        help_text: A hint rendered under the label and tied to the input with
            ``aria-describedby``.
        validators: Callables run on the parsed value (see :mod:`satchel.forms.validators`).
        messages: Replacements for the field's messages, by key: ``required``,
            ``invalid``, ``single``, ``too_long`` (``{limit}``, ``{length}``)...
        attrs: Extra attributes for the widget, e.g. ``{"placeholder": "..."}``.
    """

    #: The ``type`` of the ``<input>`` this field renders.
    input_type: ClassVar[str] = "text"
    #: Rendered without label or row (hidden inputs).
    hidden: ClassVar[bool] = False
    #: Rendered as a group of inputs in a ``<fieldset>`` (radio buttons, checkboxes).
    grouped: bool = False
    #: The value is shown again after a failed submission (never for passwords).
    rerender: ClassVar[bool] = True
    #: Field-specific messages, over :data:`MESSAGES`.
    default_messages: ClassVar[Mapping[str, str]] = {}

    name: str

    def __init__(
        self,
        label: str | None = None,
        *,
        required: bool = True,
        default: T | Callable[[], T] | None = None,
        help_text: str = "",
        validators: Iterable[Callable[[T], None]] = (),
        messages: Mapping[str, str] | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        self.label = label
        self.required = required
        self.default = default
        self.help_text = help_text
        self.validators: list[Callable[[T], None]] = list(validators)
        self.messages = {**MESSAGES, **self.default_messages, **(messages or {})}
        self.attrs = dict(attrs or {})

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        if self.label is None:
            self.label = humanize(name)

    @overload
    def __get__(self, form: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, form: Form, owner: type[Any]) -> BoundField[T]: ...
    def __get__(self, form: Form | None, owner: type[Any]) -> Self | BoundField[T]:
        if form is None:
            return self
        return form[self.name]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'name', '?')!r}>"

    # -- parsing ---------------------------------------------------------------------------

    def error(self, key: str, **params: Any) -> ValidationError:
        """The ``ValidationError`` for message ``key``, formatted with ``params``."""
        message = self.messages[key]
        # A replacement message with braces of its own is shown as written.
        with contextlib.suppress(KeyError, IndexError, ValueError):
            message = message.format_map(params)
        return ValidationError(message)

    def clean(self, bound: BoundField[T]) -> T | None:
        """The value of ``bound``'s raw input, or ``ValidationError``."""
        raw = self.extract(bound.raw)
        if raw is None:
            if self.required:
                raise self.error("required")
            return self.empty()
        return self.to_python(raw, bound)

    def empty(self) -> T | None:
        """The value of an optional field left empty."""
        return None

    def extract(self, values: list[RawValue]) -> str | None:
        """The one text value submitted, prepared (stripped); None when absent or empty."""
        if not values:
            return None
        if len(values) > 1:
            raise self.error("single")
        return self.text(values[0]).strip() or None

    def text(self, value: object) -> str:
        """``value`` if it is text; else ``ValidationError``.

        An upload gets ``file_sent``; anything else (a number or ``None`` from data
        bound by code, such as a JSON body) gets ``invalid``.
        """
        if isinstance(value, str):
            return value
        raise self.error("file_sent" if isinstance(value, UploadFile) else "invalid")

    def to_python(self, raw: Any, bound: BoundField[T]) -> T:
        """Turn the extracted input into the field's type (raise ``ValidationError``)."""
        raise NotImplementedError

    def check(self, value: T) -> list[str]:
        """Run the validators on a present value; return every message."""
        errors: list[str] = []
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as exc:
                errors.append(exc.message)
        return errors

    def is_empty(self, value: Any) -> bool:
        """Whether ``value`` is this field's "nothing entered" (validators skip it)."""
        return value is None

    # -- rendering -------------------------------------------------------------------------

    def format(self, value: Any) -> str | list[str] | None:
        """The text an input shows for ``value`` (an initial value)."""
        return None if value is None else str(value)

    def shown(self, bound: BoundField[T]) -> str | list[str] | None:
        """What the widget shows: the submitted text, else the formatted initial value."""
        if not self.rerender:
            return None
        if bound.form.is_bound:
            texts = [v for v in bound.raw if isinstance(v, str)]
            return texts[0] if texts else None
        return self.format(bound.initial)

    def constraints(self) -> dict[str, Any]:
        """The HTML attributes that let the browser check the input first."""
        return {"required": self.required}

    def render(self, bound: BoundField[T], attrs: Mapping[str, Any]) -> Markup:
        """The widget's HTML, with ``attrs`` added (or replacing the defaults)."""
        base = {
            "type": self.input_type,
            "name": bound.name,
            "id": bound.id,
            "value": self.shown(bound),
            **self.constraints(),
        }
        return void_element("input", bound.widget_attrs(base, attrs))


class StringField(Field[str]):
    """One line of text (``<input type="text">``).

    Args:
        min_length: Fewest characters.
        max_length: Most characters; without it, :attr:`max_input_length` still applies.
        strip: Remove surrounding whitespace first.

    Line breaks and control characters are refused: browsers never send them
    from a one-line input, and they could forge headers in an email.
    """

    #: The most characters accepted when ``max_length`` is not set.
    max_input_length: ClassVar[int] = 10_000
    multiline: ClassVar[bool] = False

    def __init__(
        self,
        label: str | None = None,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        strip: bool = True,
        **options: Unpack[FieldOptions[str]],
    ) -> None:
        if min_length is not None:
            options["validators"] = [Length(min=min_length), *options.get("validators", ())]
        super().__init__(label, **options)
        self.min_length = min_length
        self.max_length = max_length
        self.strip = strip

    def extract(self, values: list[RawValue]) -> str | None:
        if not self.strip and len(values) == 1 and isinstance(values[0], str):
            return values[0] or None
        return super().extract(values)

    def to_python(self, raw: str, bound: BoundField[str]) -> str:
        if self.multiline:
            raw = raw.replace("\r\n", "\n")  # what browsers send; count a line break once
        limit = self.max_length if self.max_length is not None else self.max_input_length
        if len(raw) > limit:
            raise self.error("too_long", limit=limit, length=len(raw))
        if _CONTROL.search(raw) or (not self.multiline and _LINE_BREAK.search(raw)):
            raise self.error("control")
        return raw

    def constraints(self) -> dict[str, Any]:
        return {
            **super().constraints(),
            "minlength": self.min_length,
            "maxlength": self.max_length,
        }


class TextField(StringField):
    """Several lines of text (``<textarea>``); ``\\r\\n`` line breaks become ``\\n``."""

    max_input_length: ClassVar[int] = 100_000
    multiline: ClassVar[bool] = True

    def render(self, bound: BoundField[str], attrs: Mapping[str, Any]) -> Markup:
        shown = self.shown(bound)
        base = {"name": bound.name, "id": bound.id, **self.constraints()}
        # A leading newline in a textarea is dropped by HTML parsers: add one to keep the text's.
        text = "\n" + shown if isinstance(shown, str) else ""
        return element("textarea", bound.widget_attrs(base, attrs), text)


class PasswordField(StringField):
    """A password (``<input type="password">``): never stripped, never shown again."""

    input_type: ClassVar[str] = "password"
    rerender: ClassVar[bool] = False

    def __init__(
        self,
        label: str | None = None,
        *,
        min_length: int | None = None,
        max_length: int | None = 1024,
        **options: Unpack[InputOptions[str]],
    ) -> None:
        super().__init__(
            label, min_length=min_length, max_length=max_length, strip=False, **options
        )


class HiddenField(StringField):
    """A value the page carries without showing it (``<input type="hidden">``).

    Its errors are listed with the form's own, since it has no place of its own.
    The user can change it: validate it like any other input.
    """

    input_type: ClassVar[str] = "hidden"
    hidden: ClassVar[bool] = True

    def constraints(self) -> dict[str, Any]:
        return {}  # browsers ignore constraints on hidden inputs


class EmailField(StringField):
    """An email address (``<input type="email">``), checked by :class:`~validators.Email`."""

    input_type: ClassVar[str] = "email"
    default_messages: ClassVar[Mapping[str, str]] = {"invalid": "Enter a valid email address."}

    def __init__(
        self,
        label: str | None = None,
        *,
        max_length: int = 254,
        **options: Unpack[FieldOptions[str]],
    ) -> None:
        super().__init__(label, max_length=max_length, **options)
        self._email = Email(self.messages["invalid"])

    def to_python(self, raw: str, bound: BoundField[str]) -> str:
        value = super().to_python(raw, bound)
        self._email(value)
        return value


class URLField(StringField):
    """An ``http://`` or ``https://`` URL (``<input type="url">``), safe for a link's ``href``.

    Args:
        schemes: The schemes accepted; ``javascript:`` and ``data:`` never are,
            unless listed here.
    """

    input_type: ClassVar[str] = "url"

    def __init__(
        self,
        label: str | None = None,
        *,
        schemes: Iterable[str] = ("http", "https"),
        max_length: int = 2048,
        **options: Unpack[FieldOptions[str]],
    ) -> None:
        super().__init__(label, max_length=max_length, **options)
        self._url = URL(schemes, (options.get("messages") or {}).get("invalid"))

    def to_python(self, raw: str, bound: BoundField[str]) -> str:
        value = super().to_python(raw, bound)
        self._url(value)
        return value


# Numbers as <input type="number"> sends them: no exponent, no NaN or infinity.
# ASCII digits only: int() and Decimal() would also take other scripts' digits.
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_NUMBER_LENGTH: Final = 100


class _RangeField(Field[T]):
    """Shared by the number and date fields: ``min_value`` and ``max_value``, both included."""

    def __init__(
        self,
        label: str | None = None,
        *,
        min_value: T | None = None,
        max_value: T | None = None,
        **options: Unpack[FieldOptions[T]],
    ) -> None:
        if min_value is not None or max_value is not None:
            bounds = Range(min=min_value, max=max_value)
            options["validators"] = [bounds, *options.get("validators", ())]
        super().__init__(label, **options)
        self.min_value = min_value
        self.max_value = max_value

    def constraints(self) -> dict[str, Any]:
        return {
            **super().constraints(),
            "min": self.format(self.min_value),
            "max": self.format(self.max_value),
        }


class _NumberField(_RangeField[T]):
    """Shared by the number fields: a cap on the digits parsed."""

    input_type: ClassVar[str] = "number"

    def to_python(self, raw: str, bound: BoundField[T]) -> T:
        if len(raw) > _MAX_NUMBER_LENGTH:
            raise self.error("invalid")
        return self.parse(raw)

    def parse(self, raw: str) -> T:
        """Parse a number of at most ``_MAX_NUMBER_LENGTH`` characters."""
        raise NotImplementedError


class IntegerField(_NumberField[int]):
    """A whole number (``<input type="number">``); ``min_value``/``max_value`` bound it."""

    default_messages: ClassVar[Mapping[str, str]] = {"invalid": "Enter a whole number."}

    def parse(self, raw: str) -> int:
        if _INTEGER.fullmatch(raw) is None:
            raise self.error("invalid")
        return int(raw)


class FloatField(_NumberField[float]):
    """A number as a ``float`` (``<input type="number" step="any">``)."""

    default_messages: ClassVar[Mapping[str, str]] = {"invalid": "Enter a number."}

    def parse(self, raw: str) -> float:
        if _DECIMAL.fullmatch(raw) is None:
            raise self.error("invalid")
        return float(raw)

    def constraints(self) -> dict[str, Any]:
        return {**super().constraints(), "step": "any"}


class DecimalField(_NumberField[Decimal]):
    """An exact number as a ``Decimal`` (money, measures).

    Args:
        max_digits: Most digits in all (as ``Numeric(precision)``).
        decimal_places: Most digits after the point (as ``Numeric(..., scale)``);
            it also sets the input's ``step``.
    """

    default_messages: ClassVar[Mapping[str, str]] = {
        "invalid": "Enter a number.",
        "max_digits": "Ensure there are no more than {digits} digits in total.",
        "decimal_places": "Ensure there are no more than {places} decimal places.",
        "whole_digits": "Ensure there are no more than {digits} digits before the decimal point.",
    }

    def __init__(
        self,
        label: str | None = None,
        *,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        min_value: Decimal | None = None,
        max_value: Decimal | None = None,
        **options: Unpack[FieldOptions[Decimal]],
    ) -> None:
        super().__init__(label, min_value=min_value, max_value=max_value, **options)
        self.max_digits = max_digits
        self.decimal_places = decimal_places

    def parse(self, raw: str) -> Decimal:
        if _DECIMAL.fullmatch(raw) is None:
            raise self.error("invalid")
        value = Decimal(raw)  # the pattern admits no NaN, infinity or exponent
        _sign, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):  # pragma: no cover - only NaN and infinity have none
            raise self.error("invalid")
        places = max(-exponent, 0)
        whole = max(len(digits) + exponent, 0)
        if self.decimal_places is not None and places > self.decimal_places:
            raise self.error("decimal_places", places=self.decimal_places)
        if self.max_digits is not None and whole + places > self.max_digits:
            raise self.error("max_digits", digits=self.max_digits)
        if self.max_digits is not None and self.decimal_places is not None:
            # Numeric(5, 2) keeps 3 digits before the point, however few follow it.
            whole_limit = self.max_digits - self.decimal_places
            if whole > whole_limit:
                raise self.error("whole_digits", digits=whole_limit)
        return value

    def constraints(self) -> dict[str, Any]:
        step = (
            "any" if self.decimal_places is None else str(Decimal(1).scaleb(-self.decimal_places))
        )
        return {**super().constraints(), "step": step}


class DateField(_RangeField[date]):
    """A date (``<input type="date">``, which sends ``YYYY-MM-DD`` in every locale)."""

    input_type: ClassVar[str] = "date"
    default_messages: ClassVar[Mapping[str, str]] = {"invalid": "Enter a valid date (YYYY-MM-DD)."}

    def to_python(self, raw: str, bound: BoundField[date]) -> date:
        if _DATE.fullmatch(raw) is None:
            raise self.error("invalid")
        try:
            return date.fromisoformat(raw)
        except ValueError:  # February 30th
            raise self.error("invalid") from None

    def format(self, value: Any) -> str | None:
        if isinstance(value, datetime):
            value = value.date()
        return value.isoformat() if isinstance(value, date) else None


# What an unchecked box could mean, from clients that send one (a hidden "0" before the box).
_FALSE_VALUES: Final = frozenset({"", "0", "false", "off", "no"})


class BooleanField(Field[bool]):
    """A checkbox: ``True`` when ticked, ``False`` when not (browsers then send nothing).

    Optional by default; ``required=True`` makes ticking it mandatory ("I accept
    the terms").
    """

    input_type: ClassVar[str] = "checkbox"

    def __init__(
        self,
        label: str | None = None,
        **options: Unpack[FieldOptions[bool]],
    ) -> None:
        options.setdefault("required", False)
        super().__init__(label, **options)

    def extract(self, values: list[RawValue]) -> str | None:
        # Several values are fine: a hidden "0" followed by the box's own value, say.
        texts = [self.text(value) for value in values]
        return "on" if any(t.strip().lower() not in _FALSE_VALUES for t in texts) else None

    def to_python(self, raw: str, bound: BoundField[bool]) -> bool:
        return True

    def empty(self) -> bool:
        return False

    def is_empty(self, value: Any) -> bool:
        return value is None or value is False

    def render(self, bound: BoundField[bool], attrs: Mapping[str, Any]) -> Markup:
        if bound.form.is_bound:
            try:
                checked = self.extract(bound.raw) is not None
            except ValidationError:
                checked = False
        else:
            checked = bool(bound.initial)
        base = {
            "type": "checkbox",
            "name": bound.name,
            "id": bound.id,
            "checked": checked,
            **self.constraints(),
        }
        return void_element("input", bound.widget_attrs(base, attrs))
