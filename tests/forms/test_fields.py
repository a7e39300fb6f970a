"""Each field type: how its text becomes a typed value, and the messages when it cannot."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import pytest

from satchel.forms import (
    BooleanField,
    ChoiceField,
    DateField,
    DecimalField,
    EmailField,
    FileField,
    FloatField,
    HiddenField,
    IntegerField,
    MultipleChoiceField,
    PasswordField,
    StringField,
    TextField,
    URLField,
)
from satchel.uploads import UploadFile
from tests.forms.support import errors, one_field_form, parsed, submit

REQUIRED = ["This field is required."]


class Status(enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "review"
    PUBLISHED = "published"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2

    @property
    def label(self) -> str:
        return {1: "Small (S)", 2: "Large (L)"}[self.value]


# -- text ------------------------------------------------------------------------------


def test_strings_are_stripped_and_empty_means_missing() -> None:
    assert parsed(StringField(), "  Ada  ") == "Ada"
    assert errors(StringField(), "   ") == REQUIRED
    assert errors(StringField()) == REQUIRED
    assert parsed(StringField(required=False), " ") is None
    assert parsed(StringField(required=False)) is None
    assert parsed(StringField(strip=False), "  Ada ") == "  Ada "


def test_string_lengths() -> None:
    field = StringField(min_length=2, max_length=5)
    assert parsed(field, "abcde") == "abcde"
    assert errors(field, "abcdef") == ["Ensure this value has at most 5 characters (it has 6)."]
    assert errors(field, "a") == ["Ensure this value has at least 2 characters (it has 1)."]
    assert parsed(StringField(max_length=3), "\u2603\u2603\u2603") == "\u2603\u2603\u2603"


def test_strings_without_max_length_are_still_bounded() -> None:
    limit = StringField.max_input_length
    assert parsed(StringField(), "x" * limit) == "x" * limit
    assert errors(StringField(), "x" * (limit + 1)) == [
        f"Ensure this value has at most {limit} characters (it has {limit + 1})."
    ]
    text_limit = TextField.max_input_length
    assert text_limit > limit
    assert errors(TextField(), "x" * (text_limit + 1)) == [
        f"Ensure this value has at most {text_limit} characters (it has {text_limit + 1})."
    ]


def test_one_line_strings_refuse_line_breaks_and_control_characters() -> None:
    control = ["Remove the control characters from this value."]
    assert errors(StringField(), "Subject\r\nBcc: victim@example.com") == control
    assert errors(StringField(), "nul\x00byte") == control
    assert errors(StringField(), "bell\x07") == control
    assert parsed(StringField(), "tab\tinside") == "tab\tinside"


def test_text_keeps_line_breaks_as_newlines_and_counts_them_once() -> None:
    field = TextField(max_length=7)
    assert parsed(field, "one\r\ntwo") == "one\ntwo"  # 7 characters once CRLF is one
    assert errors(TextField(), "nul\x00") == ["Remove the control characters from this value."]


def test_passwords_keep_their_spaces() -> None:
    assert parsed(PasswordField(), " pass word ") == " pass word "
    assert errors(PasswordField(), "") == REQUIRED
    assert errors(PasswordField(), "x" * 1025) == [
        "Ensure this value has at most 1024 characters (it has 1025)."
    ]


def test_hidden_fields_are_strings() -> None:
    assert parsed(HiddenField(), "/next") == "/next"
    assert parsed(HiddenField(required=False)) is None


def test_a_repeated_single_value_is_an_error_not_a_guess() -> None:
    assert errors(StringField(), "a", "b") == ["Enter a single value."]
    assert errors(IntegerField(), "1", "2") == ["Enter a single value."]


def test_a_file_where_text_is_expected_is_an_error() -> None:
    upload = UploadFile(filename="a.txt")
    try:
        assert errors(StringField(), upload) == ["Expected text, not a file."]
        assert errors(BooleanField(), upload) == ["Expected text, not a file."]
        assert errors(MultipleChoiceField(choices=[("a", "A")]), upload) == [
            "Expected text, not a file."
        ]
    finally:
        upload.close_now()


def test_messages_can_be_replaced_per_field() -> None:
    field = StringField(messages={"required": "Enter a title."})
    assert errors(field) == ["Enter a title."]
    number = IntegerField(messages={"invalid": "Pages must be a whole number."})
    assert errors(number, "many") == ["Pages must be a whole number."]
    short = StringField(max_length=2, messages={"too_long": "{limit} at most, not {length}."})
    assert errors(short, "abc") == ["2 at most, not 3."]
    braces = StringField(max_length=2, messages={"too_long": "Keep {it} short, {0}."})
    assert errors(braces, "abc") == ["Keep {it} short, {0}."]


# -- email and URL ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["ada@example.com", "a.b+tag@sub.example.co.uk", "x@localhost"])
def test_valid_emails(value: str) -> None:
    assert parsed(EmailField(), f" {value} ") == value


@pytest.mark.parametrize(
    "value",
    [
        "ada",
        "ada@",
        "@example.com",
        "ada@@example.com",
        "ada @example.com",
        "ada@example.com\nBcc: x@example.com",
        "Ada <ada@example.com>",
        "ada@-example.com",
        "a" * 250 + "@example.com",
    ],
)
def test_invalid_emails(value: str) -> None:
    (message,) = errors(EmailField(max_length=1000), value)
    assert message in (
        "Enter a valid email address.",
        "Remove the control characters from this value.",
    )


def test_email_length_limit_is_254() -> None:
    address = "a" * 245 + "@example.com"  # 257 characters
    assert errors(EmailField(), address) == [
        "Ensure this value has at most 254 characters (it has 257)."
    ]


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com",
        "http://example.com:8080/a/b?c=d#e",
        "HTTPS://Example.COM/",
        "https://user@example.com/",
        "http://[::1]:8000/",
        "https://\u00fcnicode.example/",
        "http://localhost/",
    ],
)
def test_valid_urls(value: str) -> None:
    assert parsed(URLField(), value) == value


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/",
        "example.com",
        "/relative/path",
        "http://",
        "http:///evil.example",
        "https://exa mple.com",
        "https://example.com\\@evil.example",
        "http://example.com:port/",
        "http://[not-ipv6]/",
        "ftp://example.com/",
        'https://example.com/"onmouseover="x',
    ],
)
def test_invalid_urls(value: str) -> None:
    assert errors(URLField(), value) == ["Enter a valid URL starting with http:// or https://."]


def test_url_schemes_can_be_chosen() -> None:
    field = URLField(schemes=["https"])
    assert errors(field, "http://example.com") == ["Enter a valid URL starting with https://."]
    assert parsed(URLField(schemes=["ftp"]), "ftp://example.com/") == "ftp://example.com/"


# -- numbers and dates -----------------------------------------------------------------


def test_integers() -> None:
    assert parsed(IntegerField(), " -7 ") == -7
    assert parsed(IntegerField(), "+42") == 42
    for bad in ("1.0", "1e3", "0x10", "one", "\u0663", "1_000", "9" * 101):
        assert errors(IntegerField(), bad) == ["Enter a whole number."], bad


def test_integer_range() -> None:
    field = IntegerField(min_value=1, max_value=10)
    assert parsed(field, "10") == 10
    assert errors(field, "0") == ["Ensure this value is greater than or equal to 1."]
    assert errors(field, "11") == ["Ensure this value is less than or equal to 10."]


def test_floats() -> None:
    assert parsed(FloatField(), "1.5") == 1.5
    assert parsed(FloatField(), ".5") == 0.5
    for bad in ("nan", "inf", "-Infinity", "1e5", "1,5", ""):
        assert errors(FloatField(required=bool(bad)), bad) in ([], ["Enter a number."]), bad
    assert errors(FloatField(), "nan") == ["Enter a number."]


def test_decimals() -> None:
    field = DecimalField(max_digits=5, decimal_places=2)
    assert parsed(field, "123.45") == Decimal("123.45")
    assert parsed(field, "-0.5") == Decimal("-0.5")
    assert errors(field, "1.234") == ["Ensure there are no more than 2 decimal places."]
    assert errors(field, "1234.56") == ["Ensure there are no more than 5 digits in total."]
    assert errors(field, "1234.5") == [
        "Ensure there are no more than 3 digits before the decimal point."
    ]
    assert errors(DecimalField(max_digits=3), "1234") == [
        "Ensure there are no more than 3 digits in total."
    ]
    for bad in ("NaN", "Infinity", "sNaN", "1e2", "1.2.3", "\u0661"):
        assert errors(field, bad) == ["Enter a number."], bad


def test_decimal_range() -> None:
    field = DecimalField(min_value=Decimal("0.01"), max_value=Decimal("100"))
    assert errors(field, "0") == ["Ensure this value is greater than or equal to 0.01."]
    assert errors(field, "100.01") == ["Ensure this value is less than or equal to 100."]


def test_dates() -> None:
    assert parsed(DateField(), "2024-02-29") == date(2024, 2, 29)
    for bad in ("2023-02-29", "20240101", "2024-W01-1", "01/02/2024", "2024-1-1", "tomorrow"):
        assert errors(DateField(), bad) == ["Enter a valid date (YYYY-MM-DD)."], bad
    field = DateField(min_value=date(2024, 1, 1), max_value=date(2024, 12, 31))
    assert errors(field, "2023-12-31") == [
        "Ensure this value is greater than or equal to 2024-01-01."
    ]
    assert errors(field, "2025-01-01") == ["Ensure this value is less than or equal to 2024-12-31."]


# -- checkboxes ------------------------------------------------------------------------


def test_a_missing_checkbox_is_false() -> None:
    assert parsed(BooleanField()) is False
    assert parsed(BooleanField(), "on") is True
    assert parsed(BooleanField(), "y") is True
    for unticked in ("", "0", "false", "OFF", "no"):
        assert parsed(BooleanField(), unticked) is False, unticked
    assert parsed(BooleanField(), "0", "1") is True  # a hidden "0" before the box


def test_a_required_checkbox_must_be_ticked() -> None:
    field = BooleanField("I accept the terms", required=True)
    assert errors(field) == REQUIRED
    assert parsed(field, "on") is True


# -- choices ---------------------------------------------------------------------------


def test_choices_give_the_declared_value() -> None:
    field = ChoiceField(choices=[(1, "One"), (2, "Two")])
    assert parsed(field, "2") == 2
    assert errors(field, "3") == ["Select a valid choice."]
    assert errors(field, "") == REQUIRED
    assert parsed(ChoiceField(choices=[(1, "One")], required=False), "") is None


def test_enum_choices_give_members() -> None:
    field = ChoiceField(choices=Status)
    assert parsed(field, "review") is Status.IN_REVIEW
    assert errors(field, "IN_REVIEW") == ["Select a valid choice."]  # the value, not the name
    assert [(c.key, c.label) for c in one_field_form(field)()["value"].choices or ()] == [
        ("draft", "Draft"),
        ("review", "In review"),
        ("published", "Published"),
    ]
    sizes = one_field_form(ChoiceField(choices=Size))()["value"].choices or ()
    assert [(c.key, c.value, c.label) for c in sizes] == [
        ("1", Size.SMALL, "Small (S)"),
        ("2", Size.LARGE, "Large (L)"),
    ]


def test_choices_must_be_distinct_on_the_wire() -> None:
    with pytest.raises(ValueError, match="Two choices are sent as '1'"):
        ChoiceField(choices=[(1, "int"), ("1", "str")])


def test_choices_can_change_per_form() -> None:
    form = one_field_form(ChoiceField(choices=[(1, "Ada")]))({"value": "2"})
    form["value"].choices = [(1, "Ada"), (2, "Grace")]
    assert form.validate()
    assert form.data == {"value": 2}
    other = one_field_form(ChoiceField(choices=[(1, "Ada")]))({"value": "2"})
    assert not other.validate()  # the class's choices are unchanged
    with pytest.raises(TypeError, match="not a choice field"):
        one_field_form(StringField())()["value"].choices = [(1, "x")]


def test_multiple_choices() -> None:
    field = MultipleChoiceField(choices=[("a", "A"), ("b", "B"), ("c", "C")])
    assert parsed(field, "c", "a") == ["a", "c"]  # in the order of the choices
    assert parsed(field, "b", "b", "b") == ["b"]  # a repeated value counts once
    assert errors(field, "a", "z") == ["Select valid choices only."]
    assert errors(field) == REQUIRED
    assert errors(field, "", " ") == REQUIRED
    assert parsed(MultipleChoiceField(choices=Status, required=False)) == []
    assert parsed(MultipleChoiceField(choices=Status), "published") == [Status.PUBLISHED]


def test_validators_see_only_present_values() -> None:
    seen: list[object] = []
    field = StringField(required=False, validators=[seen.append])
    assert parsed(field, "") is None
    assert parsed(field, "x") == "x"
    assert seen == ["x"]
    assert submit(IntegerField(validators=[seen.append]), "x").errors == ["Enter a whole number."]
    assert seen == ["x"]  # a value that did not parse is not validated


def test_file_fields_without_a_file() -> None:
    assert errors(FileField()) == REQUIRED
    assert errors(FileField(), "") == REQUIRED  # an urlencoded form with the input left empty
    assert parsed(FileField(required=False), " ") is None
    assert errors(FileField(), "photo.png") == [
        "Upload a file (the form must be sent as multipart/form-data)."
    ]
    empty = UploadFile(filename="")
    try:
        assert errors(FileField(), empty) == REQUIRED  # no file chosen in the browser
    finally:
        empty.close_now()


def test_dates_show_datetimes_by_their_day() -> None:
    form = one_field_form(DateField())(initial={"value": datetime(2024, 5, 6, 7, 8)})
    assert form["value"].value == "2024-05-06"
    assert one_field_form(DateField())(initial={"value": "soon"})["value"].value is None
