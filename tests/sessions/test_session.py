"""The Session object: a mapping of JSON values, its flags and timestamps."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from satchel.sessions import Session
from satchel.testing import TestClient
from tests.sessions.support import Harness, SessionDep, make_app, session_cookie


def run_in_handler(check: Any, harness: Harness | None = None) -> Harness:
    """Run ``check(session)`` in a handler (after /set stored {"a": 1}); re-raise its error."""
    harness = harness or make_app()
    errors: list[BaseException] = []

    @harness.app.post("/check")
    async def handler(session: SessionDep) -> str:
        try:
            check(session)
        except BaseException as exc:
            errors.append(exc)
        return "checked"

    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        client.post("/check")
    if errors:
        raise errors[0]
    return harness


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((1, 2), "has type tuple"),
        ({1, 2}, "has type set"),
        (b"bytes", "has type bytes"),
        (datetime.date(2024, 1, 1), "has type date"),
        (object(), "has type object"),
        (
            {"nested": [1, {"deeper": (1,)}]},
            r"^session\['x'\]\['nested'\]\[1\]\['deeper'\] has type tuple",
        ),
        ({1: "int key"}, "non-string key 1"),
        (float("nan"), "not a finite number"),
        ([float("inf")], "not a finite number"),
    ],
)
def test_only_json_values_are_accepted(value: Any, message: str) -> None:
    def check(session: Session) -> None:
        session["x"] = value

    with pytest.raises(TypeError, match=message):
        run_in_handler(check)


def test_json_values_may_nest_32_levels() -> None:
    def check(session: Session) -> None:
        value: Any = "leaf"
        for _ in range(32):
            value = [value]
        session["ok"] = value
        with pytest.raises(TypeError, match="nested more than 32 levels"):
            session["too deep"] = [value]

    run_in_handler(check)


def test_keys_must_be_strings() -> None:
    def check(session: Session) -> None:
        session[1] = "x"  # type: ignore[index]

    with pytest.raises(TypeError, match="keys must be strings"):
        run_in_handler(check)


def test_mapping_methods() -> None:
    def check(session: Session) -> None:
        assert session.accessed is False
        assert "a" in session
        assert session.accessed is True
        assert len(session) == 1
        assert list(session) == ["a"]
        assert session.modified is False
        assert session.setdefault("b", [1]) == [1]
        assert session.pop("a") == 1
        session.update(c=True)
        assert dict(session) == {"b": [1], "c": True}
        assert session.get("missing", 0) == 0
        del session["c"]
        assert session.modified is True
        with pytest.raises(KeyError):
            del session["c"]

    run_in_handler(check)


def test_changes_in_place_need_modified() -> None:
    harness = make_app()

    @harness.app.post("/append")
    async def append(session: SessionDep) -> str:
        session["cart"].append(len(session["cart"]))
        return "appended"

    @harness.app.post("/append-and-mark")
    async def append_and_mark(session: SessionDep) -> str:
        session["cart"].append(len(session["cart"]))
        session.modified = True
        return "appended"

    with TestClient(harness.app) as client:
        client.post("/set", json={"cart": []})
        assert session_cookie(client.post("/append")) is None
        assert client.get("/read").json() == {"cart": []}
        client.post("/append-and-mark")
        assert client.get("/read").json() == {"cart": [0]}


def test_values_changed_in_place_are_checked_when_saved() -> None:
    harness = make_app()

    @harness.app.post("/bad")
    async def bad(session: SessionDep) -> str:
        session["cart"].append(("a", "tuple"))
        session.modified = True
        return "saved?"

    with TestClient(harness.app) as client:
        client.post("/set", json={"cart": []})
        assert client.post("/bad").status_code == 500
        assert client.get("/read").json() == {"cart": []}


def test_timestamps() -> None:
    harness = make_app()
    started = harness.clock.now
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        harness.clock.advance(120)
        client.get("/read")
        harness.clock.advance(30)
        client.get("/read")
    created, first_read, second_read = harness.seen
    assert created.created_at == created.last_seen == started
    assert first_read.created_at == started
    assert first_read.last_seen == started + 120
    assert second_read.last_seen == started + 120  # as loaded, before this request's


def test_rotate_and_destroy_mark_the_session() -> None:
    def check(session: Session) -> None:
        session.rotate()
        assert session.new
        assert session.modified
        assert dict(session) == {"a": 1}
        session.destroy()
        assert session.new
        assert dict(session) == {}

    run_in_handler(check)


def test_repr_shows_keys_not_values() -> None:
    def check(session: Session) -> None:
        session["password_hint"] = "hunter2"
        assert repr(session) == "<Session keys=['a', 'password_hint'] new=False modified=True>"

    run_in_handler(check)
