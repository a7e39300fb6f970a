"""Helpers shared by the forms tests: a one-field form, and tokens read from rendered pages."""

from __future__ import annotations

import re
import types
from typing import Any, TypeVar

from satchel.forms import BoundField, Field, Form

T = TypeVar("T")

#: What a browser sends with a same-origin form POST (the test client sends what it is told).
BROWSER_HEADERS = {"origin": "https://testserver"}
SECRET_KEY = "forms-test-key-" + "f" * 40


def one_field_form(field: Field[Any]) -> type[Form]:
    """A form class whose only field is ``field``, named ``value``."""
    return types.new_class("OneField", (Form,), {"csrf": False}, lambda ns: ns.update(value=field))


def submit(field: Field[T], *values: Any) -> BoundField[T]:
    """``field`` after validating a submission of ``values`` under its name."""
    form = one_field_form(field)({"value": list(values)})
    form.validate()
    bound: BoundField[T] = form["value"]
    return bound


def parsed(field: Field[T], *values: Any) -> T | None:
    """The value ``field`` gives for ``values``; fails the test if it has errors."""
    bound = submit(field, *values)
    assert bound.errors == [], bound.errors
    return bound.data


def errors(field: Field[Any], *values: Any) -> list[str]:
    """The messages ``field`` gives for ``values``."""
    return submit(field, *values).errors


def csrf_token_in(html: str) -> str:
    """The CSRF token a rendered form carries."""
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match is not None, html
    return match[1]
