"""``current_user``: anonymous users, caching, header credentials before cookies, WebSockets."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from satchel import Request, WebSocket
from satchel.auth import ANONYMOUS, CurrentCredentials, CurrentUser, login
from satchel.db import Database, Session
from satchel.testing import AsyncTestClient
from tests.auth.conftest import AuthApp, create_user, make_app, run


def app_with_user_routes(database: Database) -> AuthApp:
    target = make_app(database, csrf=False)
    app = target.app

    @app.post("/login")
    async def log_in(request: Request, db: Session) -> str:
        user = await db.scalar(sa.select(target.auth.user_model))
        await login(request, user)
        return "in"

    @app.get("/me")
    async def me(user: CurrentUser, credentials: CurrentCredentials) -> dict[str, Any]:
        return {
            "name": user.get_username(),
            "anonymous": user.is_anonymous,
            "method": None if credentials is None else credentials.method,
        }

    @app.websocket("/ws")
    async def ws(socket: WebSocket, user: CurrentUser) -> None:
        await socket.accept()
        await socket.send_text(user.get_username() or "anonymous")

    return target


def test_anonymous_user(database: Database) -> None:
    target = app_with_user_routes(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            response = await client.get("/me")
            assert response.json() == {"name": "", "anonymous": True, "method": None}
            assert not ANONYMOUS.is_authenticated
            assert ANONYMOUS.id is None

    run(scenario())


def test_a_bad_token_never_falls_back_to_the_session(database: Database) -> None:
    target = app_with_user_routes(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            await create_user(target)
            await client.post("/login")
            assert (await client.get("/me")).json()["method"] == "session"
            refused = await client.get("/me", headers={"Authorization": "Bearer not-a-token"})
            assert refused.status_code == 401
            # Basic credentials are a browser's: ignored, the session decides.
            basic = await client.get("/me", headers={"Authorization": "Basic YTpi"})
            assert basic.json()["name"] == "ada"

    run(scenario())


def test_websockets_see_the_session_and_tokens(database: Database) -> None:
    target = app_with_user_routes(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            async with client.websocket_connect("/ws") as ws:
                assert await ws.receive_text() == "anonymous"
            user = await create_user(target)
            async with target.database.transaction() as db:
                token, _ = await target.auth.tokens.create(db, user)
            async with client.websocket_connect(
                "/ws", headers={"Authorization": f"Bearer {token}"}
            ) as ws:
                assert await ws.receive_text() == "ada"
            await client.post("/login")
            async with client.websocket_connect("/ws") as ws:
                assert await ws.receive_text() == "ada"

    run(scenario())
