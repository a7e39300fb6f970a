"""Forms: declaring, binding, initial data, validation across fields, and the typed results."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, assert_type

import pytest

from satchel.datastructures import MultiDict
from satchel.formparsers import FormData
from satchel.forms import (
    BooleanField,
    BoundField,
    ChoiceField,
    DateField,
    DecimalField,
    FileField,
    Form,
    HiddenField,
    IntegerField,
    ModelForm,
    MultipleChoiceField,
    PasswordField,
    StringField,
    TextField,
    ValidationError,
)


class Weekday(Enum):
    MONDAY = 1
    TUESDAY = 2


class ArticleForm(Form, csrf=False):
    title = StringField("Title", max_length=200)
    body = TextField("Body", required=False)
    published = BooleanField("Published")
    price = DecimalField(decimal_places=2, required=False)
    day = DateField(required=False)
    tags = MultipleChoiceField(choices=[("py", "Python"), ("web", "Web")], required=False)


class SignupForm(Form, csrf=False):
    username = StringField()
    password = PasswordField(min_length=8)
    confirm = PasswordField("Confirm password")

    def clean(self, data: dict[str, Any]) -> None:
        if "password" in data and data["password"] != data.get("confirm"):
            self.add_error("confirm", "The passwords do not match.")
        if data.get("username") == "root":
            raise ValidationError("This account cannot be created.")
        if "username" in data:
            data["username"] = data["username"].lower()


def test_fields_are_collected_in_declaration_order_with_labels() -> None:
    form = ArticleForm()
    assert [bound.field.name for bound in form] == [
        "title",
        "body",
        "published",
        "price",
        "day",
        "tags",
    ]
    assert form.price.label.text == "Price"  # from the attribute name
    assert form.title.label.text == "Title"
    assert "title" in form
    assert "nope" not in form
    assert isinstance(ArticleForm.title, StringField)  # the class keeps the declaration
    with pytest.raises(KeyError, match="ArticleForm has no field 'nope'"):
        form["nope"]


def test_valid_input_gives_typed_values() -> None:
    form = ArticleForm(
        {
            "title": " Hello ",
            "body": "Line one\r\nLine two",
            "published": "on",
            "price": "9.99",
            "day": "2024-05-01",
            "tags": ["web", "py"],
            "unexpected": "ignored",
        }
    )
    assert form.is_bound
    assert form.validate() is True
    assert form.data == {
        "title": "Hello",
        "body": "Line one\nLine two",
        "published": True,
        "price": Decimal("9.99"),
        "day": date(2024, 5, 1),
        "tags": ["py", "web"],
    }
    assert form.errors == {}
    assert form.title.data == "Hello"
    assert repr(form) == "<ArticleForm valid>"


def test_optional_fields_left_empty() -> None:
    form = ArticleForm({"title": "T", "body": "", "price": "", "day": ""})
    assert form.validate()
    assert form.data == {
        "title": "T",
        "body": None,
        "published": False,
        "price": None,
        "day": None,
        "tags": [],
    }


def test_every_failing_field_is_reported_at_once() -> None:
    form = ArticleForm({"title": "", "price": "abc", "day": "2024-13-01", "tags": "java"})
    assert form.validate() is False
    assert form.errors == {
        "title": ["This field is required."],
        "price": ["Enter a number."],
        "day": ["Enter a valid date (YYYY-MM-DD)."],
        "tags": ["Select valid choices only."],
    }
    assert form.title.data is None
    assert repr(form) == "<ArticleForm invalid>"
    with pytest.raises(RuntimeError, match="after validate\\(\\) returned True"):
        form.data  # noqa: B018


def test_binds_multidicts_and_parsed_request_forms() -> None:
    pairs = [("title", "T"), ("tags", "py"), ("tags", "web")]
    for data in (MultiDict(pairs), FormData(pairs)):
        form = ArticleForm(data)
        assert form.validate()
        assert form.data["tags"] == ["py", "web"]


class EveryKindForm(Form, csrf=False):
    text = StringField(required=False)
    number = IntegerField(required=False)
    box = BooleanField()
    tags = MultipleChoiceField(choices=[("py", "Python")], required=False)
    upload = FileField(required=False)


@pytest.mark.parametrize("value", [5, 1.5, True, {"a": "b"}, [5], [None], b"x"])
@pytest.mark.parametrize("name", ["text", "number", "box", "tags", "upload"])
def test_values_that_are_neither_text_nor_files_are_field_errors(name: str, value: Any) -> None:
    # What a mapping bound by code may hold (a JSON body, say): a message, never a crash.
    form = EveryKindForm({name: value})
    assert not form.validate()
    assert list(form.errors) == [name]
    assert len(form.errors[name]) == 1
    str(form)  # and it renders again


def test_an_unbound_form_is_not_valid_and_has_no_errors() -> None:
    form = ArticleForm()
    assert not form.is_bound
    assert form.validate() is False
    assert form.errors == {}
    assert form.form_errors == []
    assert repr(form) == "<ArticleForm unbound>"
    with pytest.raises(RuntimeError):
        form.data  # noqa: B018
    bound = ArticleForm({})
    assert repr(bound) == "<ArticleForm bound>"
    assert bound.validate() is False
    assert bound.errors == {"title": ["This field is required."]}


def test_initial_values_and_defaults() -> None:
    calls: list[int] = []

    def today() -> date:
        calls.append(1)
        return date(2024, 1, 2)

    class EventForm(Form, csrf=False):
        name = StringField(default="Meetup")
        day = DateField(default=today)
        seats = IntegerField(default=10)

    form = EventForm(initial={"seats": 50})
    assert form.name.data == "Meetup"
    assert form.day.data == date(2024, 1, 2)
    assert form.day.data == date(2024, 1, 2)
    assert calls == [1]  # a default function runs once per form
    assert form.seats.data == 50  # initial wins over default
    assert form.seats.value == "50"
    assert form.day.value == "2024-01-02"
    # Bound, the submission counts: defaults fill nothing in.
    submitted = EventForm({"name": "", "day": "2024-03-04", "seats": "5"})
    assert not submitted.validate()
    assert submitted.errors == {"name": ["This field is required."]}
    assert submitted.name.value == ""


def test_clean_checks_fields_against_each_other() -> None:
    form = SignupForm({"username": "Ada", "password": "long enough", "confirm": "different"})
    assert not form.validate()
    assert form.errors == {"confirm": ["The passwords do not match."]}
    assert form.form_errors == []

    form = SignupForm({"username": "root", "password": "long enough", "confirm": "long enough"})
    assert not form.validate()
    assert form.form_errors == ["This account cannot be created."]
    assert form.errors == {}

    form = SignupForm({"username": "Ada", "password": "long enough", "confirm": "long enough"})
    assert form.validate()
    assert form.data["username"] == "ada"  # clean() may change the values


def test_clean_sees_only_the_fields_that_passed() -> None:
    form = SignupForm({"username": "Ada", "password": "short", "confirm": "short"})
    assert not form.validate()
    assert form.errors == {"password": ["Ensure this value has at least 8 characters (it has 5)."]}


def test_add_error_outside_clean_makes_the_form_invalid() -> None:
    form = ArticleForm({"title": "T"})
    assert form.validate()
    form.add_error("title", "Already taken.")
    form.add_error(None, "Try again later.")
    assert form.errors == {"title": ["Already taken."]}
    assert form.form_errors == ["Try again later."]
    with pytest.raises(RuntimeError):
        form.data  # noqa: B018
    with pytest.raises(KeyError):
        form.add_error("nope", "x")
    assert form.validate()  # validating again starts afresh


def test_inheritance_adds_replaces_and_removes_fields() -> None:
    class BaseForm(Form, csrf=False):
        name = StringField()
        note = StringField(required=False)
        secret = HiddenField(required=False)

    class ChildForm(BaseForm):
        note = TextField(required=False)
        secret = None  # type: ignore[assignment]
        extra = IntegerField(required=False)

    assert [b.field.name for b in ChildForm()] == ["name", "note", "extra"]
    assert isinstance(ChildForm.note, TextField)
    assert [b.field.name for b in BaseForm()] == ["name", "note", "secret"]
    with pytest.raises(TypeError, match="hides a field of a base class"):
        type("Shadow", (BaseForm,), {"name": lambda self: "x"})


@pytest.mark.parametrize("name", ["data", "errors", "validate", "clean", "request", "csrf_token"])
def test_field_names_cannot_hide_the_form_api(name: str) -> None:
    with pytest.raises(TypeError, match=f"BadForm.{name}: this name is reserved"):
        type("BadForm", (Form,), {name: StringField()})


@pytest.mark.parametrize("name", ["save", "populate", "model", "model_fields", "obj"])
def test_field_names_cannot_hide_the_model_form_api(name: str) -> None:
    with pytest.raises(TypeError, match=f"BadForm.{name}: this name is reserved"):
        type("BadForm", (ModelForm,), {name: StringField()})


def test_field_names_cannot_hide_a_base_class_method() -> None:
    class Mixin:
        def slugify(self) -> str:
            return "x"

    with pytest.raises(TypeError, match=r"BadForm\.slugify: this name is reserved"):
        type("BadForm", (Mixin, Form), {"slugify": StringField()})


def test_fields_are_typed_for_type_checkers() -> None:
    form = ArticleForm()
    assert_type(ArticleForm.title, StringField)
    assert_type(form.title, BoundField[str])
    assert_type(form.title.data, str | None)
    assert_type(form.price.data, Decimal | None)
    assert_type(form.tags.data, list[str] | None)
    assert_type(ChoiceField(choices=Weekday), ChoiceField[Weekday])
    assert_type(ChoiceField(choices=[(1, "One")]), ChoiceField[int])
    assert_type(MultipleChoiceField(choices=Weekday), MultipleChoiceField[Weekday])


def test_prefixes_keep_two_forms_on_one_page_apart() -> None:
    data = {"a-title": "First", "b-title": "Second"}
    first, second = ArticleForm(data, prefix="a"), ArticleForm(data, prefix="b")
    assert first.validate()
    assert second.validate()
    assert (first.data["title"], second.data["title"]) == ("First", "Second")
    assert first.title.name == "a-title"
    assert first.title.id == "id_a-title"
    with pytest.raises(ValueError, match="prefix"):
        ArticleForm(prefix='x" onclick="')


def test_visible_and_hidden_fields_and_enctype() -> None:
    class UploadForm(Form, csrf=False):
        next = HiddenField(required=False)
        name = StringField()
        photo = FileField()

    form = UploadForm()
    assert [b.name for b in form.visible_fields] == ["name", "photo"]
    assert [b.name for b in form.hidden_fields] == ["next"]
    assert form.enctype == "multipart/form-data"
    assert ArticleForm().enctype == "application/x-www-form-urlencoded"
