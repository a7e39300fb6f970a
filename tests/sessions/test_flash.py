"""Flash messages: shown once across a redirect, by category, bounded, on every kind of store."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from satchel import App, RedirectResponse, Request, Settings
from satchel.sessions import (
    CookieStore,
    FlashMessage,
    MemoryStore,
    SessionMiddleware,
    SessionStore,
    flash,
    get_flashed_messages,
    get_session,
)
from satchel.sessions.flash import (
    FLASH_CATEGORIES,
    MAX_FLASH_LENGTH,
    MAX_FLASH_MESSAGES,
    MAX_FLASH_SIZE,
)
from satchel.testing import TestClient
from tests.sessions.support import KEY, session_cookie

Messages = list[dict[str, str]]


def make_app(store: SessionStore | CookieStore | None) -> App[Any]:
    """Routes that flash and redirect, and pages that show (and so consume) the messages.

    CSRF protection is off: these tests are about the messages, not the token.
    """
    app = App(settings=Settings(secret_key=KEY), csrf=False)
    app.add_middleware(SessionMiddleware(store))

    @app.post("/articles")
    async def create(request: Request) -> RedirectResponse:
        await flash(request, "Article saved", "success")
        await flash(request, "Remember to publish it")
        return RedirectResponse("/articles", status_code=303)

    @app.post("/flash")
    async def add(request: Request, body: dict[str, str]) -> str:
        await flash(request, body["message"], body["category"])  # type: ignore[arg-type]
        return "flashed"

    @app.post("/flash-many")
    async def add_many(request: Request, count: int) -> str:
        for number in range(count):
            await flash(request, f"message {number}")
        return "flashed"

    @app.post("/flash-characters")
    async def add_characters(request: Request, code: int, count: int, times: int = 1) -> str:
        # Built here, not sent as JSON: a lone surrogate cannot cross the wire.
        for _ in range(times):
            await flash(request, chr(code) * count)
        return "flashed"

    @app.get("/articles")
    async def listing(request: Request) -> Messages:
        return [as_dict(m) for m in await get_flashed_messages(request)]

    @app.get("/errors")
    async def errors_only(request: Request) -> Messages:
        found = await get_flashed_messages(request, categories=["error", "warning"])
        return [as_dict(m) for m in found]

    @app.get("/session")
    async def raw_session(request: Request) -> dict[str, Any]:
        return dict(await get_session(request))

    return app


def as_dict(message: FlashMessage) -> dict[str, str]:
    return {"category": message.category, "message": message.message}


@pytest.fixture(params=["cookie", "memory"])
def app(request: pytest.FixtureRequest) -> App[Any]:
    store: SessionStore | CookieStore = (
        CookieStore() if request.param == "cookie" else MemoryStore()
    )
    return make_app(store)


def test_messages_are_shown_once_on_the_page_after_the_redirect(app: App[Any]) -> None:
    with TestClient(app) as client:
        response = client.post("/articles")
        assert response.status_code == 303
        response = client.get(response.headers["location"])
        assert response.json() == [
            {"category": "success", "message": "Article saved"},
            {"category": "info", "message": "Remember to publish it"},
        ]
        assert client.get("/articles").json() == []  # shown once
        assert client.get("/session").json() == {}


def test_reading_no_messages_writes_no_session(app: App[Any]) -> None:
    with TestClient(app) as client:
        response = client.get("/articles")
        assert response.json() == []
        assert session_cookie(response) is None


def test_a_category_filter_leaves_the_other_messages_for_later(app: App[Any]) -> None:
    with TestClient(app) as client:
        for category in ("info", "error", "success", "warning"):
            client.post("/flash", json={"message": f"an {category}", "category": category})
        assert client.get("/errors").json() == [
            {"category": "error", "message": "an error"},
            {"category": "warning", "message": "an warning"},
        ]
        assert client.get("/errors").json() == []
        assert client.get("/articles").json() == [
            {"category": "info", "message": "an info"},
            {"category": "success", "message": "an success"},
        ]


def test_unknown_categories_are_refused(app: App[Any]) -> None:
    with TestClient(app) as client:
        response = client.post("/flash", json={"message": "x", "category": "danger"})
        assert response.status_code == 500  # a programming error, not a client's
        assert client.get("/articles").json() == []


def test_only_the_newest_messages_are_kept(app: App[Any]) -> None:
    with TestClient(app) as client:
        client.post("/flash-many", params={"count": MAX_FLASH_MESSAGES * 5})
        client.post("/flash-many", params={"count": 3})  # a second request adds to the cap too
        shown = [m["message"] for m in client.get("/articles").json()]
    expected = [f"message {n}" for n in range(MAX_FLASH_MESSAGES * 5)][-(MAX_FLASH_MESSAGES - 3) :]
    assert shown == [*expected, "message 0", "message 1", "message 2"]
    assert len(shown) == MAX_FLASH_MESSAGES


def test_a_long_message_is_shortened_so_the_session_still_fits_its_cookie(app: App[Any]) -> None:
    # Flashing user input (a 10,000-character title) once failed the response: the
    # cookie session grew past what a cookie holds.
    with TestClient(app) as client:
        response = client.post("/flash", json={"message": "x" * 10_000, "category": "info"})
        assert response.status_code == 200
        (shown,) = client.get("/articles").json()
    assert shown["message"] == "x" * (MAX_FLASH_LENGTH - len("…".encode())) + "…"


def json_size(messages: Messages) -> int:
    """The bytes the messages take in the session, as flash stores them."""
    return len(msgspec.json.encode([[m["category"], m["message"]] for m in messages]))


# A character of each kind whose encoded size is more than one byte, and how many bytes:
# 4 in UTF-8 (an emoji), 6 once JSON-escaped (a control character), 2 (an escaped quote).
WIDE_CHARACTERS = [("\U0001f600", 4), ("\x01", 6), ("\x1f", 6), ('"', 2), ("é", 2)]


@pytest.mark.parametrize(("character", "width"), WIDE_CHARACTERS)
def test_a_message_is_cut_by_its_encoded_size_not_its_characters(
    app: App[Any], character: str, width: int
) -> None:
    # 200 emoji once passed the 200-character cap at 800 bytes each, and ten of them
    # made the cookie session too large to send: every response after failed.
    with TestClient(app) as client:
        response = client.post(
            "/flash-characters", params={"code": ord(character), "count": MAX_FLASH_LENGTH}
        )
        assert response.status_code == 200
        (shown,) = client.get("/articles").json()
    kept = (MAX_FLASH_LENGTH - 3) // width  # "…" takes 3 bytes
    assert shown["message"] == character * kept + "…"


@pytest.mark.parametrize(("character", "width"), WIDE_CHARACTERS)
def test_many_wide_messages_never_overflow_a_cookie_session(character: str, width: int) -> None:
    app = make_app(None)  # the default store: the session is the cookie
    with TestClient(app) as client:
        for _ in range(3):  # across requests too: each adds to what the cookie holds
            response = client.post(
                "/flash-characters",
                params={"code": ord(character), "count": 10_000, "times": MAX_FLASH_MESSAGES},
            )
            assert response.status_code == 200
        shown = client.get("/articles").json()
    assert shown
    assert json_size(shown) <= MAX_FLASH_SIZE
    assert all(m["message"].endswith("…") for m in shown)


def test_the_newest_messages_that_fit_the_size_budget_are_kept(app: App[Any]) -> None:
    with TestClient(app) as client:
        client.post("/flash", json={"message": "first", "category": "info"})
        code = ord("\U0001f600")
        client.post("/flash-characters", params={"code": code, "count": 100, "times": 5})
        shown = client.get("/articles").json()
    # Five cut messages of 200 bytes cannot fit 1 KiB with the short one before them.
    assert [m["message"] for m in shown] == ["\U0001f600" * 49 + "…"] * 4
    assert json_size(shown) <= MAX_FLASH_SIZE


def test_a_lone_surrogate_is_replaced_not_a_failed_response(app: App[Any]) -> None:
    with TestClient(app) as client:
        response = client.post("/flash-characters", params={"code": 0xD800, "count": 2})
        assert response.status_code == 200
        assert client.get("/articles").json() == [{"category": "info", "message": "\ufffd" * 2}]


def test_hostile_text_is_kept_as_text(app: App[Any]) -> None:
    text = '<script>alert("x")</script> & \u2603'
    with TestClient(app) as client:
        client.post("/flash", json={"message": text, "category": "error"})
        assert client.get("/articles").json() == [{"category": "error", "message": text}]


def test_flash_checks_its_arguments_before_touching_the_session() -> None:
    async def main() -> None:
        request: Any = object()  # never reached: the arguments are checked first
        with pytest.raises(ValueError, match="Unknown flash category 'danger'"):
            await flash(request, "x", "danger")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="must be a str, not int"):
            await flash(request, 42)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="Unknown flash category 'fatal'"):
            await get_flashed_messages(request, categories=["fatal"])  # type: ignore[list-item]

    asyncio.run(main())


def test_without_the_session_middleware_the_error_says_what_is_missing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App(settings=Settings(secret_key=KEY), csrf=False)

    @app.get("/")
    async def index(request: Request) -> str:
        await flash(request, "hello")
        return "never"

    with TestClient(app) as client:
        assert client.get("/").status_code == 500
    assert "needs the session middleware" in caplog.text


def test_a_malformed_stored_value_counts_as_no_messages() -> None:
    app = App(settings=Settings(secret_key=KEY), csrf=False)
    app.add_middleware(SessionMiddleware(MemoryStore()))

    @app.get("/plant")
    async def plant(request: Request) -> str:
        (await get_session(request))["satchel.flashes"] = [["fatal", "x"], "junk"]
        return "planted"

    @app.get("/show")
    async def show(request: Request) -> int:
        found = await get_flashed_messages(request)
        await flash(request, "fresh")  # starts a new list rather than failing
        return len(found)

    with TestClient(app) as client:
        client.get("/plant")
        assert client.get("/show").json() == 0


def test_categories_are_the_documented_four() -> None:
    assert FLASH_CATEGORIES == ("success", "info", "warning", "error")
    assert FlashMessage("error", "x").category == "error"
