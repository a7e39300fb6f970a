"""The HTML forms render: accessible by default, the user's input kept, everything escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import jinja2
import pytest
from markupsafe import Markup

from satchel.forms import (
    BooleanField,
    ChoiceField,
    DateField,
    FileField,
    Form,
    HiddenField,
    IntegerField,
    MultipleChoiceField,
    PasswordField,
    StringField,
    TextField,
    ValidationError,
)
from satchel.forms.html import element
from satchel.uploads import UploadFile

HOSTILE = "\"><script>alert('x')</script><b a='1"


class Element:
    """A start tag the parser saw, and the text directly inside it."""

    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs} {self.text!r}>"


class Collector(HTMLParser):
    """Every element of a fragment, as a browser would parse it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in ("input", "br", "img"):
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1].tag == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1].text += data


def parse(html: str) -> list[Element]:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def one(html: str, tag: str, **attrs: str) -> Element:
    found = [
        e
        for e in parse(html)
        if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())
    ]
    assert len(found) == 1, (tag, attrs, html)
    return found[0]


class ProfileForm(Form, csrf=False):
    name = StringField("Your name", max_length=50, help_text="As on your passport.")
    bio = TextField(required=False)
    age = IntegerField(min_value=18)
    password = PasswordField()
    newsletter = BooleanField("Send me the newsletter")
    country = ChoiceField(choices=[("fr", "France"), ("jp", "Japan")])
    topics = MultipleChoiceField(
        choices=[("a", "Art"), ("b", "Books")], widget="checkbox", required=False
    )
    next = HiddenField(required=False)


def test_an_unbound_form_renders_accessible_fields() -> None:
    html = str(ProfileForm())
    label = one(html, "label", **{"for": "id_name"})
    assert label.text == "Your name"
    name = one(html, "input", name="name")
    assert name.attrs == {
        "type": "text",
        "name": "name",
        "id": "id_name",
        "required": None,
        "maxlength": "50",
        "aria-describedby": "id_name-help",
    }
    assert one(html, "p", id="id_name-help").text == "As on your passport."
    age = one(html, "input", name="age")
    assert (age.attrs["type"], age.attrs["min"]) == ("number", "18")
    assert "max" not in age.attrs
    bio = one(html, "textarea", name="bio")
    assert "required" not in bio.attrs
    assert one(html, "input", name="password").attrs["type"] == "password"
    assert "value" not in one(html, "input", name="password").attrs
    assert "aria-invalid" not in html


def test_groups_render_as_fieldsets_with_a_legend() -> None:
    html = str(ProfileForm())
    fieldset = one(html, "fieldset")
    assert fieldset.attrs == {"class": "field"}
    assert one(html, "legend").text == "Topics"
    assert one(html, "label", **{"for": "id_topics-1"}).text == "Books"
    box = one(html, "input", id="id_topics-1")
    assert box.attrs == {"type": "checkbox", "name": "topics", "id": "id_topics-1", "value": "b"}
    radios = ChoiceField(choices=[(1, "One"), (2, "Two")], widget="radio")
    radio_form = type("RadioForm", (Form,), {"n": radios, "csrf": False})()
    rendered = str(radio_form)
    assert one(rendered, "input", id="id_n-0").attrs["required"] is None  # one of them is needed
    assert str(radio_form["n"].label) == "<legend>N</legend>"


def test_select_offers_a_blank_choice_only_when_it_means_something() -> None:
    html = str(ProfileForm())
    options = [e for e in parse(html) if e.tag == "option"]
    assert [(o.attrs["value"], o.text) for o in options] == [
        ("", "---------"),
        ("fr", "France"),
        ("jp", "Japan"),
    ]
    chosen = str(ProfileForm(initial={"country": "jp"}).country)
    assert [e.attrs["value"] for e in parse(chosen) if e.tag == "option"] == ["fr", "jp"]
    assert one(chosen, "option", value="jp").attrs.get("selected", "absent") is None

    class Optional(Form, csrf=False):
        country = ChoiceField(choices=[("fr", "France")], required=False, blank_label="Any")

    optional = str(Optional(initial={"country": "fr"}))
    assert [o.text for o in parse(optional) if o.tag == "option"] == ["Any", "France"]


