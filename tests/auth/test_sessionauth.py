"""Session login and logout: rotation, destruction, remember me, password changes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from satchel import Request
from satchel.auth import CurrentUser, login, logout, update_session_auth_hash
from satchel.auth.sessionauth import SESSION_HASH_KEY, SESSION_USER_KEY, session_hash
from satchel.db import Database, Session
from satchel.sessions import DatabaseStore, MemoryStore, get_session
from satchel.testing import AsyncTestClient
from tests.auth.conftest import KEY, PASSWORD, AuthApp, create_user, make_app, run

COOKIE = "__Host-session"


def routes(target: AuthApp) -> AuthApp:
    """Add pages that log in (JSON body: username, password, remember), out, and say who."""
    app, auth = target.app, target.auth

    @app.post("/login")
    async def login_view(request: Request, credentials: dict[str, Any], db: Session) -> str:
        user = await auth.authenticate(db, credentials["username"], credentials["password"])
        if user is None:
            return "refused"
        await login(request, user, remember=credentials.get("remember", False))
        return "in"

    @app.post("/logout")
    async def logout_view(request: Request) -> str:
        await logout(request)
        return "out"

    @app.post("/visit")
    async def visit(request: Request) -> str:
        (await get_session(request))["visited"] = True
        return "visited"

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"name": user.get_username(), "authenticated": user.is_authenticated}

    @app.post("/password")
    async def change(request: Request, body: dict[str, str], user: CurrentUser, db: Session) -> str:
        await auth.set_password(db, user, body["password"])
        if body.get("keep"):
            await update_session_auth_hash(request, user)
        return "changed"

    return target


def session_cookie(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(COOKIE + "="):
            return header
    return None


async def log_in(client: AsyncTestClient, remember: bool = False) -> httpx.Response:
    credentials = {"username": "ada", "password": PASSWORD, "remember": remember}
    response = await client.post("/login", json=credentials)
    assert response.text == "in"
    return response


def test_login_rotates_the_session_and_logout_destroys_it(database: Database) -> None:
    target = routes(make_app(database, store=MemoryStore(), csrf=False))

    async def scenario() -> None:
        await create_user(target)
        async with AsyncTestClient(target.app) as client:
            assert (await client.get("/me")).json() == {"name": "", "authenticated": False}
            await client.post("/visit")
            before_login = client.cookies[COOKIE]
            await log_in(client)
            after_login = client.cookies[COOKIE]
            assert after_login != before_login  # a new session id (fixation)
            assert (await client.get("/me")).json() == {"name": "ada", "authenticated": True}
            out = await client.post("/logout")
            assert "Max-Age=0" in (session_cookie(out) or "")
            assert COOKIE not in client.cookies
            assert (await client.get("/me")).json()["authenticated"] is False
            # Both ids are gone server-side: replaying either is anonymous.
            for stale in (before_login, after_login):
                async with AsyncTestClient(target.app, cookies={COOKIE: stale}) as replay:
                    assert (await replay.get("/me")).json()["authenticated"] is False

    run(scenario())


def test_remember_me_chooses_a_persistent_cookie(database: Database) -> None:
    target = routes(make_app(database, csrf=False))

    async def scenario() -> None:
        await create_user(target)
        async with AsyncTestClient(target.app) as client:
            browser_session = session_cookie(await log_in(client, remember=False)) or ""
            assert "Max-Age" not in browser_session
            assert "Expires" not in browser_session
            assert (await client.get("/me")).json()["authenticated"] is True
            await client.post("/logout")
            persistent = session_cookie(await log_in(client, remember=True)) or ""
            assert "Max-Age=" in persistent
            await client.post("/logout")
            # Logged out: the next session is an ordinary (persistent) one again.
            assert "Max-Age=" in (session_cookie(await client.post("/visit")) or "")

    run(scenario())


def test_a_password_change_ends_the_other_sessions(database: Database) -> None:
    target = routes(make_app(database, csrf=False))

    async def scenario() -> None:
        await create_user(target)
        async with AsyncTestClient(target.app) as laptop, AsyncTestClient(target.app) as phone:
            await log_in(laptop)
            await log_in(phone)
            new = "another long passphrase"
            assert (await laptop.post("/password", json={"password": new, "keep": "1"})).text == (
                "changed"
            )
            assert (await laptop.get("/me")).json()["authenticated"] is True
            stale = await phone.get("/me")
            assert stale.json()["authenticated"] is False
            assert "Max-Age=0" in (session_cookie(stale) or "")  # the stale session is ended
            # Without update_session_auth_hash, the changer's own session ends too.
            await laptop.post("/password", json={"password": PASSWORD})
            assert (await laptop.get("/me")).json()["authenticated"] is False

    run(scenario())


def test_deactivated_users_are_logged_out(database: Database) -> None:
    target = routes(make_app(database, csrf=False))

    async def scenario() -> None:
        user = await create_user(target)
        async with AsyncTestClient(target.app) as client:
            await log_in(client)
            async with target.database.transaction() as db:
                stored = await target.auth.get_user(db, user.id)
                stored.is_active = False
            assert (await client.get("/me")).json()["authenticated"] is False
            # And cannot log in again.
            credentials = {"username": "ada", "password": PASSWORD}
            assert (await client.post("/login", json=credentials)).text == "refused"

    run(scenario())


def test_login_refuses_an_inactive_user_and_records_last_login(database: Database) -> None:
    target = make_app(database, csrf=False)
    app = target.app

    @app.post("/login/{username}")
    async def login_view(request: Request, username: str, db: Session) -> str:
        user = await target.auth.create_user(db, username, is_active=username != "inactive")
        try:
            await login(request, user)
        except ValueError as exc:
            return str(exc)
        return "in"

    async def scenario() -> None:
        async with AsyncTestClient(app) as client:
            assert (await client.post("/login/inactive")).text == "An inactive user cannot log in"
            assert (await client.post("/login/grace")).text == "in"
            async with target.database.session() as db:
                model = target.auth.user_model
                user = await db.scalar(sa.select(model).where(model.username == "grace"))
                assert user is not None
                assert user.last_login is not None

    run(scenario())


def test_login_of_a_detached_user_writes_last_login_itself(database: Database) -> None:
    target = make_app(database, csrf=False)

    @target.app.post("/login")
    async def login_view(request: Request) -> str:
        async with target.database.transaction() as db:
            user = await target.auth.get_user(db, 1) or await target.auth.create_user(db, "ada")
        await login(request, user)  # user no longer belongs to a session
        return "in"

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            assert (await client.post("/login")).text == "in"
            async with target.database.session() as db:
                user = await db.scalar(sa.select(target.auth.user_model))
                assert user is not None
                assert user.last_login is not None

    run(scenario())


def test_logging_in_as_someone_else_empties_the_session(database: Database) -> None:
    target = routes(make_app(database, csrf=False))

    @target.app.get("/visited")
    async def visited(request: Request) -> bool:
        return bool((await get_session(request)).get("visited"))

    async def scenario() -> None:
        await create_user(target)
        await create_user(target, "grace")
        async with AsyncTestClient(target.app) as client:
            await client.post("/visit")
            await log_in(client)
            assert (await client.get("/visited")).json() is True  # kept across a login
            await client.post("/visit")
            credentials = {"username": "grace", "password": PASSWORD}
            assert (await client.post("/login", json=credentials)).text == "in"
            assert (await client.get("/visited")).json() is False
            assert (await client.get("/me")).json()["name"] == "grace"

    run(scenario())


def test_sessions_in_the_database_store(database: Database) -> None:
    store = DatabaseStore(database.url, table=f"auth_test_sessions_{uuid.uuid4().hex[:12]}")

    async def scenario() -> None:
        await store.create_table()
        try:
            target = routes(make_app(database, store=store, csrf=False))
            await create_user(target)
            async with AsyncTestClient(target.app) as client:
                await client.post("/visit")
                before = client.cookies[COOKIE]
                await log_in(client)
                assert client.cookies[COOKIE] != before
                assert (await client.get("/me")).json()["name"] == "ada"
                async with AsyncTestClient(target.app, cookies={COOKIE: before}) as replay:
                    assert (await replay.get("/me")).json()["authenticated"] is False
        finally:
            async with store.engine.begin() as connection:
                await connection.run_sync(store.table.drop, checkfirst=True)
            await store.aclose()

    run(scenario())


@pytest.mark.parametrize("remember", [False, True])
def test_login_keeps_working_with_csrf_on(database: Database, remember: bool) -> None:
    target = routes(make_app(database))

    async def scenario() -> None:
        await create_user(target)
        async with AsyncTestClient(target.app) as client:
            # No cookie yet: a client without ambient credentials passes CSRF checks.
            await log_in(client, remember=remember)
            refused = await client.post("/logout")  # cookies now, and no token: refused
            assert refused.status_code == 403
            assert (await client.get("/me")).json()["authenticated"] is True

    run(scenario())


#: Session values a tampered (or a corrupted, or an older app's) session may hold.
ODD_USER_IDS: list[Any] = [
    True,  # an int to Python, the first user to a careless look-up
    2**31,  # beyond PostgreSQL's integer
    2**63,  # beyond SQLite's
    -1,
    1.5,
    " 1",
    "1_0",
    "\u0661",  # ARABIC-INDIC DIGIT ONE: int() reads it as 1
    "x" * 5000,
    "nul\x00",
    [1],
    {"id": 1},
]


def planting(target: AuthApp) -> AuthApp:
    """Add ``/plant/{index}``: writes ``ODD_USER_IDS[index]`` and a junk hash to the session."""

    @target.app.post("/plant/{index}")
    async def plant(request: Request, index: int) -> str:
        session = await get_session(request)
        session[SESSION_USER_KEY] = ODD_USER_IDS[index]
        session[SESSION_HASH_KEY] = ["not", "a", "hash"] if index % 2 else "0" * 64
        return "planted"

    return routes(target)


@pytest.mark.parametrize("index", range(len(ODD_USER_IDS)))
def test_odd_session_values_are_anonymous_not_500(database: Database, index: int) -> None:
    target = planting(make_app(database, store=MemoryStore(), csrf=False))

    async def scenario() -> None:
        await create_user(target)
        async with AsyncTestClient(target.app) as client:
            assert (await client.post(f"/plant/{index}")).text == "planted"
            response = await client.get("/me")
            assert response.status_code == 200
            assert response.json() == {"name": "", "authenticated": False}
            assert "Max-Age=0" in (session_cookie(response) or "")  # the stale login ends

    run(scenario())


def test_odd_ids_find_no_user(database: Database) -> None:
    target = make_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app):
            user = await create_user(target)
            async with target.database.session() as db:
                for odd in ODD_USER_IDS:
                    assert await target.auth.get_user(db, odd) is None, odd
                assert await target.auth.get_user(db, user.id) is not None
                assert await target.auth.get_user(db, str(user.id)) is not None

    run(scenario())


def test_a_deleted_user_is_anonymous(database: Database) -> None:
    target = routes(make_app(database, csrf=False))

    async def scenario() -> None:
        user = await create_user(target)
        async with AsyncTestClient(target.app) as client:
            await log_in(client)
            async with target.database.transaction() as db:
                await db.delete(await target.auth.get_user(db, user.id))
            response = await client.get("/me")
            assert response.status_code == 200
            assert response.json()["authenticated"] is False
            assert "Max-Age=0" in (session_cookie(response) or "")

    run(scenario())


def test_the_session_hash_is_keyed_and_bound_to_the_user(database: Database) -> None:
    target = planting(make_app(database, store=MemoryStore(), csrf=False))

    @target.app.get("/stored")
    async def stored(request: Request) -> dict[str, Any]:
        return dict(await get_session(request))

    @target.app.post("/claim/{user_id}")
    async def claim(request: Request, user_id: int) -> str:
        # Another user's id under this session's (valid) hash.
        (await get_session(request))[SESSION_USER_KEY] = user_id
        return "claimed"

    async def scenario() -> None:
        ada = await create_user(target)
        grace = await create_user(target, "grace")
        async with target.database.transaction() as db:
            # The same password hash (the same password, had the salt repeated).
            (await target.auth.get_user(db, grace.id)).password = ada.password
        async with AsyncTestClient(target.app) as client:
            await log_in(client)
            data = (await client.get("/stored")).json()
            digest = data[SESSION_HASH_KEY]
            assert ada.password not in digest
            assert digest != session_hash(["another key"], ada)  # keyed by the app's secret
            assert digest == session_hash([KEY], ada)
            assert session_hash([KEY], ada) != session_hash([KEY], grace)
            await client.post(f"/claim/{grace.id}")
            assert (await client.get("/me")).json()["authenticated"] is False

    run(scenario())
