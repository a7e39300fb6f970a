"""ModelSchema: which fields a model's columns become, per mode, and the helpers."""

from __future__ import annotations

import types
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
import pytest
import sqlalchemy as sa
from msgspec import NODEFAULT, UNSET, Meta, UnsetType
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, deferred, mapped_column

from satchel.db import ModelSchema
from satchel.db.models import UTCDateTime, timestamps
from tests.db.models import Book, Genre

# SQLAlchemy's way of sharing column settings; the Meta is for the schemas.
Label = Annotated[str, mapped_column(sa.String(30)), Meta(min_length=1)]


class Base(DeclarativeBase):
    """Models of these tests only: their column kinds need not exist on every database."""


class Gadget(Base, timestamps):
    __tablename__ = "gadget"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.Text)
    code: Mapped[bytes] = mapped_column(sa.LargeBinary(16))
    size: Mapped[str] = mapped_column(sa.Enum("small", "large"))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default={"a": 1})
    token: Mapped[str] = mapped_column(default=lambda: uuid.uuid4().hex)
    status: Mapped[str] = mapped_column(server_default="new")
    touched: Mapped[datetime] = mapped_column(UTCDateTime(), default=sa.func.now())
    seen: Mapped[datetime | None] = mapped_column(UTCDateTime(), onupdate=sa.func.now())
    twice: Mapped[int] = mapped_column(sa.Computed("length(name) * 2"))
    date: Mapped[date]  # a column named like its type
    label: Mapped[Label]
    legacy = mapped_column(sa.Integer, nullable=True)  # no annotation: the column type says
    blob: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    name_length: Mapped[int] = column_property(sa.func.length(name))


class Counter(Base):
    __tablename__ = "counter"

    key: Mapped[str] = mapped_column(sa.String(20), primary_key=True)  # a natural key
    number: Mapped[int] = mapped_column(sa.Identity())


def fields(schema: type[msgspec.Struct]) -> dict[str, tuple[Any, Any]]:
    """Each field's type and default (NODEFAULT when required)."""
    return {f.name: (f.type, f.default) for f in msgspec.structs.fields(schema)}


# -- what each mode derives ------------------------------------------------------------------


class BookOut(ModelSchema[Book]):
    pass


class BookIn(ModelSchema[Book], mode="create"):
    pass


class BookPatch(ModelSchema[Book], mode="update"):
    pass


def test_a_read_schema_has_every_column_required_and_no_relationship() -> None:
    assert fields(BookOut) == {
        "id": (int, NODEFAULT),
        "isbn": (str, NODEFAULT),
        "title": (str, NODEFAULT),
        "subtitle": (str | None, NODEFAULT),
        "pages": (int, NODEFAULT),
        "genre": (Genre, NODEFAULT),
        "price": (Decimal | None, NODEFAULT),
        "internal_note": (str, NODEFAULT),
        "created_at": (datetime, NODEFAULT),
        "updated_at": (datetime, NODEFAULT),
    }
    assert not BookOut.__struct_config__.forbid_unknown_fields


def test_a_create_schema_leaves_out_what_the_database_sets() -> None:
    assert fields(BookIn) == {
        "isbn": (Annotated[str, Meta(max_length=13)], NODEFAULT),
        "title": (Annotated[str, Meta(max_length=80)], NODEFAULT),
        "subtitle": (str | None, None),
        "pages": (int, 0),
        "genre": (Genre, Genre.NOVEL),
        "price": (Decimal | None, None),
        "internal_note": (str, ""),
    }
    assert BookIn.__struct_config__.forbid_unknown_fields
    assert BookIn.__schema_model__ is Book
    assert BookIn.__schema_mode__ == "create"


def test_an_update_schema_makes_every_writable_column_unset_by_default() -> None:
    derived = fields(BookPatch)
    assert list(derived) == list(fields(BookIn))
    assert all(default is UNSET for _, default in derived.values())
    assert derived["title"][0] == Annotated[str, Meta(max_length=80)] | UnsetType
    assert derived["subtitle"][0] == str | None | UnsetType


