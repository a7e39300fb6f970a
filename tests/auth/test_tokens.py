"""Opaque bearer tokens and API keys: hashed, expiring, revocable, scoped; API keys skip CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from satchel import Request
from satchel.auth import (
    APIKeyBackend,
    Auth,
    BearerTokenBackend,
    CurrentUser,
    SessionBackend,
    login,
    login_required,
    permission_required,
    scopes_required,
    staff_required,
    superuser_required,
)
from satchel.cors import CORSConfig
from satchel.db import Database, Session
from satchel.testing import AsyncTestClient
from tests.auth.conftest import AuthApp, create_user, make_app, run

INVALID = 'Bearer realm="api", error="invalid_token"'


def api(target: AuthApp) -> AuthApp:
    """Routes answering who asked, one of them needing the "write" scope."""
    app = target.app

    @app.get("/me")
    async def me(user: CurrentUser) -> str:
        return user.get_username()

    @app.post("/articles", dependencies=[scopes_required("write")])
    async def write(user: CurrentUser) -> str:
        return f"written by {user.get_username()}"

    return target


def with_login(target: AuthApp) -> AuthApp:
    """Adds ``POST /login``, logging the session in as the first user."""

    @target.app.post("/login")
    async def log_in(request: Request, db: Session) -> str:
        await login(request, await db.scalar(sa.select(target.auth.user_model)))
        return "in"

    return target


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def issue(target: AuthApp, user: Any, **options: Any) -> tuple[str, Any]:
    async with target.database.transaction() as db:
        return await target.auth.tokens.create(db, user, **options)


def test_a_token_is_stored_hashed_and_authenticates(database: Database) -> None:
    target = api(make_app(database))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            token, row = await issue(target, user, name="laptop")
            key_id, secret = token.split(".")
            assert row.key_id == key_id
            assert secret not in row.digest
            assert len(secret) >= 43
            assert row.expires_at - datetime.now(UTC) > timedelta(days=29)
            assert row.last_used_at is None
            response = await client.get("/me", headers=bearer(token))
            assert response.status_code == 200
            assert response.text == "ada"
            async with target.database.session() as db:
                stored = await db.get(type(row), row.id)
                assert stored is not None
                assert stored.last_used_at is not None
            # Unscoped: everything the user may do.
            assert (await client.post("/articles", headers=bearer(token))).status_code == 200

    run(scenario())


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # wrong secret
        lambda token: "unknownkeyid." + token.split(".")[1],  # unknown key id
        lambda token: token.split(".")[0],  # no secret
        lambda token: "x" * 500,  # oversized
        lambda token: token + ".extra.parts",  # not ours (a JWT shape): still refused
    ],
)
def test_wrong_tokens_are_401_invalid_token(database: Database, mangle: Any) -> None:
    target = api(make_app(database))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            token, _ = await issue(target, await create_user(target))
            response = await client.get("/me", headers=bearer(mangle(token)))
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == INVALID

    run(scenario())


def test_expired_and_revoked_tokens_are_refused(database: Database) -> None:
    target = api(make_app(database))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            expiring, row = await issue(target, user, expires_in=timedelta(seconds=30))
            assert (await client.get("/me", headers=bearer(expiring))).status_code == 200
            async with target.database.transaction() as db:
                await db.execute(
                    sa.update(type(row))
                    .where(type(row).id == row.id)
                    .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
                )
            assert (await client.get("/me", headers=bearer(expiring))).status_code == 401

            forever, row = await issue(target, user, expires_in=None)
            assert row.expires_at is None
            assert (await client.get("/me", headers=bearer(forever))).status_code == 200
            async with target.database.transaction() as db:
                stored = await db.get(type(row), row.id)
                await target.auth.tokens.revoke(db, stored)
            assert (await client.get("/me", headers=bearer(forever))).status_code == 401

            first, _ = await issue(target, user)
            await issue(target, user, kind="api_key")
            async with target.database.transaction() as db:
                assert await target.auth.tokens.revoke_all(db, user) == 3  # the expired one too
                listed = await target.auth.tokens.for_user(db, user)
                assert len(listed) == 4
                assert all(t.revoked_at is not None for t in listed)
            assert (await client.get("/me", headers=bearer(first))).status_code == 401

    run(scenario())


def test_inactive_owners_tokens_are_refused(database: Database) -> None:
    target = api(make_app(database))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target, is_active=False)
            token, _ = await issue(target, user)
            assert (await client.get("/me", headers=bearer(token))).status_code == 401

    run(scenario())


def test_scopes(database: Database) -> None:
    target = api(make_app(database))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            reader, _ = await issue(target, user, scopes=["read"])
            writer, _ = await issue(target, user, scopes=["read", "write"])
            assert (await client.get("/me", headers=bearer(reader))).status_code == 200
            refused = await client.post("/articles", headers=bearer(reader))
            assert refused.status_code == 403
            assert refused.headers["www-authenticate"] == (
                'Bearer realm="api", error="insufficient_scope", scope="write"'
            )
            allowed = await client.post("/articles", headers=bearer(writer))
            assert allowed.text == "written by ada"
            anonymous = await client.post("/articles")
            assert anonymous.status_code == 401
            assert anonymous.headers["www-authenticate"] == 'Bearer realm="api"'

    run(scenario())


def test_create_refuses_bad_arguments(database: Database) -> None:
    target = make_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app):  # its shutdown closes the database
            await refuse(await create_user(target))

    async def refuse(user: Any) -> None:
        async with target.database.session() as db:
            with pytest.raises(ValueError, match="kind"):
                await target.auth.tokens.create(db, user, kind="cookie")  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="positive"):
                await target.auth.tokens.create(db, user, expires_in=timedelta(0))
            with pytest.raises(ValueError, match="spaces"):
                await target.auth.tokens.create(db, user, scopes=["two words"])

    run(scenario())


def test_api_keys_authenticate_and_skip_csrf(database: Database) -> None:
    auth = Auth(backends=[SessionBackend(), BearerTokenBackend(), APIKeyBackend()])
    target = api(make_app(database, auth))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            key, _ = await issue(target, user, kind="api_key", scopes=["write"])
            token, _ = await issue(target, user)
            headers = {"X-API-Key": key, "Origin": "https://evil.example"}
            client.cookies.set("unrelated", "cookie")  # a cookie would demand a CSRF token
            assert (await client.post("/articles", headers=headers)).status_code == 200
            assert (await client.post("/articles")).status_code == 403  # CSRF still on
            # A bearer token is not an API key, nor the other way round.
            assert (await client.get("/me", headers={"X-API-Key": token})).status_code == 401
            assert (await client.get("/me", headers=bearer(key))).status_code == 401

    run(scenario())


def test_a_custom_user_model_needs_its_own_token_model() -> None:
    class Stranger:
        pass

    with pytest.raises(Exception, match="token_model"):
        _ = Auth(user_model=Stranger).token_model


MALFORMED: list[str | bytes] = [
    "",
    "Bearer",
    "Bearer ",
    "Bearer    ",
    "bearer   a.b   ",
    "Bearer a b c",
    "Bearer a.b.c",  # a JWT's shape, and no JWT backend
    "Bearer \xe9t\xe9.s\xe9cret".encode("latin-1"),  # not ASCII
    "Bearer " + "k" * 10_240,
    "Bearer " + "k" * 16 + "." + "s" * 10_240,
    "Bearer %00." + "s" * 43,
    "Bearer " + "k" * 40 + "." + "s" * 43,  # a key id longer than the column
    "Token abc",  # another scheme: refused too, never the session
]


@pytest.mark.parametrize("header", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_authorization_headers_are_401_never_the_session(
    database: Database, header: str | bytes
) -> None:
    target = with_login(api(make_app(database, csrf=False)))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            await create_user(target)
            await client.post("/login")
            assert (await client.get("/me")).text == "ada"
            value = header if isinstance(header, bytes) else header.encode("latin-1")
            response = await client.get("/me", headers={b"Authorization": value})
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == INVALID

    run(scenario())


def test_a_key_id_with_nul_is_401_not_500(database: Database) -> None:
    target = api(make_app(database))

    async def scenario() -> None:
        async with AsyncTestClient(target.app):
            token, _ = await issue(target, await create_user(target))
            async with target.database.session() as db:
                forged = "\x00" + token
                assert await target.auth.tokens.verify(db, forged, kind="bearer") is None
                assert await target.auth.tokens.verify(db, token, kind="bearer") is not None

    run(scenario())


def test_last_used_at_is_written_at_most_once_a_minute(database: Database) -> None:
    target = api(make_app(database))

    async def last_used(row: Any) -> datetime:
        async with target.database.session() as db:
            stored = await db.get(type(row), row.id)
            assert stored is not None
            assert stored.last_used_at.tzinfo is not None  # aware on both databases
            assert stored.expires_at.tzinfo is not None
            return stored.last_used_at  # type: ignore[no-any-return]

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            token, row = await issue(target, await create_user(target))
            await client.get("/me", headers=bearer(token))
            first = await last_used(row)
            for _ in range(3):
                await client.get("/me", headers=bearer(token))
            assert await last_used(row) == first  # no write per request
            async with target.database.transaction() as db:
                earlier = first - timedelta(minutes=2)
                model = type(row)
                await db.execute(
                    sa.update(model).where(model.id == row.id).values(last_used_at=earlier)
                )
            await client.get("/me", headers=bearer(token))
            assert await last_used(row) > first

    run(scenario())


def test_a_bad_api_key_never_falls_back_to_the_session(database: Database) -> None:
    auth = Auth(backends=[SessionBackend(), BearerTokenBackend(), APIKeyBackend()])
    target = with_login(api(make_app(database, auth)))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            await create_user(target)
            await client.post("/login")  # no cookie yet: no CSRF token needed
            # The header skips CSRF, so it alone decides: the cookie is not used.
            headers = {"X-API-Key": "not-a-key", "Origin": "https://evil.example"}
            assert (await client.post("/articles", headers=headers)).status_code == 401
            assert (await client.get("/me", headers={"X-API-Key": ""})).status_code == 401

    run(scenario())


def test_cors_lets_no_other_site_send_the_api_key_header(database: Database) -> None:
    """Exempting the header from CSRF relies on browsers preflighting it cross-site."""
    auth = Auth(backends=[SessionBackend(), BearerTokenBackend(), APIKeyBackend()])
    cors = CORSConfig(allow_origins=["https://partner.example"], allow_credentials=True)
    target = api(make_app(database, auth, cors=cors))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            preflight = {
                "Origin": "https://partner.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key",
            }
            answer = await client.options("/articles", headers=preflight)
            assert "access-control-allow-origin" not in answer.headers
            other = {**preflight, "Origin": "https://evil.example"}
            answer = await client.options("/articles", headers=other)
            assert "access-control-allow-origin" not in answer.headers

    run(scenario())


def guarded_api(target: AuthApp) -> AuthApp:
    """A route behind each guard, and two behind a scope guard with another one."""
    routes: dict[str, list[Any]] = {
        "/private": [login_required],
        "/staff": [staff_required],
        "/root": [superuser_required],
        "/perm": [permission_required("blog.add_article")],
        "/read": [scopes_required("read")],
        "/read-then-login": [scopes_required("read"), login_required],
        "/login-then-read": [login_required, scopes_required("read")],
    }
    for path, dependencies in routes.items():

        async def guarded() -> str:
            return "ok"

        target.app.get(path, dependencies=dependencies, name=path.strip("/"))(guarded)
    return target


GUARDED = ("/private", "/staff", "/root", "/perm", "/read", "/read-then-login", "/login-then-read")


def test_scoped_tokens_pass_only_the_guards_their_scopes_open(database: Database) -> None:
    target = guarded_api(make_app(database, routes=True))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            root = await create_user(target, is_staff=True, is_superuser=True)
            reader, _ = await issue(target, root, scopes=["read"])
            unscoped, _ = await issue(target, root)
            answers = {
                path: (await client.get(path, headers=bearer(reader))).status_code
                for path in GUARDED
            }
            # Only where a scope guard accepted it first (router guards run first).
            assert answers == {
                "/private": 403,
                "/staff": 403,
                "/root": 403,
                "/perm": 403,
                "/read": 200,
                "/read-then-login": 200,
                "/login-then-read": 403,
            }
            refused = await client.get("/private", headers=bearer(reader))
            assert refused.headers["www-authenticate"] == (
                'Bearer realm="api", error="insufficient_scope"'
            )
            # The HTML password change page too: a token for reading changes no password.
            page = await client.get("/auth/password/change", headers=bearer(reader))
            assert page.status_code == 403
            for path in GUARDED:
                unscoped_answer = await client.get(path, headers=bearer(unscoped))
                assert unscoped_answer.status_code == 200, path
            changing = await client.get("/auth/password/change", headers=bearer(unscoped))
            assert changing.status_code == 200

    run(scenario())


def test_no_scopes_is_unscoped_and_empty_scopes_allow_nothing(database: Database) -> None:
    target = guarded_api(make_app(database))

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            unscoped, unscoped_row = await issue(target, user)
            scopeless, scopeless_row = await issue(target, user, scopes=[])
            assert unscoped_row.scopes is None
            assert scopeless_row.scopes == []
            async with target.database.session() as db:
                model = target.auth.token_model
                stored = await db.scalar(sa.select(model.id).where(model.scopes.is_(None)))
                assert stored == unscoped_row.id  # SQL NULL, not JSON null
            for path in ("/private", "/read"):
                assert (await client.get(path, headers=bearer(unscoped))).status_code == 200
                assert (await client.get(path, headers=bearer(scopeless))).status_code == 403

    run(scenario())
