"""Choice fields: one value, or several, out of a declared list (``<select>``, radios, checkboxes).

Only declared values are accepted; anything else a client sends is an error,
never passed on. The value the form gives is the declared one (an ``int``, an
``Enum`` member...), not the text that came with the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, TypeVar, Unpack, overload

from markupsafe import Markup

from satchel.forms.fields import Field, FieldOptions, RawValue, humanize
from satchel.forms.html import element, void_element

if TYPE_CHECKING:
    from satchel.forms.bound import BoundField

__all__ = [
    "Choice",
    "ChoiceField",
    "ChoicesInput",
    "MultipleChoiceField",
    "check_choices_apply",
    "choice_key",
    "normalize_choices",
]

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

#: Choices as declared: ``(value, label)`` pairs, or an ``Enum`` class.
ChoicesInput = Iterable[tuple[T, str]] | type[T]


class Choice(NamedTuple):
    """One choice: the text sent on the wire, the value it stands for, its label."""

    key: str
    value: Any
    label: str


def choice_key(value: Any) -> str:
    """The text that stands for ``value`` in the HTML (an ``Enum`` member by its value).

    >>> import enum
    >>> class Size(enum.Enum):
    ...     SMALL = 1
    >>> choice_key(Size.SMALL), choice_key(3), choice_key("a")
    ('1', '3', 'a')
    """
    return str(value.value) if isinstance(value, Enum) else str(value)


def normalize_choices(choices: ChoicesInput[Any]) -> tuple[Choice, ...]:
    """The choices as :class:`Choice` tuples; an ``Enum``'s labels come from its names.

    A member's ``label`` attribute, when it has one, is its label.

    Raises:
        ValueError: two choices have the same text on the wire.
    """
    if isinstance(choices, type) and issubclass(choices, Enum):
        pairs: list[tuple[Any, str]] = [
            (member, str(getattr(member, "label", humanize(member.name.lower()))))
            for member in choices
        ]
    else:
        pairs = list(choices)  # type: ignore[arg-type]
    found: dict[str, Choice] = {}
    for value, label in pairs:
        key = choice_key(value)
        if key in found:
            raise ValueError(f"Two choices are sent as {key!r}")
        found[key] = Choice(key, value, label)
    return tuple(found.values())


class ChoiceField(Field[T]):
    """One value out of ``choices`` (a ``<select>``, or radio buttons).

    Args:
        choices: ``(value, label)`` pairs, or an ``Enum`` class. A form can
            replace them per instance: ``form.author.choices = [...]``.
        widget: ``"select"`` or ``"radio"``.
        blank_label: The label of the empty first option of a ``<select>``, shown
            when the field is optional or nothing is selected yet.
    """

    default_messages: ClassVar[Mapping[str, str]] = {"invalid": "Select a valid choice."}

    # Two signatures, so that type checkers infer the value type from either kind of choices.
    @overload
    def __init__(
        self: ChoiceField[E],
        label: str | None = None,
        *,
        choices: type[E],
        widget: Literal["select", "radio"] = "select",
        blank_label: str = "---------",
        **options: Unpack[FieldOptions[E]],
    ) -> None: ...
    @overload
    def __init__(
        self,
        label: str | None = None,
        *,
        choices: Iterable[tuple[T, str]],
        widget: Literal["select", "radio"] = "select",
        blank_label: str = "---------",
        **options: Unpack[FieldOptions[T]],
    ) -> None: ...
    def __init__(
        self,
        label: str | None = None,
        *,
        choices: ChoicesInput[Any],
        widget: Literal["select", "radio"] = "select",
        blank_label: str = "---------",
        **options: Unpack[FieldOptions[Any]],
    ) -> None:
        super().__init__(label, **options)
        self.choices = normalize_choices(choices)
        self.widget = widget
        self.grouped = widget == "radio"
        self.blank_label = blank_label

    def to_python(self, raw: str, bound: BoundField[T]) -> T:
        for choice in bound.choices or ():
            if choice.key == raw:
                return choice.value  # type: ignore[no-any-return]
        raise self.error("invalid")

    def format(self, value: Any) -> str | None:
        return None if value is None else choice_key(value)

    def render(self, bound: BoundField[T], attrs: Mapping[str, Any]) -> Markup:
        shown = self.shown(bound)
        selected = {shown} if isinstance(shown, str) else set()
        if self.grouped:
            return render_group(bound, "radio", selected, attrs, required=self.required)
        blank = not self.required or not selected
        return render_select(bound, selected, attrs, blank=self.blank_label if blank else None)


class MultipleChoiceField(Field[list[T]]):
    """Any number of values out of ``choices`` (``<select multiple>``, or checkboxes).

    The value is a list in the order of ``choices`` without repeats; sending a
    value twice selects it once. Required means at least one.

    Args:
        choices: ``(value, label)`` pairs, or an ``Enum`` class.
        widget: ``"select"`` or ``"checkbox"``.
    """

    default_messages: ClassVar[Mapping[str, str]] = {"invalid": "Select valid choices only."}

    @overload
    def __init__(
        self: MultipleChoiceField[E],
        label: str | None = None,
        *,
        choices: type[E],
        widget: Literal["select", "checkbox"] = "select",
        **options: Unpack[FieldOptions[list[E]]],
    ) -> None: ...
    @overload
    def __init__(
        self,
        label: str | None = None,
        *,
        choices: Iterable[tuple[T, str]],
        widget: Literal["select", "checkbox"] = "select",
        **options: Unpack[FieldOptions[list[T]]],
    ) -> None: ...
    def __init__(
        self,
        label: str | None = None,
        *,
        choices: ChoicesInput[Any],
        widget: Literal["select", "checkbox"] = "select",
        **options: Unpack[FieldOptions[Any]],
    ) -> None:
        super().__init__(label, **options)
        self.choices = normalize_choices(choices)
        self.widget = widget
        self.grouped = widget == "checkbox"

    def clean(self, bound: BoundField[list[T]]) -> list[T] | None:
        keys = self.keys(bound.raw)
        if not keys:
            if self.required:
                raise self.error("required")
            return self.empty()
        by_key = {choice.key: choice.value for choice in bound.choices or ()}
        if any(key not in by_key for key in keys):
            raise self.error("invalid")
        return [by_key[key] for key in by_key if key in keys]

    def keys(self, values: list[RawValue]) -> set[str]:
        """The distinct non-empty texts submitted."""
        keys: set[str] = set()
        for value in values:
            if key := self.text(value).strip():
                keys.add(key)
        return keys

    def empty(self) -> list[T]:
        return []

    def is_empty(self, value: Any) -> bool:
        return not value

    def format(self, value: Any) -> list[str] | None:
        return None if value is None else [choice_key(item) for item in value]

    def shown(self, bound: BoundField[list[T]]) -> list[str] | None:
        if bound.form.is_bound:
            return [v for v in bound.raw if isinstance(v, str)]
        return self.format(bound.initial)

    def render(self, bound: BoundField[list[T]], attrs: Mapping[str, Any]) -> Markup:
        selected = set(self.shown(bound) or ())
        if self.grouped:
            # `required` on a checkbox means that box must be ticked: never right for a group.
            return render_group(bound, "checkbox", selected, attrs, required=False)
        return render_select(bound, selected, {"multiple": True, **attrs}, blank=None)


def render_select(
    bound: BoundField[Any], selected: set[str], attrs: Mapping[str, Any], *, blank: str | None
) -> Markup:
    """A ``<select>`` with an option per choice, after an empty one labelled ``blank`` if given."""
    options: list[Markup] = []
    if blank is not None:
        options.append(element("option", {"value": ""}, blank))
    for choice in bound.choices or ():
        options.append(
            element(
                "option", {"value": choice.key, "selected": choice.key in selected}, choice.label
            )
        )
    base = {"name": bound.name, "id": bound.id, "required": bound.field.required}
    return element("select", bound.widget_attrs(base, attrs), options)


def render_group(
    bound: BoundField[Any],
    input_type: str,
    selected: set[str],
    attrs: Mapping[str, Any],
    *,
    required: bool,
) -> Markup:
    """A radio button or checkbox per choice, each with its label."""
    rows: list[Markup] = []
    for index, choice in enumerate(bound.choices or ()):
        option_id = f"{bound.id}-{index}"
        base = {
            "type": input_type,
            "name": bound.name,
            "id": option_id,
            "value": choice.key,
            "checked": choice.key in selected,
            "required": required,
        }
        box = void_element("input", bound.widget_attrs(base, attrs))
        label = element("label", {"for": option_id}, choice.label)
        rows.append(element("div", {"class": "choice"}, [box, label]))
    return Markup("\n").join(rows)


def check_choices_apply(field: Field[Any]) -> None:
    """Refuse to set choices on a field that has none.

    Raises:
        TypeError: ``field`` is not a choice field.
    """
    if not isinstance(field, ChoiceField | MultipleChoiceField):
        raise TypeError(f"{field!r} is not a choice field: it has no choices to replace")