def test_rerendering_with_errors_keeps_the_input_but_never_passwords() -> None:
    form = ProfileForm(
        {
            "name": "  Ada  ",
            "bio": "Line\r\nbreak",
            "age": "seventeen",
            "password": "hunter2",
            "newsletter": "on",
            "country": "jp",
            "topics": ["b"],
            "next": "/home",
        }
    )
    assert not form.validate()
    assert form.errors == {"age": ["Enter a whole number."]}
    html = str(form)
    assert one(html, "input", name="name").attrs["value"] == "  Ada  "  # as typed
    # Browsers drop the newline that follows <textarea> (the parser here does not).
    assert one(html, "textarea", name="bio").text == "\nLine\r\nbreak"
    assert one(html, "input", name="age").attrs["value"] == "seventeen"
    assert "value" not in one(html, "input", name="password").attrs
    assert "hunter2" not in html
    assert "checked" in one(html, "input", name="newsletter").attrs
    assert "selected" in one(html, "option", value="jp").attrs
    assert "checked" in one(html, "input", id="id_topics-1").attrs
    assert "checked" not in one(html, "input", id="id_topics-0").attrs
    assert one(html, "input", name="next").attrs["value"] == "/home"
    initial = str(ProfileForm(initial={"password": "from the database"}))
    assert "from the database" not in initial


def test_errors_are_tied_to_their_input() -> None:
    form = ProfileForm({"name": "", "age": "12"})
    form.validate()
    html = str(form)
    age = one(html, "input", name="age")
    assert age.attrs["aria-invalid"] == "true"
    assert age.attrs["aria-describedby"] == "id_age-errors"
    errors = one(html, "ul", id="id_age-errors")
    assert errors.attrs["class"] == "errors"
    assert "Ensure this value is greater than or equal to 18." in html
    name = one(html, "input", name="name")
    assert name.attrs["aria-describedby"] == "id_name-help id_name-errors"
    row = str(form.age)
    assert row.startswith('<div class="field invalid">')
    newsletter = one(html, "input", name="newsletter")
    assert "aria-invalid" not in newsletter.attrs


def test_form_errors_and_hidden_field_errors_are_listed_first() -> None:
    class TicketForm(Form, csrf=False):
        event = HiddenField()
        seats = IntegerField()

        def clean(self, data: dict[str, Any]) -> None:
            raise ValidationError("Sold out.")

    form = TicketForm({"seats": "2"})
    form.validate()
    html = str(form)
    assert html.startswith('<div class="form-errors" role="alert">')
    items = [e.text for e in parse(html) if e.tag == "li"]
    assert items == ["Sold out.", "Event: This field is required."]
    hidden = one(html, "input", name="event")
    assert hidden.attrs == {"type": "hidden", "name": "event", "id": "id_event"}  # no dangling ids


def test_fields_render_one_by_one_with_extra_attributes() -> None:
    form = ProfileForm()
    widget = form.name.widget(class_="wide", data_track="name", aria_label="Name", autofocus=True)
    assert widget == Markup(
        '<input type="text" name="name" id="id_name" required maxlength="50" '
        'aria-describedby="id_name-help" class="wide" data-track="name" aria-label="Name" '
        "autofocus>"
    )
    assert form.name.label(class_="big") == Markup(
        '<label for="id_name" class="big">Your name</label>'
    )
    assert str(form.name.label) == '<label for="id_name">Your name</label>'
    assert form.name.widget(required=False, maxlength=None) == Markup(
        '<input type="text" name="name" id="id_name" aria-describedby="id_name-help">'
    )
    assert form.bio.help_html == Markup("")
    assert form.bio.errors_html == Markup("")
    with pytest.raises(ValueError, match="not a valid HTML attribute name"):
        form.name.widget(**{'onclick="x"': "y"})


def test_a_file_sent_for_a_checkbox_renders_it_unticked() -> None:
    upload = UploadFile(filename="x.txt")
    try:
        form = ProfileForm({"newsletter": upload})
        form.validate()
        assert form.errors["newsletter"] == ["Expected text, not a file."]
        assert "checked" not in one(str(form), "input", name="newsletter").attrs
    finally:
        upload.close_now()


def test_tag_names_are_checked_and_reprs_name_the_field() -> None:
    with pytest.raises(ValueError, match="not an HTML tag name"):
        element('div onclick="x"', {})
    form = ProfileForm()
    assert repr(form.name) == "<BoundField 'name' errors=[]>"
    assert repr(form.name.label) == "<Label 'Your name'>"
    assert repr(ProfileForm.name) == "<StringField 'name'>"


