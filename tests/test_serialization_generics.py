"""Generic models in return annotations (``-> Page[User]``): every item is filtered too.

``msgspec.convert`` keeps an instance of the declared class as it is, whatever its type
parameters say, so a ``Page`` of rows declared ``Page[User]`` used to be encoded as it
was: undeclared fields leaked, and ORM rows could not be encoded at all.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar

import msgspec

from tests.test_serialization import body

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int


class LabelledPage(Page[T], kw_only=True):
    label: str


@dataclasses.dataclass
class Box(Generic[T]):
    content: T


class User(msgspec.Struct):
    name: str


class UserRow(User):
    password_hash: str


class OrmUser:
    def __init__(self, name: str) -> None:
        self.name = name
        self.password_hash = "argon2id$..."


def test_items_of_a_generic_struct_are_filtered() -> None:
    leaky = Page([UserRow("ann", "argon2id$...")], 1)
    assert body(leaky, Page[User]) == {"items": [{"name": "ann"}], "total": 1}


def test_items_of_a_generic_struct_are_read_from_rows() -> None:
    rows = Page([OrmUser("ann"), OrmUser("bob")], 2)
    assert body(rows, Page[User]) == {"items": [{"name": "ann"}, {"name": "bob"}], "total": 2}


def test_nested_generics_subclasses_and_dataclasses() -> None:
    rows: Any = Page([OrmUser("ann")], 1)
    expected = {"items": [{"name": "ann"}], "total": 1}
    assert body([rows], list[Page[User]]) == [expected]
    assert body({"first": rows}, dict[str, Page[User]]) == {"first": expected}
    assert body(Page([rows], 1), Page[Page[User]]) == {"items": [expected], "total": 1}
    labelled = LabelledPage([UserRow("ann", "x")], 1, label="internal")
    assert body(labelled, Page[User]) == expected
    assert body(Box(OrmUser("ann")), Box[User]) == {"content": {"name": "ann"}}


def test_exact_generic_values_are_unchanged() -> None:
    assert body(Page([User("ann")], 1), Page[User]) == {"items": [{"name": "ann"}], "total": 1}
    assert body(Page([1, 2], 2), Page[int]) == {"items": [1, 2], "total": 2}
