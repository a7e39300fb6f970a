"""``BoundField``: a field of one form instance, with its input, value, errors and HTML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from markupsafe import Markup

from satchel.forms.choices import Choice, ChoicesInput, check_choices_apply, normalize_choices
from satchel.forms.fields import Field, RawValue
from satchel.forms.html import attribute_name, element
from satchel.forms.validators import ValidationError

if TYPE_CHECKING:
    from satchel.forms.forms import Form

__all__ = ["BoundField", "Label"]

T = TypeVar("T")


class Label:
    """A field's label: ``{{ field.label }}``, or ``field.label(class_="x")`` with attributes.

    Attributes:
        text: The label's text (escaped when rendered, unless it is ``Markup``).
    """

    __slots__ = ("_field_id", "_legend", "text")

    def __init__(self, text: str, field_id: str, *, legend: bool = False) -> None:
        self.text = text
        self._field_id = field_id
        self._legend = legend

    def __call__(self, **attrs: Any) -> Markup:
        """The ``<label for=...>`` (a ``<legend>`` for a group of inputs), with ``attrs``."""
        if self._legend:
            return element("legend", attrs, self.text)
        return element("label", {"for": self._field_id, **attrs}, self.text)

    def __html__(self) -> str:
        return self()

    def __str__(self) -> str:
        return self()

    def __repr__(self) -> str:
        return f"<Label {self.text!r}>"


class BoundField(Generic[T]):
    """A field in a form instance: ``form.title`` (or ``form["title"]``).

    ``{{ form.title }}`` renders the whole row (label, help, errors, widget); the
    parts render alone for custom layouts: ``label``, ``widget()``, ``help_html``
    and ``errors_html``, whose ids ``widget()`` already points to with
    ``aria-describedby``.

    Attributes:
        form: The form.
        field: The declared field.
        name: The input's name (with the form's prefix).
        id: The input's id, which the label's ``for`` names.
        raw: The values submitted under ``name`` (empty for an unbound form).
        errors: The messages from the last ``validate()``.
    """

    __slots__ = ("_choices", "_data", "_initial", "errors", "field", "form", "id", "name", "raw")

    def __init__(self, form: Form, field: Field[T], name: str, raw: list[RawValue]) -> None:
        self.form = form
        self.field = field
        self.name = name
        self.id = f"id_{name}"
        self.raw = raw
        self.errors: list[str] = []
        self._data: T | None = None
        self._initial: Any = _UNSET
        self._choices: tuple[Choice, ...] | None = None

    # -- values ----------------------------------------------------------------------------

    @property
    def initial(self) -> Any:
        """The value an unbound form shows: the form's ``initial``, else the field's default."""
        if self._initial is _UNSET:
            if self.field.name in self.form.initial:
                self._initial = self.form.initial[self.field.name]
            else:
                default = self.field.default
                self._initial = default() if callable(default) else default
        return self._initial

    @property
    def data(self) -> T | None:
        """The parsed value after ``form.validate()`` (None if it failed); unbound: the initial."""
        if not self.form.is_bound:
            return self.initial  # type: ignore[no-any-return]
        return self._data

    @property
    def value(self) -> str | list[str] | None:
        """The text the widget shows: what was submitted, else the initial value, formatted."""
        return self.field.shown(self)

    @property
    def choices(self) -> tuple[Choice, ...] | None:
        """The choices of a choice field (None for other fields)."""
        if self._choices is not None:
            return self._choices
        choices: tuple[Choice, ...] | None = getattr(self.field, "choices", None)
        return choices

    @choices.setter
    def choices(self, choices: ChoicesInput[Any]) -> None:
        check_choices_apply(self.field)
        self._choices = normalize_choices(choices)

    def validate(self) -> bool:
        """Parse and check the submitted input; set ``errors`` and ``data``; True if valid."""
        self.errors = []
        self._data = None
        try:
            value = self.field.clean(self)
        except ValidationError as exc:
            self.errors.append(exc.message)
            return False
        if not self.field.is_empty(value):
            self.errors.extend(self.field.check(value))  # type: ignore[arg-type]
        if self.errors:
            return False
        self._data = value
        return True

    # -- HTML ------------------------------------------------------------------------------

    @property
    def label(self) -> Label:
        """The label (a ``<legend>`` for radio buttons and checkbox groups)."""
        return Label(self.field.label or "", self.id, legend=self.field.grouped)

    @property
    def help_id(self) -> str:
        return f"{self.id}-help"

    @property
    def errors_id(self) -> str:
        return f"{self.id}-errors"

    @property
    def help_html(self) -> Markup:
        """The help text in ``<p class="help" id=...>``, or nothing."""
        if not self.field.help_text:
            return Markup("")
        return element("p", {"class": "help", "id": self.help_id}, self.field.help_text)

    @property
    def errors_html(self) -> Markup:
        """The errors in ``<ul class="errors" id=...>``, or nothing."""
        if not self.errors:
            return Markup("")
        items = [element("li", {}, message) for message in self.errors]
        return element("ul", {"class": "errors", "id": self.errors_id}, items)

    def widget(self, **attrs: Any) -> Markup:
        """The input's HTML, with ``attrs`` added: ``widget(class_="wide", data_id=3)``."""
        return self.field.render(self, attrs)

    def widget_attrs(self, base: Mapping[str, Any], attrs: Mapping[str, Any]) -> dict[str, Any]:
        """The widget's attributes: ``base``, the accessibility ones, the field's, ``attrs``."""
        merged: dict[str, Any] = {}
        accessibility: dict[str, Any] = {}
        if not self.field.hidden:  # a hidden input's errors are listed with the form's
            described = [self.help_id] if self.field.help_text else []
            described += [self.errors_id] if self.errors else []
            accessibility = {
                "aria-invalid": "true" if self.errors else None,
                "aria-describedby": " ".join(described) or None,
            }
        for layer in (base, accessibility, self.field.attrs, attrs):
            for name, value in layer.items():
                merged[attribute_name(name)] = value
        return merged

    def __html__(self) -> str:
        field = self.field
        if field.hidden:
            return self.widget()
        classes = "field invalid" if self.errors else "field"
        parts = [self.label(), self.help_html, self.errors_html]
        # A lone checkbox goes before its label; every other widget after its errors.
        if field.input_type == "checkbox" and not field.grouped:
            parts.insert(0, self.widget())
        else:
            parts.append(self.widget())
        tag = "fieldset" if field.grouped else "div"
        return element(tag, {"class": classes}, [p for p in parts if p])

    def __str__(self) -> str:
        return self.__html__()

    def __repr__(self) -> str:
        return f"<BoundField {self.name!r} errors={self.errors!r}>"


class _Unset:
    __slots__ = ()


_UNSET: Any = _Unset()
