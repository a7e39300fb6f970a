"""SessionMiddleware end to end, with the cookie store and the memory store."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from satchel import App, ConfigurationError, Depends, Request, Response, Settings
from satchel.responses import StreamingResponse
from satchel.sessions import MemoryStore, Session, SessionMiddleware, get_session
from satchel.testing import AsyncTestClient, TestClient
from tests.servers import serve_source
from tests.sessions.support import (
    COOKIE,
    KEY,
    Clock,
    Harness,
    SessionDep,
    expires_cookie,
    make_app,
    session_cookie,
    set_cookie_headers,
)
from tests.webdriver import chromium_session


@pytest.fixture(params=["cookie", "memory"])
def harness(request: pytest.FixtureRequest) -> Harness:
    clock = Clock()
    store = MemoryStore(clock=clock) if request.param == "memory" else None
    return make_app(store, clock=clock)


def memory_store(harness: Harness) -> MemoryStore:
    assert isinstance(harness.store, MemoryStore)
    return harness.store


# -- what goes out, and when -----------------------------------------------------------


def test_a_route_that_never_asks_gets_nothing(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        response = client.get("/plain")
    assert "set-cookie" not in response.headers
    assert "vary" not in response.headers


def test_loading_without_reading_adds_nothing(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        response = client.get("/load")
    assert "set-cookie" not in response.headers
    assert "vary" not in response.headers


def test_reading_varies_by_cookie_without_setting_one(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        response = client.get("/read")
    assert response.json() == {}
    assert response.headers["vary"] == "Cookie"
    assert "set-cookie" not in response.headers  # an empty new session is not saved


def test_values_persist_and_unchanged_sessions_are_not_resent(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        values = {"user": "ada", "cart": [1, 2.5], "prefs": {"x": None, "on": True}}
        created = client.post("/set", json=values)
        assert session_cookie(created) is not None
        response = client.get("/read")
    assert response.json() == values
    assert "set-cookie" not in response.headers  # read within the activity interval
    assert response.headers["vary"] == "Cookie"


def test_cookie_attributes(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        (header,) = set_cookie_headers(client.post("/set", json={"a": 1}))
    attributes = header.split("; ")[1:]
    assert attributes == ["Path=/", "Max-Age=1800", "Secure", "HttpOnly", "SameSite=Lax"]


def test_new_reflects_whether_a_session_came_with_the_request(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        client.get("/read")
    first, second = harness.seen
    assert first.new
    assert not second.new
    assert second.created_at == harness.clock.now


def test_responses_setting_the_cookie_are_private_unless_they_say_otherwise() -> None:
    harness = make_app()

    @harness.app.post("/public")
    async def public(session: SessionDep) -> Response:
        session["a"] = 1
        return Response("cached", headers={"Cache-Control": "public, max-age=60"})

    with TestClient(harness.app) as client:
        assert client.post("/set", json={"a": 1}).headers["cache-control"] == "private"
        assert "cache-control" not in client.get("/read").headers  # no cookie set
        assert client.post("/public").headers["cache-control"] == "public, max-age=60"


def test_vary_is_added_to_the_existing_header() -> None:
    harness = make_app()

    @harness.app.get("/negotiated")
    async def negotiated(session: SessionDep) -> Response:
        return Response(str(len(session)), headers={"Vary": "Accept-Encoding"})

    @harness.app.get("/star")
    async def star(session: SessionDep) -> Response:
        return Response(str(len(session)), headers={"Vary": "*"})

    @harness.app.get("/two-lines")
    async def two_lines(session: SessionDep) -> Response:
        headers = [("vary", "Accept-Encoding"), ("vary", "Accept-Language")]
        return Response(str(len(session)), headers=headers)

    @harness.app.get("/second-line")
    async def second_line(session: SessionDep) -> Response:
        return Response(str(len(session)), headers=[("vary", "Accept"), ("vary", "cookie")])

    with TestClient(harness.app) as client:
        assert client.get("/negotiated").headers["vary"] == "Accept-Encoding, Cookie"
        assert client.get("/star").headers["vary"] == "*"
        # Every Vary line counts, and none is lost.
        varies = client.get("/two-lines").headers.get_list("vary")
        assert varies == ["Accept-Encoding", "Accept-Language", "Cookie"]
        assert client.get("/second-line").headers.get_list("vary") == ["Accept", "cookie"]


# -- login and logout ------------------------------------------------------------------


def test_login_rotates_the_cookie_and_keeps_the_data(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        before = session_cookie(client.post("/set", json={"cart": [1]}))
        after = session_cookie(client.post("/login"))
        assert after is not None
        assert after != before
        assert client.get("/read").json() == {"cart": [1], "user": "ada"}


def test_rotation_deletes_the_old_server_side_session() -> None:
    clock = Clock()
    harness = make_app(MemoryStore(clock=clock), clock=clock)
    with TestClient(harness.app) as client:
        before = session_cookie(client.post("/set", json={"cart": [1]}))
        client.post("/login")
        assert len(memory_store(harness)) == 1
    with TestClient(harness.app, cookies={COOKIE: before or ""}) as thief:
        response = thief.get("/read")
    assert response.json() == {}
    assert expires_cookie(response)


def test_login_restarts_the_absolute_timeout(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        for _ in range(28):  # active all along, for 11 hours 40 minutes
            harness.clock.advance(25 * 60)
            assert client.get("/read").json() == {"a": 1}
        client.post("/login")
        harness.clock.advance(25 * 60)  # 12 hours 5 minutes after the session started
        assert client.get("/read").json() == {"a": 1, "user": "ada"}
    assert harness.seen[-1].created_at == harness.clock.now - 25 * 60


def test_logout_ends_the_session(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/login")
        response = client.post("/logout")
        assert expires_cookie(response)
        assert response.headers["vary"] == "Cookie"
        assert client.get("/read").json() == {}
    if isinstance(harness.store, MemoryStore):
        assert len(harness.store) == 0


def test_logout_removes_the_server_side_session_for_every_copy_of_the_cookie() -> None:
    clock = Clock()
    harness = make_app(MemoryStore(clock=clock), clock=clock)
    with TestClient(harness.app) as client:
        cookie = session_cookie(client.post("/login")) or ""
        client.post("/logout")
    with TestClient(harness.app, cookies={COOKIE: cookie}) as copy:
        assert copy.get("/read").json() == {}


@pytest.mark.parametrize("change", [True, False], ids=["changed", "activity"])
def test_a_request_finishing_after_logout_does_not_bring_the_session_back(change: bool) -> None:
    # A request that loaded the session before a concurrent logout (or login rotation)
    # deleted it must not save it again: the old cookie would work once more, and its
    # Set-Cookie would log the user back in.
    clock = Clock()
    store = MemoryStore(clock=clock)
    harness = make_app(store, clock=clock)
    loaded, release = asyncio.Event(), asyncio.Event()

    @harness.app.post("/slow")
    async def slow(session: SessionDep) -> str:
        user = str(session.get("user"))
        loaded.set()
        await release.wait()
        if change:
            session["last_page"] = "/slow"
        return user

    async def main() -> tuple[str | None, str | None, dict[str, Any]]:
        async with harness.app.lifespan_context(), AsyncTestClient(harness.app) as client:
            cookie = session_cookie(await client.post("/login"))
            clock.advance(120)  # activity is recorded again on this request
            pending = asyncio.ensure_future(client.post("/slow"))
            await loaded.wait()
            await client.post("/logout")
            release.set()
            late = await pending
            assert late.text == "ada"
            async with AsyncTestClient(harness.app, cookies={COOKIE: cookie or ""}) as copy:
                after = (await copy.get("/read")).json()
            return cookie, session_cookie(late), after

    cookie, late_cookie, after = asyncio.run(main())
    assert cookie is not None
    assert late_cookie is None  # the late response does not set the old session again
    assert after == {}
    assert len(store) == 0


def test_values_set_after_destroy_start_a_new_session(harness: Harness) -> None:
    @harness.app.post("/logout-with-message")
    async def logout_with_message(session: SessionDep) -> str:
        session.destroy()
        session["message"] = "Bye"
        return "bye"

    with TestClient(harness.app) as client:
        old = session_cookie(client.post("/login"))
        new = session_cookie(client.post("/logout-with-message"))
        assert new is not None
        assert new != old
        assert client.get("/read").json() == {"message": "Bye"}


def test_clearing_the_session_ends_it(harness: Harness) -> None:
    @harness.app.post("/clear")
    async def clear(session: SessionDep) -> str:
        session.clear()
        return "cleared"

    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        assert expires_cookie(client.post("/clear"))
        assert client.get("/read").json() == {}
    if isinstance(harness.store, MemoryStore):
        assert len(harness.store) == 0


def test_rotate_gives_a_new_csrf_secret() -> None:
    from satchel.csrf import CSRF_COOKIE, CSRF_HEADER, csrf_token

    app = App(settings=Settings(secret_key=KEY))  # CSRF protection on, as by default
    app.add_middleware(SessionMiddleware())

    @app.get("/form")
    async def form(request: Request) -> str:
        return csrf_token(request)

    @app.post("/login")
    async def login(session: SessionDep) -> str:
        session.rotate()
        session["user"] = "ada"
        return "ok"

    with TestClient(app, headers={"origin": "https://testserver"}) as client:
        token = client.get("/form").text
        secret_before = client.cookies[CSRF_COOKIE]
        response = client.post("/login", headers={CSRF_HEADER: token})
        assert response.status_code == 200
        assert client.cookies[CSRF_COOKIE] != secret_before
        # A token rendered before login no longer passes.
        assert client.post("/login", headers={CSRF_HEADER: token}).status_code == 403


# -- hostile and stale cookies ---------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["garbage", "a.b.c", "", "x" * 5000, "WyJ4Il0.AAAA." + "A" * 43],
    ids=["garbage", "dots", "empty", "huge", "forged"],
)
def test_an_invalid_cookie_gives_a_new_empty_session(harness: Harness, value: str) -> None:
    with TestClient(harness.app, cookies={COOKIE: value}) as client:
        response = client.get("/read")
    assert response.status_code == 200
    assert response.json() == {}
    assert expires_cookie(response)


def test_a_tampered_cookie_gives_a_new_empty_session(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        cookie = session_cookie(client.post("/set", json={"user": "ada"})) or ""
    payload, timestamp, signature = cookie.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for forged in (f"{flipped}.{timestamp}.{signature}", cookie[:-1], cookie + "A"):
        with TestClient(harness.app, cookies={COOKIE: forged}) as client:
            assert client.get("/read").json() == {}


def test_an_unknown_session_id_is_never_adopted() -> None:
    # Two apps with the same keys, each with its own store: a valid, signed id of one
    # is unknown to the other, like an id an attacker planted or one the store forgot.
    other = make_app(MemoryStore())
    with TestClient(other.app) as attacker:
        planted = session_cookie(attacker.post("/set", json={"role": "attacker"})) or ""
    harness = make_app(MemoryStore())
    with TestClient(harness.app, cookies={COOKIE: planted}) as victim:
        assert victim.get("/read").json() == {}
        issued = session_cookie(victim.post("/set", json={"a": 1}))
    assert issued is not None
    assert issued != planted


def test_a_planted_session_is_worthless_after_login() -> None:
    harness = make_app(MemoryStore())
    with TestClient(harness.app) as attacker:
        planted = session_cookie(attacker.post("/set", json={"lang": "en"})) or ""
    with TestClient(harness.app, cookies={COOKIE: planted}) as victim:
        logged_in = session_cookie(victim.post("/login"))
    assert logged_in is not None
    assert logged_in != planted
    with TestClient(harness.app, cookies={COOKIE: planted}) as attacker:
        assert attacker.get("/read").json() == {}


# -- timeouts --------------------------------------------------------------------------


def test_idle_timeout(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        harness.clock.advance(30 * 60 - 1)
        assert client.get("/read").json() == {"a": 1}  # and counts as activity
        harness.clock.advance(30 * 60 - 1)
        assert client.get("/read").json() == {"a": 1}
        harness.clock.advance(30 * 60)
        response = client.get("/read")
    assert response.json() == {}
    assert expires_cookie(response)
    if isinstance(harness.store, MemoryStore):
        assert len(harness.store) == 0


def test_reading_refreshes_activity_at_most_once_a_minute(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        harness.clock.advance(59)
        assert session_cookie(client.get("/read")) is None
        harness.clock.advance(1)
        assert session_cookie(client.get("/read")) is not None


def test_absolute_timeout(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        for _ in range(24):  # used every 30 minutes minus a second
            harness.clock.advance(30 * 60 - 1)
            assert client.get("/read").json() == {"a": 1}
        harness.clock.advance(24)  # 12 hours after it started
        response = client.get("/read")
    assert response.json() == {}
    assert expires_cookie(response)


def test_the_cookie_lives_only_as_long_as_the_session_can() -> None:
    harness = make_app(max_age=3600, idle_timeout=1800)
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        harness.clock.advance(1000)
        (early,) = set_cookie_headers(client.post("/set", json={"b": 2}))
        harness.clock.advance(1000)
        (late,) = set_cookie_headers(client.post("/set", json={"c": 3}))
    assert "Max-Age=1800" in early  # the idle timeout
    assert "Max-Age=1600" in late  # what is left of the hour


def test_timeouts_can_be_switched_off_one_at_a_time() -> None:
    no_idle = make_app(idle_timeout=None, max_age=3600)
    with TestClient(no_idle.app) as client:
        client.post("/set", json={"a": 1})
        no_idle.clock.advance(3599)
        assert client.get("/read").json() == {"a": 1}
        no_idle.clock.advance(1)
        assert client.get("/read").json() == {}
    no_absolute = make_app(max_age=None, idle_timeout=60)
    with TestClient(no_absolute.app) as client:
        client.post("/set", json={"a": 1})
        for _ in range(100):
            no_absolute.clock.advance(59)
            assert client.get("/read").json() == {"a": 1}


# -- keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["cookie", "memory"])
def test_key_rotation_keeps_sessions_while_the_old_key_is_a_fallback(kind: str) -> None:
    clock = Clock()
    store = MemoryStore(clock=clock) if kind == "memory" else None
    old = make_app(store, clock=clock, settings=Settings(secret_key="old " * 10))
    with TestClient(old.app) as client:
        cookie = session_cookie(client.post("/set", json={"user": "ada"})) or ""
    rotated = make_app(
        store,
        clock=clock,
        settings=Settings(secret_key="new " * 10, secret_key_fallbacks=["old " * 10]),
    )
    with TestClient(rotated.app, cookies={COOKIE: cookie}) as client:
        assert client.get("/read").json() == {"user": "ada"}
        resigned = session_cookie(client.post("/set", json={"more": 1})) or ""
    retired = make_app(store, clock=clock, settings=Settings(secret_key="new " * 10))
    with TestClient(retired.app, cookies={COOKIE: cookie}) as client:
        assert client.get("/read").json() == {}
    with TestClient(retired.app, cookies={COOKIE: resigned}) as client:
        assert client.get("/read").json() == {"user": "ada", "more": 1}


def test_without_a_secret_key_sessions_last_as_long_as_the_process() -> None:
    harness = make_app(settings=Settings())
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        assert client.get("/read").json() == {"a": 1}


# -- errors, streaming, access ---------------------------------------------------------


def test_a_server_error_saves_nothing(harness: Harness) -> None:
    @harness.app.post("/fail")
    async def fail(session: SessionDep) -> str:
        session["half"] = "done"
        raise RuntimeError("boom")

    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
        response = client.post("/fail")
        assert response.status_code == 500
        assert set_cookie_headers(response) == []
        assert response.headers["vary"] == "Cookie"
        assert client.get("/read").json() == {"a": 1}


def test_a_server_error_after_destroy_still_logs_out(harness: Harness) -> None:
    @harness.app.post("/fail-logout")
    async def fail_logout(session: SessionDep) -> str:
        session.destroy()
        session["message"] = "never saved"
        raise RuntimeError("boom")

    with TestClient(harness.app) as client:
        client.post("/login")
        response = client.post("/fail-logout")
        assert response.status_code == 500
        assert expires_cookie(response)
        assert client.get("/read").json() == {}


def test_a_client_error_still_saves(harness: Harness) -> None:
    @harness.app.post("/reject")
    async def reject(session: SessionDep) -> Response:
        session["attempts"] = session.get("attempts", 0) + 1
        return Response("no", 400)

    with TestClient(harness.app) as client:
        client.post("/reject")
        assert client.post("/reject").status_code == 400
        assert client.get("/read").json() == {"attempts": 2}


def test_streaming_responses_get_the_cookie_before_the_body(harness: Harness) -> None:
    @harness.app.get("/stream")
    async def stream(session: SessionDep) -> StreamingResponse:
        session["streamed"] = True

        async def body() -> Any:
            yield "one "
            yield "two"

        return StreamingResponse(body(), media_type="text/plain")

    with TestClient(harness.app) as client:
        response = client.get("/stream")
        assert response.text == "one two"
        assert session_cookie(response) is not None
        assert client.get("/read").json() == {"streamed": True}


def test_changing_the_session_after_the_response_started_raises(harness: Harness) -> None:
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": 1})
    (session,) = harness.seen
    with pytest.raises(RuntimeError, match="before returning the response"):
        session["late"] = 1
    with pytest.raises(RuntimeError):
        session.rotate()
    assert session["a"] == 1  # reading is fine


def test_get_session_called_directly_returns_the_same_session() -> None:
    harness = make_app()

    @harness.app.get("/both")
    async def both(request: Request, session: SessionDep) -> bool:
        return await get_session(request) is session

    with TestClient(harness.app) as client:
        assert client.get("/both").json() is True


def test_sync_handlers_use_the_session_too() -> None:
    harness = make_app()

    @harness.app.post("/sync")
    def sync(session: Session = Depends(get_session)) -> str:
        session["from"] = "thread"
        return "ok"

    with TestClient(harness.app) as client:
        client.post("/sync")
        assert client.get("/read").json() == {"from": "thread"}


def test_get_session_without_the_middleware_is_a_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App(settings=Settings(secret_key=KEY))

    @app.get("/")
    async def index(session: SessionDep) -> str:
        return "unreachable"

    with TestClient(app) as client:
        assert client.get("/").status_code == 500
    assert "app.add_middleware(SessionMiddleware())" in caplog.text


def test_an_oversized_cookie_session_is_an_error_not_a_truncation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = make_app()
    with TestClient(harness.app) as client:
        assert client.post("/set", json={"a": "x" * 2000}).status_code == 200
        response = client.post("/set", json={"b": "y" * 2000})
        assert response.status_code == 500
        assert set_cookie_headers(response) == []
        assert client.get("/read").json() == {"a": "x" * 2000}
    assert "too large for a cookie" in caplog.text
    assert "use a server-side store" in caplog.text


def test_the_memory_store_keeps_large_sessions() -> None:
    harness = make_app(MemoryStore())
    with TestClient(harness.app) as client:
        client.post("/set", json={"a": "x" * 100_000})
        assert client.get("/read").json() == {"a": "x" * 100_000}


def test_concurrent_clients_on_the_memory_store() -> None:
    store = MemoryStore()
    harness = make_app(store)

    @harness.app.post("/count")
    async def count(session: SessionDep) -> int:
        value: int = session.get("count", 0) + 1
        await asyncio.sleep(0)  # let the other clients' requests interleave
        session["count"] = value
        return value

    async def five_requests(client: AsyncTestClient) -> list[int]:
        return [(await client.post("/count")).json() for _ in range(5)]

    async def main() -> list[list[int]]:
        async with harness.app.lifespan_context():
            clients = [AsyncTestClient(harness.app) for _ in range(20)]
            try:
                return await asyncio.gather(*(five_requests(c) for c in clients))
            finally:
                for client in clients:
                    await client.aclose()

    assert asyncio.run(main()) == [[1, 2, 3, 4, 5]] * 20
    assert len(store) == 20


# -- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_age": None, "idle_timeout": None}, "never end"),
        ({"max_age": 0}, "positive"),
        ({"idle_timeout": -5}, "positive"),
        ({"secure": False}, "must be Secure"),
        ({"path": "/app"}, "path '/'"),
        ({"cookie_name": "bad name"}, "Invalid cookie name"),
        ({"cookie_name": "session", "secure": False, "same_site": "none"}, "must be Secure"),
    ],
)
def test_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SessionMiddleware(**options)


def test_a_plain_cookie_name_may_drop_the_prefix_rules() -> None:
    harness = make_app(cookie_name="sid", secure=False, path="/")
    with TestClient(harness.app, base_url="http://testserver") as client:
        response = client.post("/set", json={"a": 1})
        assert response.headers["set-cookie"].startswith("sid=")
        assert "Secure" not in response.headers["set-cookie"]
        assert client.get("/read").json() == {"a": 1}


def test_repr() -> None:
    assert repr(SessionMiddleware()) == "<SessionMiddleware '__Host-session'>"


def test_errors_are_logged_without_session_values(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    harness = make_app()

    @harness.app.post("/fail")
    async def fail(session: SessionDep) -> str:
        session["secret"] = "hunter2"
        raise RuntimeError(repr(session))

    with TestClient(harness.app) as client:
        client.post("/fail")
    assert "secret" in caplog.text
    assert "hunter2" not in caplog.text


# -- a real browser on a development server ----------------------------------------------

BROWSER_APP = """
from satchel import App, Depends, HTMLResponse, Request, Settings
from satchel.csrf import csrf_input
from satchel.sessions import MemoryStore, Session, SessionMiddleware, get_session

