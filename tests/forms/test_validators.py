"""The validators, alone and as field options, and custom callables."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from satchel.datastructures import Headers
from satchel.forms import (
    IntegerField,
    MultipleChoiceField,
    StringField,
    ValidationError,
    validators,
)
from satchel.uploads import UploadFile
from tests.forms.support import errors, parsed


def fails(check: Callable[[Any], None], value: object) -> str:
    with pytest.raises(ValidationError) as caught:
        check(value)
    return caught.value.message


def test_length_counts_characters_or_items() -> None:
    assert fails(validators.Length(min=2), "a") == (
        "Ensure this value has at least 2 characters (it has 1)."
    )
    assert fails(validators.Length(max=1), ["a", "b"]) == (
        "Ensure this value has at most 1 item (it has 2)."
    )
    assert fails(validators.Length(max=1, message="Pick one."), "ab") == "Pick one."
    validators.Length(min=1, max=2)("ab")
    with pytest.raises(ValueError, match="min, max or both"):
        validators.Length()


def test_range_works_for_numbers_and_dates() -> None:
    validators.Range(min=1, max=3)(2)
    assert fails(validators.Range(max=date(2024, 1, 1)), date(2024, 1, 2)) == (
        "Ensure this value is less than or equal to 2024-01-01."
    )
    assert fails(validators.Range(min=0, message="No debts."), -1) == "No debts."
    with pytest.raises(ValueError, match="min, max or both"):
        validators.Range()


def test_regex_must_match_the_whole_value() -> None:
    check = validators.Regex(r"[A-Z]{3}", "Three capital letters.")
    check("ABC")
    assert fails(check, "ABCD") == "Three capital letters."
    assert fails(validators.Regex(re.compile("[a-z]+")), "a1") == "Enter a valid value."


def test_email_and_url_validators_alone() -> None:
    validators.Email()("ada@example.com")
    assert fails(validators.Email("Bad address."), "ada") == "Bad address."
    validators.URL()("https://example.com")
    assert fails(validators.URL(message="Bad link."), "javascript:alert(1)") == "Bad link."


@pytest.fixture
def upload() -> Iterator[UploadFile]:
    file = UploadFile(
        filename="cat.png",
        content_type="image/png; name=cat",
        headers=Headers([("content-type", "image/png")]),
    )
    asyncio.run(file.write(b"x" * 2500))
    yield file
    file.close_now()


def test_file_size(upload: UploadFile) -> None:
    validators.FileSize(2500)(upload)
    assert fails(validators.FileSize(2000), upload) == (
        "The file is too large (2.5 kB); the limit is 2 kB."
    )


def test_content_type_with_wildcards(upload: UploadFile) -> None:
    validators.ContentType(["image/*"])(upload)
    validators.ContentType(["IMAGE/PNG"])(upload)
    assert fails(validators.ContentType(["application/pdf", "text/*"]), upload) == (
        "Upload a file of one of these types: application/pdf, text/*."
    )
    with pytest.raises(ValueError, match="at least one type"):
        validators.ContentType([])


def test_format_size() -> None:
    assert validators.format_size(999) == "999 bytes"
    assert validators.format_size(1_500_000) == "1.5 MB"
    assert validators.format_size(3 * 10**12) == "3000 GB"


def test_custom_callables_and_every_message_is_reported() -> None:
    def no_admin(value: str) -> None:
        if value.lower() == "admin":
            raise ValidationError("This name is taken.")

    def no_shouting(value: str) -> None:
        if value.isupper():
            raise ValidationError("Please do not shout.")

    field = StringField(validators=[no_admin, no_shouting])
    assert parsed(field, "ada") == "ada"
    assert errors(field, "ADMIN") == ["This name is taken.", "Please do not shout."]


def test_field_options_and_validators_combine() -> None:
    field = IntegerField(min_value=0, validators=[validators.Range(max=9, message="One digit.")])
    assert errors(field, "-1") == ["Ensure this value is greater than or equal to 0."]
    assert errors(field, "10") == ["One digit."]


def test_selection_counts() -> None:
    field = MultipleChoiceField(
        choices=[(n, str(n)) for n in range(5)], validators=[validators.Length(max=2)]
    )
    assert parsed(field, "1", "3") == [1, 3]
    assert errors(field, "1", "2", "3") == ["Ensure this value has at most 2 items (it has 3)."]


def test_other_exceptions_are_bugs_not_messages() -> None:
    def broken(value: str) -> None:
        raise KeyError("internal detail")

    with pytest.raises(KeyError):
        errors(StringField(validators=[broken]), "x")