def test_column_kinds_in_each_mode() -> None:
    class GadgetOut(ModelSchema[Gadget]):
        pass

    class GadgetIn(ModelSchema[Gadget], mode="create"):
        pass

    read = fields(GadgetOut)
    assert "blob" not in read  # deferred: reading it would be a query of its own
    assert read["name_length"] == (int, NODEFAULT)  # a column_property is read
    assert read["legacy"] == (int | None, NODEFAULT)
    assert read["date"] == (date, NODEFAULT)
    assert read["label"] == (Annotated[str, Meta(min_length=1)], NODEFAULT)
    assert read["size"] == (str, NODEFAULT)  # output is not re-validated against the enum
    assert read["tags"] == (list[str], NODEFAULT)
    created = fields(GadgetIn)
    assert created == {
        "name": (str, NODEFAULT),  # Text has no length
        "code": (Annotated[bytes, Meta(max_length=16)], NODEFAULT),
        "size": (Literal["small", "large"], NODEFAULT),
        "tags": (list[str] | UnsetType, UNSET),  # computed by a callable: the model's default
        "options": (dict[str, Any] | UnsetType, UNSET),  # a mutable default: the model's
        "token": (str | UnsetType, UNSET),
        "date": (date, NODEFAULT),
        "label": (Annotated[str, Meta(min_length=1), Meta(max_length=30)], NODEFAULT),
        "legacy": (int | None, None),
        "blob": (bytes | None, None),
    }


def test_primary_keys_identity_and_natural_keys() -> None:
    class CounterIn(ModelSchema[Counter], mode="create"):
        pass

    class CounterPatch(ModelSchema[Counter], mode="update"):
        pass

    assert fields(CounterIn) == {"key": (Annotated[str, Meta(max_length=20)], NODEFAULT)}
    assert fields(CounterPatch) == {}  # a primary key is never patched


# -- include, exclude, read_only and declared fields --------------------------------------


def test_include_exclude_and_read_only() -> None:
    class Picked(ModelSchema[Book], include=("title", "id")):
        pass

    class Hidden(ModelSchema[Book], exclude=("internal_note", "price")):
        pass

    class Guarded(ModelSchema[Book], mode="create", read_only=("isbn", "internal_note")):
        pass

    class GuardedPatch(ModelSchema[Book], mode="update", read_only=("isbn",)):
        pass

    class Stamped(ModelSchema[Book], mode="create", include=("title", "created_at")):
        pass

    assert list(fields(Picked)) == ["id", "title"]  # in column order
    assert "internal_note" not in fields(Hidden)
    assert "price" not in fields(Hidden)
    assert "isbn" not in fields(Guarded)
    assert "internal_note" not in fields(Guarded)
    assert "isbn" not in fields(GuardedPatch)
    # Including a column the database sets lets clients send it, without having to.
    # A zoned column's datetime must carry its zone (a naive one cannot be stored as UTC).
    zoned = Annotated[datetime, Meta(tz=True)]
    assert fields(Stamped)["created_at"] == (zoned | UnsetType, UNSET)


def test_fields_in_the_class_body_add_to_and_replace_derived_ones() -> None:
    class Strict(ModelSchema[Book], mode="create"):
        title: Annotated[str, Meta(min_length=3, max_length=40)]
        notify: bool = False

    class StrictPatch(ModelSchema[Book], mode="update"):
        title: Annotated[str, Meta(min_length=3)]
        pages: int = 1  # a default of its own is kept

    strict = fields(Strict)
    assert list(strict)[:2] == ["isbn", "title"]  # in its column's place
    assert strict["title"] == (Annotated[str, Meta(min_length=3, max_length=40)], NODEFAULT)
    assert strict["notify"] == (bool, False)
    patch = fields(StrictPatch)
    assert patch["title"] == (Annotated[str, Meta(min_length=3)] | UnsetType, UNSET)
    assert patch["pages"] == (int, 1)
    with pytest.raises(msgspec.ValidationError, match="length >= 3"):
        msgspec.json.decode(b'{"title": "ab"}', type=StrictPatch)