app = App(settings=Settings(secret_key="browser-test-key-" + "k" * 40))
app.add_middleware(SessionMiddleware(MemoryStore()))


def form(request: Request, action: str, field: str = "") -> str:
    return (
        f'<form method="post" action="{action}">{csrf_input(request)}{field}'
        f'<button id="{action.strip("/")}">Go</button></form>'
    )


@app.get("/")
async def home(request: Request, session: Session = Depends(get_session)) -> HTMLResponse:
    user = session.get("user")
    if user is None:
        return HTMLResponse(form(request, "/login", '<input name="user" value="ada">'))
    return HTMLResponse(
        f'<p id="user">{user}</p>' + form(request, "/note") + form(request, "/logout")
    )


@app.post("/login")
async def login(request: Request, session: Session = Depends(get_session)) -> HTMLResponse:
    user = (await request.form())["user"]
    session.rotate()
    session["user"] = str(user)
    return HTMLResponse('<a id="home" href="/">home</a>')


@app.post("/note")
async def note(session: Session = Depends(get_session)) -> HTMLResponse:
    return HTMLResponse(f'<p id="result">noted for {session.get("user")}</p>')


@app.post("/logout")
async def logout(session: Session = Depends(get_session)) -> HTMLResponse:
    session.destroy()
    return HTMLResponse('<p id="result">bye</p>')
