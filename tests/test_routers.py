"""Tests for routers: nesting, prefixes, names, url_for, per-router middleware and handlers."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import (
    App,
    CallNext,
    ConfigurationError,
    NotFound,
    Request,
    Response,
    Router,
    Settings,
)
from satchel.routers import RouteSpec
from tests.support import call_asgi, request


def _tag(label: str) -> Any:
    async def middleware(request: Request, call_next: CallNext) -> Response:
        request.state.setdefault("trail", []).append(label)
        response = await call_next(request)
        response.headers.add("x-trail", label)
        return response

    middleware.__qualname__ = f"tag_{label}"
    return middleware


def _nested_app() -> App[Any]:
    app = App(settings=Settings(), middleware=[_tag("app")], openapi=None)
    api = Router(prefix="/api", name="api", middleware=[_tag("api")])
    users = Router(prefix="/users", name="users", middleware=[_tag("users")])
    admin = Router(name="admin")

    @app.get("/")
    async def home(request: Request) -> list[str]:
        return list(request.state.get("trail", []))

    @api.get("/ping")
    async def ping(request: Request) -> list[str]:
        return list(request.state["trail"])

    @users.get("/{user_id:int}", name="detail")
    async def user_detail(request: Request, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "trail": request.state["trail"]}

    @users.get("/")
    async def user_list() -> list[int]:
        return [1, 2]

    @admin.get("/stats")
    async def stats() -> str:
        return "stats"

    api.include(users)
    api.include(admin, prefix="/admin")
    app.include(api, prefix="/v1")
    return app


def test_router_records_routes() -> None:
    router = Router()

    @router.route("/x", methods=["get", "POST", "get"], name="ex", status_code=202)
    async def handler() -> None:
        return None

    (spec,) = router.routes
    assert spec == RouteSpec("/x", ("GET", "POST"), handler, "ex", 202, False)


def test_a_misspelt_route_option_is_an_error() -> None:
    router = Router()
    with pytest.raises(TypeError, match="stauts_code"):
        router.post("/x", stauts_code=201)  # type: ignore[call-arg]


def test_prefixes_nest() -> None:
    app = _nested_app()
    assert request(app, "GET", "/v1/api/ping").status_code == 200
    assert request(app, "GET", "/v1/api/users/3").json()["id"] == 3
    assert request(app, "GET", "/v1/api/users/").json() == [1, 2]
    assert request(app, "GET", "/v1/api/admin/stats").text == "stats"
    assert request(app, "GET", "/api/ping").status_code == 404


def test_middleware_runs_outermost_first_and_only_for_its_routes() -> None:
    app = _nested_app()
    assert request(app, "GET", "/").json() == ["app"]
    assert request(app, "GET", "/v1/api/ping").json() == ["app", "api"]
    detail = request(app, "GET", "/v1/api/users/3")
    assert detail.json()["trail"] == ["app", "api", "users"]
    # Responses travel back out: innermost adds its header first.
    assert detail.headers.get_list("x-trail") == ["users", "api", "app"]


def test_names_are_dotted_by_router() -> None:
    app = _nested_app()
    names = [info.name for info in app.routes_info()]
    assert names == [
        "home",
        "api.ping",
        "api.users.detail",
        "api.users.user_list",
        "api.admin.stats",
    ]


def test_url_for_nested_and_quoted() -> None:
    app = _nested_app()
    assert app.url_for("home") == "/"
    assert app.url_for("api.users.detail", user_id=7) == "/v1/api/users/7"
    assert app.url_for("api.admin.stats") == "/v1/api/admin/stats"


def test_url_for_errors() -> None:
    app = _nested_app()
    with pytest.raises(KeyError):
        app.url_for("nope")
    with pytest.raises(ValueError, match="user_id"):
        app.url_for("api.users.detail")
    with pytest.raises(ValueError, match="extra"):
        app.url_for("api.users.detail", user_id=1, extra=2)


def test_url_for_quotes_parameters() -> None:
    app = App(settings=Settings())

    @app.get("/search/{term}")
    async def search(term: str) -> str:
        return term

    @app.get("/files/{rest:path}")
    async def files(rest: str) -> str:
        return rest

    assert app.url_for("search", term="a/b c?&#") == "/search/a%2Fb%20c%3F%26%23"
    assert app.url_for("files", rest="dir/sub dir/f.txt") == "/files/dir/sub%20dir/f.txt"
    assert app.url_for("search", term="caf\u00e9") == "/search/caf%C3%A9"


def test_request_url_for_is_absolute() -> None:
    app = App(settings=Settings())

    @app.get("/items/{item_id:int}")
    async def item(request: Request, item_id: int) -> str:
        return request.url_for("item", item_id=item_id + 1)

    assert request(app, "GET", "/items/1").text == "http://testserver/items/2"


def test_router_error_handlers_apply_to_their_routes_only() -> None:
    app = App(settings=Settings())
    api = Router(prefix="/api")

    @api.error_handler(ValueError)
    async def api_value_error(request: Request, exc: Exception) -> Response:
        return Response(f"api: {exc}", 422)

    @api.get("/bad")
    async def api_bad() -> str:
        raise ValueError("nope")

    @app.get("/bad")
    async def app_bad() -> str:
        raise ValueError("nope")

    app.include(api)
    assert request(app, "GET", "/api/bad").status_code == 422
    assert request(app, "GET", "/api/bad").text == "api: nope"
    assert request(app, "GET", "/bad").status_code == 500


def test_router_error_handler_overrides_the_apps() -> None:
    app = App(settings=Settings())
    child = Router(prefix="/child")

    @app.error_handler(NotFound)
    def app_not_found(request: Request, exc: Exception) -> str:
        return "app"

    @child.error_handler(NotFound)
    def child_not_found(request: Request, exc: Exception) -> str:
        return "child"

    @child.get("/missing")
    async def missing() -> str:
        raise NotFound()

    @app.get("/missing")
    async def app_missing() -> str:
        raise NotFound()

    app.include(child)
    response = request(app, "GET", "/child/missing")
    assert (response.status_code, response.text) == (404, "child")
    assert request(app, "GET", "/missing").text == "app"
    # Unrouted paths belong to no router: the app handles them.
    assert request(app, "GET", "/child/nowhere").text == "app"


def test_app_error_handlers_reach_routes_of_routers_with_middleware() -> None:
    app = App(settings=Settings())
    child = Router(prefix="/c", middleware=[_tag("c")])

    @app.error_handler(KeyError)
    def key_error(request: Request, exc: Exception) -> Response:
        return Response("missing key", 400)

    @child.get("/k")
    async def k() -> str:
        raise KeyError("x")

    app.include(child)
    response = request(app, "GET", "/c/k")
    assert (response.status_code, response.text) == (400, "missing key")
    # The router's middleware saw the handled error as a response.
    assert response.headers["x-trail"] == "c"


def test_router_middleware_can_answer_without_calling_next() -> None:
    async def deny(request: Request, call_next: CallNext) -> Response:
        return Response("denied", 403)

    app = App(settings=Settings())
    private = Router(prefix="/private")
    private.add_middleware(deny)

    @private.get("/x")
    async def x() -> str:
        return "x"

    @app.get("/x")
    async def public_x() -> str:
        return "public"

    app.include(private)
    assert request(app, "GET", "/private/x").status_code == 403
    assert request(app, "GET", "/x").text == "public"


def test_middleware_function_decorator() -> None:
    router = Router()

    @router.middleware_function
    async def noop(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    assert router.middleware == [noop]


@pytest.mark.parametrize("prefix", ["api", "/api/", "/"])
def test_bad_prefix(prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="must start and not end"):
        Router(prefix=prefix)


def test_unknown_or_no_methods() -> None:
    router = Router()
    with pytest.raises(ConfigurationError, match="Unknown HTTP method"):
        router.route("/x", ["FETCH"])
    with pytest.raises(ConfigurationError, match="Unknown HTTP method"):
        router.route("/x", [])


def test_include_self_is_refused() -> None:
    router = Router()
    with pytest.raises(ConfigurationError, match="itself"):
        router.include(router)


def test_duplicate_route_names_are_refused() -> None:
    app = App(settings=Settings())

    @app.get("/a", name="same")
    async def a() -> str:
        return "a"

    @app.get("/b", name="same")
    async def b() -> str:
        return "b"

    with pytest.raises(ConfigurationError, match="Two routes are named 'same'"):
        app.build()


def test_same_handler_name_in_two_routers_is_fine() -> None:
    app = App(settings=Settings())
    one, two = Router(prefix="/one", name="one"), Router(prefix="/two", name="two")
    for router in (one, two):

        @router.get("/")
        async def index() -> str:
            return "x"

        app.include(router)
    assert app.url_for("one.index") == "/one/"
    assert app.url_for("two.index") == "/two/"


def test_routers_freeze_when_the_app_starts() -> None:
    app = App(settings=Settings())
    child = Router()
    grandchild = Router()
    child.include(grandchild)
    app.include(child)
    app.build()

    async def late() -> str:
        return "late"

    for router in (app, child, grandchild):
        with pytest.raises(ConfigurationError, match="frozen"):
            router.get("/late")(late)
        with pytest.raises(ConfigurationError, match="frozen"):
            router.add_middleware(_tag("late"))
        with pytest.raises(ConfigurationError, match="frozen"):
            router.error_handler(404)(late)
        with pytest.raises(ConfigurationError, match="frozen"):
            router.include(Router())


def test_all_method_decorators() -> None:
    app = App(settings=Settings())
    router = Router(prefix="/r")

    async def handler(request: Request) -> str:
        return request.method

    for method in ("get", "post", "put", "patch", "delete"):
        getattr(router, method)("/x", name=method)(handler)
    app.include(router)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        result = call_asgi(app, method=method, path="/r/x")
        assert result.body.decode() == method


def test_router_chain_sees_automatic_options_and_405() -> None:
    app = App(settings=Settings())
    api = Router(prefix="/api")
    seen: list[str] = []

    async def record(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        seen.append(f"{request.method} {response.status_code}")
        response.headers["access-control-allow-origin"] = "https://app.example"
        return response

    api.add_middleware(record)

    @api.error_handler(405)
    def not_allowed(request: Request, exc: Exception) -> dict[str, str]:
        return {"error": "wrong method"}

    @api.get("/items")
    async def items() -> list[int]:
        return [1]

    app.include(api)
    preflight = request(app, "OPTIONS", "/api/items")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    wrong = request(app, "DELETE", "/api/items")
    assert wrong.status_code == 405
    assert wrong.json() == {"error": "wrong method"}
    assert wrong.headers["allow"] == "GET, HEAD, OPTIONS"
    assert seen == ["OPTIONS 204", "DELETE 405"]


def test_route_and_router_dependencies_run_before_the_handler() -> None:
    from satchel import Depends, TooManyRequests

    order: list[str] = []

    def outer() -> None:
        order.append("router")

    def inner() -> None:
        order.append("route")

    def refuse() -> None:
        raise TooManyRequests("slow down", headers={"retry-after": "3"})

    app = App(settings=Settings(), openapi=None)
    api = Router(prefix="/api", dependencies=[Depends(outer)])

    @api.get("/open", dependencies=[Depends(inner)])
    def open_() -> str:
        order.append("handler")
        return "ok"

    @api.get("/closed", dependencies=[Depends(refuse)])
    def closed() -> str:
        order.append("never")
        return "no"

    app.include(api)
    assert request(app, "GET", "/api/open").text == "ok"
    assert order == ["router", "route", "handler"]
    refused = request(app, "GET", "/api/closed")
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "3")
    assert "never" not in order


def test_dependencies_take_only_depends_markers() -> None:
    with pytest.raises(ConfigurationError, match="dependencies takes Depends"):
        Router().get("/x", dependencies=[print])
    with pytest.raises(ConfigurationError, match="dependencies takes Depends"):
        Router(dependencies=[print])
