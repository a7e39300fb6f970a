"""Tests for the built-in path converters and custom ones registered on an app."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

import pytest

from satchel import App, ConfigurationError, Settings
from satchel.converters import (
    CONVERTER_FOR_TYPE,
    Converter,
    DateConverter,
    FloatConverter,
    IntConverter,
    PathConverter,
    StrConverter,
    UUIDConverter,
    default_converters,
)
from tests.support import request


@pytest.mark.parametrize(
    ("text", "value"), [("0", 0), ("42", 42), ("007", 7), ("9" * 32, int("9" * 32))]
)
def test_int_accepts(text: str, value: int) -> None:
    assert IntConverter().to_python(text) == value


@pytest.mark.parametrize(
    "text", ["", "-1", "+1", "1.0", " 1", "1_000", "\u0663", "\u00b2", "9" * 33, "0x1"]
)
def test_int_refuses(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the converter's message is the value
        IntConverter().to_python(text)


def test_int_to_url() -> None:
    assert IntConverter().to_url(12) == "12"


@pytest.mark.parametrize(
    ("text", "value"), [("3", 3.0), ("2.5", 2.5), ("1.", 1.0), ("0.125", 0.125)]
)
def test_float_accepts(text: str, value: float) -> None:
    assert FloatConverter().to_python(text) == value


@pytest.mark.parametrize(
    "text", ["", ".5", "-1", "nan", "inf", "1e5", "1.2.3", "1,5", "\u0663.1", "1" * 33, "."]
)
def test_float_refuses(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        FloatConverter().to_python(text)


def test_float_to_url_round_trips() -> None:
    converter = FloatConverter()
    assert converter.to_url(2.5) == "2.5"
    assert converter.to_python(converter.to_url(3)) == 3.0


def test_uuid_accepts_canonical_forms() -> None:
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    converter = UUIDConverter()
    assert converter.to_python(str(value)) == value
    assert converter.to_python(str(value).upper()) == value
    assert converter.to_url(value) == str(value)


@pytest.mark.parametrize(
    "text",
    [
        "12345678123456781234567812345678",
        "{12345678123456781234567812345678--}",
        "12345678123456781234567812345678----",
        "1234-5678-1234-5678-1234-5678123456",
        "zzzzzzzz-1234-5678-1234-567812345678",
        "",
    ],
)
def test_uuid_refuses_other_spellings(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        UUIDConverter().to_python(text)


def test_date() -> None:
    converter = DateConverter()
    assert converter.to_python("2024-02-29") == datetime.date(2024, 2, 29)
    assert converter.to_url(datetime.date(2024, 1, 2)) == "2024-01-02"


@pytest.mark.parametrize(
    "text", ["2024-W01-1", "20240101", "2023-02-29", "2024-1-1", "24-01-0001", ""]
)
def test_date_refuses(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        DateConverter().to_python(text)


def test_str_and_path() -> None:
    assert StrConverter().to_python("a b") == "a b"
    assert StrConverter().to_url("x") == "x"
    assert PathConverter.matches_slash is True
    assert StrConverter.matches_slash is False
    assert PathConverter().to_python("a/b") == "a/b"


def test_defaults_are_fresh_and_complete() -> None:
    first, second = default_converters(), default_converters()
    assert set(first) == {"str", "path", "int", "float", "uuid", "date"}
    assert first["int"] is not second["int"]
    assert all(isinstance(c, Converter) for c in first.values())
    assert set(CONVERTER_FOR_TYPE.values()) <= set(first)


# -- custom converters -------------------------------------------------------------------------


class SlugConverter:
    matches_slash: ClassVar[bool] = False

    def to_python(self, value: str) -> str:
        if not value.replace("-", "").isalnum() or value != value.lower():
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value.lower()


class Color:
    def __init__(self, hex_value: str) -> None:
        self.hex = hex_value


class ColorConverter:
    matches_slash: ClassVar[bool] = False

    def to_python(self, value: str) -> Color:
        if len(value) != 6:
            raise ValueError(value)
        int(value, 16)
        return Color(value)

    def to_url(self, value: Color) -> str:
        return value.hex


def test_register_converter_by_name() -> None:
    app = App(settings=Settings())
    app.register_converter("slug", SlugConverter())

    @app.get("/posts/{slug:slug}")
    async def post(slug: str) -> str:
        return slug

    @app.get("/posts/{anything}")
    async def fallback(anything: str) -> str:
        return "fallback"

    assert request(app, "GET", "/posts/hello-world").text == "hello-world"
    assert request(app, "GET", "/posts/Hello").text == "fallback"
    assert app.url_for("post", slug="ABC") == "/posts/abc"


def test_register_converter_for_a_type() -> None:
    app = App(settings=Settings())
    app.register_converter("color", ColorConverter(), for_type=Color)

    @app.get("/colors/{color}")
    async def color(color: Color) -> str:
        return color.hex

    assert request(app, "GET", "/colors/ff00aa").text == "ff00aa"
    assert request(app, "GET", "/colors/zz00aa").status_code == 404
    assert request(app, "GET", "/colors/fff").status_code == 404
    assert app.url_for("color", color=Color("123456")) == "/colors/123456"


def test_custom_converter_is_tried_before_plain_strings() -> None:
    app = App(settings=Settings())
    app.register_converter("color", ColorConverter())

    @app.get("/{name}")
    async def by_name(name: str) -> str:
        return "name"

    @app.get("/{value:color}")
    async def by_color(value: Any) -> str:
        return "color"

    assert request(app, "GET", "/abcdef").text == "color"
    assert request(app, "GET", "/abcdeg").text == "name"


def test_register_converter_after_start_is_refused() -> None:
    app = App(settings=Settings())
    app.build()
    with pytest.raises(ConfigurationError, match="frozen"):
        app.register_converter("slug", SlugConverter())


def test_override_a_builtin_converter_per_app() -> None:
    class SignedInt:
        matches_slash: ClassVar[bool] = False

        def to_python(self, value: str) -> int:
            return int(value)

        def to_url(self, value: int) -> str:
            return str(value)

    app = App(settings=Settings())
    app.register_converter("int", SignedInt())

    @app.get("/n/{n}")
    async def number(n: int) -> int:
        return n

    assert request(app, "GET", "/n/-3").json() == -3
    other = App(settings=Settings())
    assert isinstance(other.converters["int"], IntConverter)
