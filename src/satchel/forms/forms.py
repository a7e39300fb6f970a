"""``Form``: declared fields, bound to a request's input, validated, rendered as HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final, Self, cast

from markupsafe import Markup, escape

from satchel.csrf import CSRF_FIELD, csrf_input
from satchel.forms.bound import BoundField
from satchel.forms.fields import Field, RawValue
from satchel.forms.files import FileField
from satchel.forms.html import element
from satchel.forms.validators import ValidationError
from satchel.requests import Request

__all__ = ["Form", "FormInput", "submitted_input"]

#: What a form binds to: a parsed request form (``await request.form()``), any
#: ``MultiDict``, or a mapping of names to a value or a list of values.
FormInput = Mapping[str, RawValue | Sequence[RawValue]]

# Methods that only show a form: a request with one of them leaves it unbound.
_DISPLAY_METHODS: Final = frozenset({"GET", "HEAD"})
_PREFIX: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Names a field must not take besides those of its base classes: the instance's
# attributes, ModelForm.model (None on the base class), and the CSRF field's.
_RESERVED: Final = frozenset(
    {"request", "prefix", "initial", "is_bound", "form_errors", "obj", "model", CSRF_FIELD}
)


class Form:
    """A declared set of fields, bound to submitted input and validated.

    >>> from satchel.forms import BooleanField, Form, StringField
    >>> class ArticleForm(Form, csrf=False):
    ...     title = StringField("Title", max_length=200)
    ...     published = BooleanField("Published")
    >>> form = ArticleForm({"title": "  Hello  "})
    >>> form.validate(), form.data
    (True, {'title': 'Hello', 'published': False})

    Args:
        data: The submitted input; None for a form that only shows ``initial``.
            :meth:`from_request` passes ``await request.form()``.
        initial: Values an unbound form shows, by field name (over the fields'
            ``default``).
        request: The request, needed to render the CSRF field.
        prefix: Names inputs ``prefix-name``, for several forms on one page.

    Subclass options: ``class SearchForm(Form, csrf=False)`` renders no CSRF field
    (for forms sent with GET, or outside a browser).

    Attributes:
        is_bound: The form has submitted input.
        form_errors: Errors not tied to one field (from :meth:`clean`).
    """

    #: Render the CSRF field (the CSRF middleware checks it).
    csrf: ClassVar[bool] = True
    _fields: ClassVar[dict[str, Field[Any]]] = {}

    def __init_subclass__(cls, *, csrf: bool | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if csrf is not None:
            cls.csrf = csrf
        fields: dict[str, Field[Any]] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Field):
                    fields[name] = value
                elif name in fields:
                    if value is not None:
                        raise TypeError(
                            f"{klass.__name__}.{name} hides a field of a base class; "
                            "set it to None to remove the field"
                        )
                    del fields[name]  # a subclass removes a field by setting it to None
        # A field must not hide what a base class defines (the form's API, a mixin's method).
        inherited = {
            name
            for klass in cls.__mro__[1:]
            for name, value in vars(klass).items()
            if value is not None and not isinstance(value, Field)
        }
        for name in fields:
            if name.startswith("_") or name in _RESERVED or name in inherited:
                raise TypeError(f"{cls.__name__}.{name}: this name is reserved for the form's API")
        cls._fields = fields

    def __init__(
        self,
        data: FormInput | None = None,
        *,
        initial: Mapping[str, Any] | None = None,
        request: Request | None = None,
        prefix: str = "",
    ) -> None:
        if prefix and _PREFIX.fullmatch(prefix) is None:
            raise ValueError(f"Form prefix {prefix!r} must be letters, digits and underscores")
        self.request = request
        self.prefix = prefix
        self.initial: dict[str, Any] = dict(initial or {})
        self.is_bound = data is not None
        self.form_errors: list[str] = []
        self._valid: bool | None = None
        self._cleaned: dict[str, Any] = {}
        self._bound: dict[str, BoundField[Any]] = {}
        for name, field in self._fields.items():
            html_name = f"{prefix}-{name}" if prefix else name
            self._bound[name] = BoundField(self, field, html_name, _values(data, html_name))

    @classmethod
    async def from_request(
        cls, request: Request, *, initial: Mapping[str, Any] | None = None, prefix: str = ""
    ) -> Self:
        """The form for ``request``: unbound for GET and HEAD, else bound to its form body.

        Raises:
            UnsupportedMediaType: the body is not a form (415).
            BadRequest: the body is malformed or not valid in its charset (400).
            PayloadTooLarge: the body crosses the app's form limits (413).
        """
        return cls(await submitted_input(request), initial=initial, request=request, prefix=prefix)

    # -- validation ------------------------------------------------------------------------

    def validate(self) -> bool:
        """Parse and check every field, then :meth:`clean`; True when nothing failed.

        An unbound form is never valid (and has no errors). Every field is checked,
        so the user sees all the problems at once.
        """
        self.form_errors = []
        self._cleaned = {}
        if not self.is_bound:
            self._valid = False
            return False
        for name, bound in self._bound.items():
            if bound.validate():
                self._cleaned[name] = bound.data
        try:
            self.clean(self._cleaned)
        except ValidationError as exc:
            self.form_errors.append(exc.message)
        self._valid = not self.form_errors and not any(b.errors for b in self)
        return self._valid

    def clean(self, data: dict[str, Any]) -> None:
        """Check fields against each other; override it (the default checks nothing).

        ``data`` holds the values of the fields that passed their own checks (use
        ``data.get``); change it to change ``form.data``. Raise ``ValidationError``
        for an error about the whole form, or call :meth:`add_error` for one
        that belongs to a field.
        """

    def add_error(self, field: str | None, message: str) -> None:
        """Record ``message`` against ``field`` (None: the whole form); the form is then invalid.

        Raises:
            KeyError: the form has no field ``field``.
        """
        if field is None:
            self.form_errors.append(message)
        else:
            self[field].errors.append(message)
            self._cleaned.pop(field, None)
        self._valid = False

    @property
    def data(self) -> dict[str, Any]:
        """The parsed values by field name, once :meth:`validate` has returned True.

        Raises:
            RuntimeError: the form was not validated, or is not valid.
        """
        if not self._valid:
            raise RuntimeError("form.data holds values only after validate() returned True")
        return self._cleaned

    @property
    def errors(self) -> dict[str, list[str]]:
        """The messages of each field that failed, by field name (see also ``form_errors``)."""
        return {name: list(bound.errors) for name, bound in self._bound.items() if bound.errors}

    # -- fields ----------------------------------------------------------------------------

    def __getitem__(self, name: str) -> BoundField[Any]:
        try:
            return self._bound[name]
        except KeyError:
            raise KeyError(f"{type(self).__name__} has no field {name!r}") from None

    def __iter__(self) -> Iterator[BoundField[Any]]:
        return iter(self._bound.values())

    def __contains__(self, name: object) -> bool:
        return name in self._bound

    @property
    def visible_fields(self) -> list[BoundField[Any]]:
        """The fields shown to the user, in declaration order."""
        return [bound for bound in self if not bound.field.hidden]

    @property
    def hidden_fields(self) -> list[BoundField[Any]]:
        """The hidden inputs, in declaration order."""
        return [bound for bound in self if bound.field.hidden]

    # -- HTML ------------------------------------------------------------------------------

    @property
    def enctype(self) -> str:
        """The ``<form enctype>`` it needs: multipart when it has a file field."""
        if any(isinstance(bound.field, FileField) for bound in self):
            return "multipart/form-data"
        return "application/x-www-form-urlencoded"

    @property
    def csrf_input(self) -> Markup:
        """The hidden CSRF token field (empty for ``csrf=False`` forms).

        Raises:
            RuntimeError: the form has no request to make a token for.
        """
        if not self.csrf:
            return Markup("")
        if self.request is None:
            raise RuntimeError(
                f"{type(self).__name__} renders a CSRF field, which needs the request: "
                "build it with from_request(request) or request=request, "
                "or declare it with csrf=False"
            )
        # Hex inside fixed markup (see satchel.csrf.csrf_input): nothing to escape.
        return Markup(csrf_input(self.request))  # noqa: S704

    @property
    def errors_html(self) -> Markup:
        """The form's own errors and those of hidden fields, in a ``role="alert"`` list."""
        messages = list(self.form_errors)
        for bound in self.hidden_fields:
            messages.extend(f"{bound.field.label}: {message}" for message in bound.errors)
        if not messages:
            return Markup("")
        items = [element("li", {}, message) for message in messages]
        return element("div", {"class": "form-errors", "role": "alert"}, [element("ul", {}, items)])

    def __html__(self) -> str:
        parts = [self.csrf_input, self.errors_html]
        parts.extend(escape(bound) for bound in self.visible_fields)  # escape() uses __html__
        parts.extend(escape(bound) for bound in self.hidden_fields)
        return Markup("\n").join(part for part in parts if part)

    def __str__(self) -> str:
        return self.__html__()

    def __repr__(self) -> str:
        state = (
            "unbound"
            if not self.is_bound
            else {None: "bound", True: "valid"}.get(self._valid, "invalid")
        )
        return f"<{type(self).__name__} {state}>"


async def submitted_input(request: Request) -> FormInput | None:
    """The form input ``request`` carries: None for GET and HEAD, else its parsed form body."""
    if request.method in _DISPLAY_METHODS:
        return None
    return await request.form()


def _values(data: FormInput | None, name: str) -> list[RawValue]:
    """Every value submitted under ``name``."""
    if data is None:
        return []
    getall = getattr(data, "getall", None)
    if getall is not None:  # a MultiDict, like the request's form
        return list(getall(name))
    value = data.get(name)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    # One value. Anything but text or an upload (a number in a JSON body, say) is then
    # refused by the field with a message, like any other input it cannot take.
    return [cast(RawValue, value)]
