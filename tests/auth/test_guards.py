"""Guards on routes, routers and WebSockets: 401, 403, the login redirect, object permissions."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from satchel import Request, Router, WebSocket
from satchel.auth import (
    ANONYMOUS,
    APIKeyBackend,
    Auth,
    Backend,
    BearerTokenBackend,
    CurrentUser,
    JWTBackend,
    SessionBackend,
    login,
    login_required,
    permission_required,
    staff_required,
    superuser_required,
)
from satchel.auth.models import Permission
from satchel.db import Database, Session
from satchel.redirects import is_safe_url
from satchel.testing import AsyncTestClient, WebSocketDenied
from tests.auth.conftest import AuthApp, create_user, make_app, run

HTML = {"Accept": "text/html,application/xhtml+xml"}


class Article:
    def __init__(self, slug: str, author_id: int) -> None:
        self.slug = slug
        self.author_id = author_id


ARTICLES = {"mine": Article("mine", 1), "theirs": Article("theirs", 2)}


def get_article(slug: str) -> Article | None:
    return ARTICLES.get(slug)


#: Module-level: handlers' annotations are resolved in the module's namespace.
MAY_EDIT = permission_required("blog.change_article", obj=get_article)


def author_may_edit(user: Any, perm: str, obj: Any) -> bool:
    return perm == "blog.change_article" and obj.author_id == user.id


def guarded_app(database: Database) -> AuthApp:
    target = make_app(database, Auth(object_permission=author_may_edit), csrf=False)
    app = target.app

    @app.post("/login/{username}")
    async def log_in(request: Request, username: str, db: Session) -> str:
        model = target.auth.user_model
        user = await db.scalar(sa.select(model).where(model.username == username))
        await login(request, user)
        return "in"

    @app.get("/private", dependencies=[login_required])
    async def private(user: CurrentUser) -> str:
        return f"hello {user.get_username()}"

    @app.get("/whoami")
    async def whoami(user: Annotated[Any, login_required]) -> str:
        return str(user.get_username())

    staff = Router(prefix="/staff", dependencies=[staff_required])

    @staff.get("/")
    async def staff_home() -> str:
        return "staff"

    app.include(staff)

    @app.get("/root", dependencies=[superuser_required])
    async def root() -> str:
        return "root"

    @app.get("/articles/new", dependencies=[permission_required("blog.add_article")])
    async def new_article() -> str:
        return "new"

    @app.get("/articles/{slug}/edit")
    async def edit(slug: str, user: Annotated[Any, MAY_EDIT]) -> str:
        return f"{user.get_username()} edits {slug}"

    @app.websocket("/feed")
    async def feed(ws: WebSocket, user: Annotated[Any, login_required]) -> None:
        await ws.accept()
        await ws.send_text(f"hello {user.get_username()}")

    @app.websocket("/staff-feed")
    async def staff_feed(ws: WebSocket, user: Any = staff_required) -> None:
        await ws.accept()
        await ws.send_text("staff only")

    return target


def test_anonymous_api_clients_get_401_and_browsers_a_redirect(database: Database) -> None:
    target = guarded_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            api = await client.get("/private")
            assert api.status_code == 401
            assert api.headers["www-authenticate"] == 'Bearer realm="api"'
            page = await client.get("/private?tab=2", headers=HTML)
            assert page.status_code == 303
            assert page.headers["location"] == "/auth/login?next=%2Fprivate%3Ftab%3D2"
            # A script's fetch() and a client sending Authorization get the 401.
            fetch = await client.get("/private", headers={**HTML, "Sec-Fetch-Mode": "cors"})
            assert fetch.status_code == 401
            token = await client.get("/private", headers={**HTML, "Authorization": "Bearer x.y"})
            assert token.status_code == 401
            # Routers' guards, and every method: a POST from a form is sent to log in too.
            assert (await client.get("/staff/")).status_code == 401
            assert (await client.get("/staff/", headers=HTML)).status_code == 303

    run(scenario())


def test_authenticated_but_not_allowed_is_403(database: Database) -> None:
    target = guarded_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            await create_user(target)
            await client.post("/login/ada")
            assert (await client.get("/private")).text == "hello ada"
            assert (await client.get("/whoami")).text == "ada"
            for path in ("/staff/", "/root", "/articles/new"):
                response = await client.get(path, headers=HTML)  # no redirect: logged in
                assert response.status_code == 403, path

    run(scenario())


def test_staff_superusers_and_permissions(database: Database) -> None:
    target = guarded_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            await create_user(target, "boss", is_staff=True)
            editor = await create_user(target, "editor")
            await create_user(target, "root", is_staff=True, is_superuser=True)
            async with target.database.transaction() as db:
                permission = Permission(codename="blog.add_article", name="Can add article")
                db.add(permission)
                stored = await target.auth.get_user(db, editor.id)
                await db.refresh(stored, ["user_permissions"])
                stored.user_permissions.append(permission)
            await client.post("/login/boss")
            assert (await client.get("/staff/")).text == "staff"
            assert (await client.get("/root")).status_code == 403
            await client.post("/login/editor")
            assert (await client.get("/articles/new")).text == "new"
            assert (await client.get("/staff/")).status_code == 403
            await client.post("/login/root")
            for path in ("/staff/", "/root", "/articles/new"):
                assert (await client.get(path)).status_code == 200, path

    run(scenario())


def test_object_permissions(database: Database) -> None:
    target = guarded_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            ARTICLES["mine"].author_id = user.id
            await client.post("/login/ada")
            assert (await client.get("/articles/mine/edit")).text == "ada edits mine"
            assert (await client.get("/articles/theirs/edit")).status_code == 403
            assert (await client.get("/articles/nowhere/edit")).status_code == 404
            async with target.database.session() as db:
                auth = target.auth
                assert await auth.has_perm(db, user, "blog.change_article", ARTICLES["mine"])
                assert not await auth.has_perm(db, user, "blog.change_article")
                assert not await auth.has_perm(db, ANONYMOUS, "blog.change_article")

    run(scenario())


def test_async_object_permission_hooks(database: Database) -> None:
    async def hook(user: Any, perm: str, obj: Any) -> bool:
        return bool(obj == "open")

    target = make_app(database, Auth(object_permission=hook))

    async def scenario() -> None:
        async with AsyncTestClient(target.app):
            user = await create_user(target)
            async with target.database.session() as db:
                assert await target.auth.has_perm(db, user, "x.y", "open")
                assert not await target.auth.has_perm(db, user, "x.y", "shut")

    run(scenario())


async def websocket_refusal(client: AsyncTestClient, path: str, **options: Any) -> int:
    """The status a WebSocket handshake to ``path`` is refused with (it must be refused)."""
    with pytest.raises(WebSocketDenied) as denied:
        async with client.websocket_connect(path, **options):
            pass
    return denied.value.status_code


async def check_websocket_guards(
    target: AuthApp, feed: str, greeting: str, staff: str, anonymous: tuple[str, ...]
) -> None:
    """Anonymous handshakes get 401 (never a redirect), ada gets ``feed``, not ``staff``."""
    async with AsyncTestClient(target.app) as client:
        for path in anonymous:
            assert await websocket_refusal(client, path, headers=HTML) == 401, path
        await create_user(target)
        await client.post("/login/ada")
        async with client.websocket_connect(feed) as ws:
            assert await ws.receive_text() == greeting
        assert await websocket_refusal(client, staff) == 403


def test_websocket_guards(database: Database) -> None:
    target = guarded_app(database)
    run(check_websocket_guards(target, "/feed", "hello ada", "/staff-feed", ("/feed",)))


def test_guards_need_arguments() -> None:
    with pytest.raises(ValueError, match="permission"):
        permission_required()


def test_a_router_guard_covers_its_websocket_routes(database: Database) -> None:
    target = guarded_app(database)
    live = Router(prefix="/live", dependencies=[login_required])

    @live.websocket("/feed")
    async def live_feed(ws: WebSocket, user: CurrentUser) -> None:
        await ws.accept()
        await ws.send_text(f"live for {user.get_username()}")

    @live.websocket("/staff", dependencies=[staff_required])
    async def live_staff(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("staff")

    target.app.include(live)
    anonymous = ("/live/feed", "/live/staff")
    run(check_websocket_guards(target, "/live/feed", "live for ada", "/live/staff", anonymous))


def test_the_login_redirect_never_points_elsewhere(database: Database) -> None:
    target = guarded_app(database)

    @target.app.get("/{rest:path}", dependencies=[login_required])
    async def anything(rest: str) -> str:
        return rest

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            for path in ("//evil.example/x", "/\\evil.example", "/%2F%2Fevil.example"):
                page = await client.get(f"http://testserver{path}", headers=HTML)
                if page.status_code == 404:
                    continue  # the app refuses such paths itself
                assert page.status_code == 303, path
                location = page.headers["location"]
                query = parse_qs(urlsplit(location).query)
                assert urlsplit(location).path == "/auth/login"
                assert all(is_safe_url(value) for value in query.get("next", [])), location
            page = await client.get("/private?a=1&b=%2F%2Fx", headers=HTML)
            next_value = parse_qs(urlsplit(page.headers["location"]).query)["next"][0]
            assert next_value == "/private?a=1&b=%2F%2Fx"
            assert is_safe_url(next_value)

    run(scenario())


def test_head_is_guarded_and_options_reveals_nothing(database: Database) -> None:
    target = guarded_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            head = await client.head("/private")
            assert head.status_code == 401
            assert head.headers["www-authenticate"] == 'Bearer realm="api"'
            options = await client.options("/private")
            assert "hello" not in options.text

    run(scenario())


def test_permissions_are_read_again_by_each_request(database: Database) -> None:
    target = guarded_app(database)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            editor = await create_user(target, "editor")
            await create_user(target, "other")
            await client.post("/login/editor")
            assert (await client.get("/articles/new")).status_code == 403
            async with target.database.transaction() as db:
                permission = Permission(codename="blog.add_article", name="Can add article")
                db.add(permission)
                stored = await target.auth.get_user(db, editor.id)
                await db.refresh(stored, ["user_permissions"])
                stored.user_permissions.append(permission)
            assert (await client.get("/articles/new")).text == "new"  # not cached across
            await client.post("/login/other")
            assert (await client.get("/articles/new")).status_code == 403  # nor across users

    run(scenario())


def test_object_guards_authenticate_before_looking_the_object_up(database: Database) -> None:
    # An anonymous client must not tell existing objects (404 vs 401) apart.
    looked_up: list[str] = []

    def find_article(slug: str) -> Article | None:
        looked_up.append(slug)
        return ARTICLES.get(slug)

    target = guarded_app(database)
    may_view = permission_required("blog.view_article", obj=find_article)

    @target.app.get("/articles/{slug}", dependencies=[may_view])
    async def view(slug: str) -> str:
        return slug

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            for path in ("/articles/mine", "/articles/nowhere"):
                api = await client.get(path)
                assert api.status_code == 401, path
                assert api.headers["www-authenticate"] == 'Bearer realm="api"'
                page = await client.get(path, headers=HTML)
                assert page.status_code == 303, path
            assert looked_up == []
            await create_user(target)
            await client.post("/login/ada")
            assert (await client.get("/articles/nowhere")).status_code == 404
            assert (await client.get("/articles/mine")).status_code == 403
            assert looked_up == ["nowhere", "mine"]

    run(scenario())


def test_each_challenge_is_named_once(database: Database) -> None:
    # Bearer tokens and JWTs share one challenge; an API key names its header.
    jwt_backend = JWTBackend("g" * 64, algorithms=["HS256"])
    backends: list[Backend] = [
        SessionBackend(),
        BearerTokenBackend(),
        jwt_backend,
        APIKeyBackend(),
    ]
    target = make_app(database, Auth(backends=backends))

    @target.app.get("/private", dependencies=[login_required])
    async def private() -> str:
        return "private"

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            refused = await client.get("/private")
            assert refused.status_code == 401
            assert refused.headers.get_list("www-authenticate") == [
                'Bearer realm="api", APIKey header="X-API-Key"'
            ]
            bad_key = await client.get("/private", headers={"X-API-Key": "a.b"})
            assert bad_key.status_code == 401
            assert bad_key.headers["www-authenticate"] == 'APIKey header="X-API-Key"'

    run(scenario())
    with pytest.raises(ValueError, match="header name"):
        APIKeyBackend(header='X-Key"')