def test_declared_attributes_apply_to_every_render() -> None:
    class SearchForm(Form, csrf=False):
        q = StringField("Search", attrs={"placeholder": "Title or author", "class": "search"})
        day = DateField(required=False)
        photo = FileField(content_types=["image/png", "image/*"], max_size=10)

    form = SearchForm()
    assert one(str(form.q), "input").attrs["placeholder"] == "Title or author"
    assert one(form.q.widget(class_="other"), "input").attrs["class"] == "other"
    assert one(str(form.day), "input").attrs["type"] == "date"
    photo = one(str(form.photo), "input")
    assert (photo.attrs["type"], photo.attrs["accept"]) == ("file", "image/png,image/*")


def test_hostile_values_stay_inside_their_attribute_or_text() -> None:
    class Hostile(Form, csrf=False):
        text = StringField(HOSTILE, help_text=HOSTILE, max_length=5)
        area = TextField(HOSTILE)
        pick = ChoiceField(HOSTILE, choices=[(HOSTILE, HOSTILE)])
        many = MultipleChoiceField(choices=[(HOSTILE, HOSTILE)], widget="checkbox")
        secret = HiddenField()

        def clean(self, data: dict[str, Any]) -> None:
            raise ValidationError(HOSTILE)

    area_value = "</textarea><script>alert(1)</script>"
    form = Hostile(
        {"text": HOSTILE, "area": area_value, "pick": HOSTILE, "many": HOSTILE, "secret": HOSTILE}
    )
    form.validate()
    html = str(form)
    elements = parse(html)
    assert [e.tag for e in elements if e.tag == "script"] == []
    assert [e for e in elements if "a" in e.attrs or "onmouseover" in e.attrs] == []
    assert one(html, "input", name="text").attrs["value"] == HOSTILE
    assert one(html, "label", **{"for": "id_text"}).text == HOSTILE
    assert one(html, "p", id="id_text-help").text == HOSTILE
    assert one(html, "textarea").text == "\n" + area_value
    option = one(html, "option", value=HOSTILE)
    assert option.text == HOSTILE
    assert "selected" in option.attrs
    assert one(html, "input", name="many").attrs["value"] == HOSTILE
    assert one(html, "input", name="secret").attrs["value"] == HOSTILE
    assert HOSTILE in [e.text for e in elements if e.tag == "li"]
    initial = str(Hostile(initial={"text": HOSTILE, "area": area_value}))
    assert [e.tag for e in parse(initial) if e.tag == "script"] == []


def test_markup_labels_are_the_application_s_own_markup() -> None:
    class TermsForm(Form, csrf=False):
        accept = BooleanField(Markup('I accept the <a href="/terms">terms</a>'), required=True)

    html = str(TermsForm())
    assert '<label for="id_accept">I accept the <a href="/terms">terms</a></label>' in html
    assert html.index("<input") < html.index("<label")  # a checkbox comes before its label


def test_a_form_that_renders_a_csrf_field_needs_the_request() -> None:
    class Protected(Form):
        name = StringField()

    with pytest.raises(RuntimeError, match="needs the request"):
        str(Protected())
    assert ProfileForm().csrf_input == Markup("")


def test_jinja_templates_render_forms_and_fields_escaped() -> None:
    environment = jinja2.Environment(autoescape=True)
    template = environment.from_string(
        '<form method="post">{{ form }}</form>'
        "|{{ form.name.label }}|{{ form.name.widget(class_='x') }}"
        "|{% for field in form %}{{ field.name }},{% endfor %}"
        "|{% for message in form.age.errors %}{{ message }}{% endfor %}"
    )
    form = ProfileForm({"name": HOSTILE, "age": "1"})
    form.validate()
    html = template.render(form=form)
    assert html.startswith('<form method="post"><div class="field">')
    assert '<label for="id_name">Your name</label>' in html
    assert "name,bio,age,password,newsletter,country,topics,next," in html
    assert "|Ensure this value is greater than or equal to 18." in html
    assert [e.tag for e in parse(html) if e.tag == "script"] == []
    assert [e.attrs.get("class") for e in parse(html) if e.attrs.get("name") == "name"] == [
        None,
        "x",
    ]