def test_a_subclass_of_a_schema_is_a_plain_struct_subclass() -> None:
    class WithUrl(BookOut, kw_only=True):
        url: str

    assert list(fields(WithUrl))[-1] == "url"
    assert WithUrl.__schema_model__ is Book


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include": ("nope",)}, "'nope' not a column of the model"),
        ({"exclude": ("reviews",)}, "'reviews' not a column"),  # a relationship
        ({"read_only": ("title",)}, "read_only applies to create and update schemas"),
        ({"mode": "delete"}, "mode must be one of"),
        ({"mode": "create", "include": ["title"], "read_only": ["title"]}, "include and read_only"),
        ({"include": ["title"], "exclude": ["title"]}, "both include and exclude"),
        ({"exclude": "title"}, "exclude takes a tuple of names, not a string"),
    ],
)
def test_mistakes_are_refused_when_the_class_is_defined(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        types.new_class("Broken", (ModelSchema[Book],), options)


def test_a_schema_must_name_a_mapped_model() -> None:
    with pytest.raises(TypeError, match=r"name the model .*ModelSchema\[Model\]"):

        class Unnamed(ModelSchema):  # type: ignore[type-arg]
            pass

    with pytest.raises(TypeError, match="is not a mapped SQLAlchemy model"):

        class NotAModel(ModelSchema[date]):
            pass

    with pytest.raises(TypeError, match="apply to a class that names its model"):

        class Options(BookOut, mode="create"):
            pass

    with pytest.raises(TypeError, match=r"\['title'\] both declared and excluded"):

        class Both(ModelSchema[Book], exclude=("title",)):
            title: str


# -- helpers ------------------------------------------------------------------------------


def book() -> Book:
    return Book(
        id=7,
        isbn="9780000000001",
        title="Dune",
        subtitle=None,
        pages=412,
        genre=Genre.NOVEL,
        price=Decimal("9.99"),
        internal_note="shelf 3",
        created_at=datetime(2024, 1, 1),
        updated_at=datetime(2024, 1, 2),
    )


def test_from_model_reads_the_attributes() -> None:
    out = BookOut.from_model(book())
    assert (out.id, out.title, out.price) == (7, "Dune", Decimal("9.99"))
    assert isinstance(out, BookOut)


def test_to_model_sets_the_columns_and_takes_more_values() -> None:
    class Signup(ModelSchema[Book], mode="create"):
        secret: str

    sent = msgspec.json.decode(b'{"isbn": "1", "title": "T", "secret": "s"}', type=Signup)
    assert sent.to_dict() == {
        "isbn": "1",
        "title": "T",
        "subtitle": None,
        "pages": 0,
        "genre": Genre.NOVEL,
        "price": None,
        "internal_note": "",
        "secret": "s",
    }
    made = sent.to_model(internal_note=sent.secret.upper())
    assert isinstance(made, Book)
    assert (made.title, made.pages, made.internal_note) == ("T", 0, "S")


def test_apply_to_sets_only_the_fields_sent() -> None:
    target = book()
    patch = msgspec.json.decode(b'{"title": "Dune II", "subtitle": null}', type=BookPatch)
    assert patch.to_dict() == {"title": "Dune II", "subtitle": None}
    assert patch.apply_to(target) is target
    assert (target.title, target.subtitle, target.pages) == ("Dune II", None, 412)
    msgspec.json.decode(b"{}", type=BookPatch).apply_to(target)
    assert target.title == "Dune II"


def test_input_schemas_validate() -> None:
    cases = {
        b'{"isbn": "1", "title": "%s"}' % (b"x" * 81): "Expected `str` of length <= 80",
        b'{"isbn": "1", "title": "T", "pages": "many"}': "Expected `int`, got `str`",
        b'{"isbn": "1", "title": "T", "id": 3}': "unknown field `id`",
        b'{"title": "T"}': "missing required field `isbn`",
        b'{"isbn": "1", "title": "T", "genre": "poem"}': "Invalid enum value 'poem'",
    }
    for raw, message in cases.items():
        with pytest.raises(msgspec.ValidationError, match=message):
            msgspec.json.decode(raw, type=BookIn)
