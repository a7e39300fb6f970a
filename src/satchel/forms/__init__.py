"""HTML forms: declared, typed fields bound to a request, validated, rendered accessibly.

Needs MarkupSafe, which the ``templates`` extra brings (``pip install
'satchel[templates]'``); without it importing this package raises
``MissingDependencyError``. ``ModelForm`` loads ``satchel.db`` (SQLAlchemy) on
first use only.

>>> from satchel.forms import Form, IntegerField, StringField
>>> class BookForm(Form, csrf=False):
...     title = StringField("Title", max_length=100)
...     pages = IntegerField("Pages", min_value=1)
>>> form = BookForm({"title": "Dune", "pages": "0"})
>>> form.validate(), form.errors
(False, {'pages': ['Ensure this value is greater than or equal to 1.']})
"""

from __future__ import annotations

import typing as _typing

from satchel.errors import MissingDependencyError

try:
    import markupsafe as _markupsafe  # noqa: F401  (checked first, for a clear message)
except ImportError as exc:
    raise MissingDependencyError("markupsafe", "templates") from exc

from satchel.forms import validators
from satchel.forms.bound import BoundField, Label
from satchel.forms.choices import Choice, ChoiceField, MultipleChoiceField
from satchel.forms.fields import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    Field,
    FieldOptions,
    FloatField,
    HiddenField,
    InputOptions,
    IntegerField,
    PasswordField,
    StringField,
    TextField,
    URLField,
)
from satchel.forms.files import FileField
from satchel.forms.forms import Form, FormInput
from satchel.forms.validators import ValidationError
from satchel.lazyexports import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from satchel.forms.models import ModelForm

# Loaded on first use (PEP 562): only apps with model forms import SQLAlchemy.
_LAZY = {"ModelForm": "satchel.forms.models"}

if not _typing.TYPE_CHECKING:  # hidden from type checkers: a typo stays a typing error
    __getattr__ = _lazy_exports(__name__, globals(), _LAZY)

__all__ = [
    "BooleanField",
    "BoundField",
    "Choice",
    "ChoiceField",
    "DateField",
    "DecimalField",
    "EmailField",
    "Field",
    "FieldOptions",
    "FileField",
    "FloatField",
    "Form",
    "FormInput",
    "HiddenField",
    "InputOptions",
    "IntegerField",
    "Label",
    "ModelForm",
    "MultipleChoiceField",
    "PasswordField",
    "StringField",
    "TextField",
    "URLField",
    "ValidationError",
    "validators",
]