"""


def test_login_flow_in_chromium_over_plain_http(tmp_path: Path) -> None:
    # A development server on http://127.0.0.1: Chromium keeps the Secure __Host- cookies
    # there (a secure context), so forms, CSRF tokens and session rotation work unchanged.
    with serve_source("granian-rsgi", BROWSER_APP, tmp_path) as url, chromium_session() as browser:
        assert url.startswith("http://127.0.0.1:")
        browser.get(url + "/")
        browser.click(browser.find_all("#login")[0])
        browser.click(browser.wait_for(lambda: browser.find_all("#home"), "the login answer")[0])
        user = browser.wait_for(lambda: browser.find_all("#user"), "the signed-in page")
        assert browser.text(user[0]) == "ada"
        names = browser.execute("return document.cookie")
        assert names == ""  # both cookies are HttpOnly

        # The page rendered after login carries tokens of the rotated CSRF secret.
        browser.click(browser.find_all("#note")[0])
        result = browser.wait_for(lambda: browser.find_all("#result"), "the note's answer")
        assert browser.text(result[0]) == "noted for ada"

        browser.get(url + "/")
        browser.click(browser.wait_for(lambda: browser.find_all("#logout"), "the page")[0])
        result = browser.wait_for(lambda: browser.find_all("#result"), "the logout")
        assert browser.text(result[0]) == "bye"
        browser.get(url + "/")
        assert browser.wait_for(lambda: browser.find_all("#login"), "the login form again")
