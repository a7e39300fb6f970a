"""Dependency injection: providers, teardown, caching, scopes, overrides, jobs and WebSockets."""

import asyncio
import dataclasses
import functools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Annotated, Any

import msgspec
import pytest

from satchel import (
    App,
    ConfigurationError,
    Conflict,
    Depends,
    Header,
    Path,
    Query,
    Request,
    Settings,
    StreamingResponse,
    Unauthorized,
    WebSocket,
)
from satchel.asgi import ASGIApp
from satchel.testing import TestClient, WebSocketDenied
from tests.support import Receiver, call_asgi


def make_app() -> App[Any]:
    return App(settings=Settings(access_log=False), openapi=None)


@pytest.fixture
def events() -> list[str]:
    """What happened, in order."""
    return []


def tracked(events: list[str], name: str, *, is_async: bool = False) -> Any:
    """A generator provider recording its setup, teardown and any exception thrown in."""

    def provide() -> Iterator[str]:
        events.append(f"{name} setup")
        try:
            yield name
        except Exception as exc:
            events.append(f"{name} got {type(exc).__name__}")
            raise
        events.append(f"{name} teardown")

    async def provide_async() -> AsyncIterator[str]:
        events.append(f"{name} setup")
        try:
            yield name
        except Exception as exc:
            events.append(f"{name} got {type(exc).__name__}")
            raise
        events.append(f"{name} teardown")

    return provide_async if is_async else provide


def record_sending(app: App[Any], events: list[str]) -> None:
    """Record in ``events`` when ``app`` has sent the last part of a response."""

    def spy(inner: ASGIApp) -> ASGIApp:
        async def asgi(scope: Any, receive: Any, send: Any) -> None:
            async def sending(message: Any) -> None:
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    events.append("response sent")

            await inner(scope, receive, sending)

        return asgi

    app.wrap_asgi(spy)


# -- kinds of providers and teardown -------------------------------------------------------------


def test_every_kind_of_provider(events: list[str]) -> None:
    app = make_app()

    def sync_value() -> str:
        return "sync"

    async def async_value() -> str:
        return "async"

    gen = tracked(events, "gen")
    agen = tracked(events, "agen", is_async=True)

    @app.get("/")
    async def handler(
        a: str = Depends(sync_value),
        b: str = Depends(async_value),
        c: str = Depends(gen),
        d: Annotated[str, Depends(agen)] = "",
    ) -> list[str]:
        events.append("handler")
        return [a, b, c, d]

    with TestClient(app) as client:
        assert client.get("/").json() == ["sync", "async", "gen", "agen"]
    assert events == [
        "gen setup",
        "agen setup",
        "handler",
        "agen teardown",
        "gen teardown",
    ]


def test_teardown_runs_once_the_body_is_complete_before_it_is_sent(events: list[str]) -> None:
    app = make_app()
    gen = tracked(events, "gen")

    @app.get("/")
    async def handler(value: str = Depends(gen)) -> str:
        return value

    record_sending(app, events)
    assert call_asgi(app).status == 200
    # Before sending, so that a failing teardown (a refused commit) can still answer.
    assert events == ["gen setup", "gen teardown", "response sent"]


def test_streaming_teardown_waits_for_the_end_of_the_stream(events: list[str]) -> None:
    app = make_app()
    agen = tracked(events, "db", is_async=True)

    @app.get("/")
    async def handler(db: str = Depends(agen)) -> StreamingResponse:
        async def rows() -> AsyncIterator[bytes]:
            for index in range(3):
                events.append(f"row {index} from {db}")
                yield b"row"

        return StreamingResponse(rows())

    record_sending(app, events)
    assert call_asgi(app).status == 200
    assert events == [
        "db setup",
        "row 0 from db",
        "row 1 from db",
        "row 2 from db",
        "response sent",
        "db teardown",
    ]


def test_a_failing_handler_throws_its_exception_into_teardown(events: list[str]) -> None:
    app = make_app()
    gen, agen = tracked(events, "gen"), tracked(events, "agen", is_async=True)

    @app.get("/")
    async def handler(a: str = Depends(gen), b: str = Depends(agen)) -> None:
        raise ValueError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/").status_code == 500
    assert events == ["gen setup", "agen setup", "agen got ValueError", "gen got ValueError"]


def test_a_failing_provider_tears_down_those_before_it(events: list[str]) -> None:
    app = make_app()
    gen = tracked(events, "gen")

    def authenticate() -> str:
        raise Unauthorized("Who are you?")

    @app.get("/")
    async def handler(a: str = Depends(gen), user: str = Depends(authenticate)) -> None:
        events.append("handler")  # pragma: no cover - never reached

    with TestClient(app) as client:
        assert client.get("/").status_code == 401
    assert events == ["gen setup", "gen got Unauthorized"]


def test_invalid_input_calls_no_provider(events: list[str]) -> None:
    app = make_app()
    gen = tracked(events, "gen")

    @app.get("/")
    async def handler(limit: Annotated[int, Query(ge=1)], a: str = Depends(gen)) -> None:
        pass

    with TestClient(app) as client:
        assert client.get("/?limit=0").status_code == 422
    assert events == []


def test_a_teardown_error_answers_the_request_and_the_others_still_run(
    events: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    gen = tracked(events, "gen")

    def broken() -> Iterator[str]:
        yield "x"
        raise RuntimeError("teardown failed")

    def refusing() -> Iterator[str]:
        yield "y"
        raise Conflict("Duplicate slug")  # what a refused commit becomes

    @app.get("/")
    async def handler(a: str = Depends(gen), b: str = Depends(broken)) -> str:
        return a + b

    @app.get("/refused")
    async def refused(a: str = Depends(gen), b: str = Depends(refusing)) -> str:
        return a + b

    with TestClient(app) as client:
        assert client.get("/").status_code == 500  # the body was never sent as a success
        assert client.get("/refused").status_code == 409
    assert events == ["gen setup", "gen teardown", "gen setup", "gen teardown"]
    assert any("teardown failed" in str(r.exc_info) for r in caplog.records)


def test_a_teardown_error_after_a_stream_is_logged(
    events: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    def broken() -> Iterator[str]:
        yield "x"
        raise RuntimeError("teardown failed")

    @app.get("/")
    async def handler(b: str = Depends(broken)) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b.encode()

        return StreamingResponse(chunks())

    with TestClient(app) as client:
        assert client.get("/").text == "x"  # sent already: the error can only be logged
    assert any("teardown failed" in str(r.exc_info) for r in caplog.records)


# -- graphs: nesting, caching, inputs ------------------------------------------------------------


def test_nested_dependencies_and_per_request_cache(events: list[str]) -> None:
    app = make_app()

    def settings() -> dict[str, int]:
        events.append("settings")
        return {"base": 10}

    def left(s: Annotated[dict[str, int], Depends(settings)]) -> int:
        return s["base"] + 1

    def right(s: Annotated[dict[str, int], Depends(settings)]) -> int:
        return s["base"] + 2

    def fresh(s: Annotated[dict[str, int], Depends(settings, use_cache=False)]) -> int:
        return s["base"]

    @app.get("/")
    async def handler(
        a: int = Depends(left), b: int = Depends(right), c: int = Depends(fresh)
    ) -> list[int]:
        return [a, b, c]

    with TestClient(app) as client:
        assert client.get("/").json() == [11, 12, 10]
        assert events == ["settings", "settings"]  # once cached, once for use_cache=False
        client.get("/")
        assert len(events) == 4  # the cache lives for one request


def test_providers_read_path_query_and_headers_and_are_validated_with_the_handler() -> None:
    app = make_app()

    def owner(user_id: int, x_tenant: Annotated[str, Header(min_length=2)]) -> str:
        return f"{x_tenant}/{user_id}"

    def paging(limit: Annotated[int, Query(ge=1, le=50)] = 10) -> int:
        return limit

    @app.get("/users/{user_id:int}")
    async def handler(
        user_id: int,
        who: str = Depends(owner),
        limit: int = Depends(paging),
        verbose: bool = False,
    ) -> list[Any]:
        return [user_id, who, limit, verbose]

    with TestClient(app) as client:
        response = client.get("/users/7?limit=5&verbose=true", headers={"x-tenant": "acme"})
        assert response.json() == [7, "acme/7", 5, True]
        response = client.get("/users/7?limit=0&verbose=x", headers={"x-tenant": "a"})
        assert response.status_code == 422
        found = [(e["location"], e["name"]) for e in response.json()["errors"]]
        assert sorted(found) == [("header", "x-tenant"), ("query", "limit"), ("query", "verbose")]


def test_a_path_parameter_may_be_taken_by_a_dependency_alone() -> None:
    app = make_app()

    def load_item(item_id: Annotated[int, Path(ge=1)]) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/items/{item_id}")
    async def handler(item: Annotated[dict[str, int], Depends(load_item)]) -> dict[str, int]:
        return item

    with TestClient(app) as client:
        assert client.get("/items/3").json() == {"id": 3}  # an int, as the provider declares
        assert client.get("/items/0").status_code == 422
        assert client.get("/items/x").json()["errors"] == [
            {"location": "path", "name": "item_id", "message": "Expected `int`, got `str`"}
        ]

    other = make_app()

    @other.get("/items/{item_id}")
    async def forgetful(value: int = Depends(lambda: 1)) -> int:
        return value

    with pytest.raises(ConfigurationError, match=r"\['item_id'\], nor do its dependencies"):
        other.build()


def test_an_input_read_by_handler_and_provider_is_reported_once() -> None:
    app = make_app()

    def doubled(limit: Annotated[int, Query(ge=1)] = 5) -> int:
        return limit * 2

    @app.get("/")
    async def handler(
        limit: Annotated[int, Query(ge=1)] = 5, twice: int = Depends(doubled)
    ) -> list[int]:
        return [limit, twice]

    with TestClient(app) as client:
        assert client.get("/?limit=3").json() == [3, 6]
        response = client.get("/?limit=0")
        assert response.json()["errors"] == [
            {"location": "query", "name": "limit", "message": "Expected `int` >= 1"}
        ]
        assert response.json()["detail"] == "1 invalid request field"


def test_request_and_app_are_injected_into_providers() -> None:
    app = make_app()

    def describe(request: Request, application: App[Any]) -> str:
        return f"{request.method} {request.path} {application is app}"

    @app.get("/where")
    async def handler(application: App[Any], where: str = Depends(describe)) -> str:
        assert application is app
        return where

    with TestClient(app) as client:
        assert client.get("/where").text == "GET /where True"


def test_a_provider_taking_either_connection_gets_the_one_of_its_route() -> None:
    app = make_app()

    def kind(connection: Request | WebSocket) -> str:
        return type(connection).__name__

    @app.get("/kind")
    async def over_http(found: str = Depends(kind)) -> str:
        return found

    @app.websocket("/kind")
    async def over_websocket(websocket: WebSocket, found: str = Depends(kind)) -> None:
        await websocket.accept()
        await websocket.send_text(found)
        await websocket.close()

    with TestClient(app) as client:
        assert "Request" in client.get("/kind").text
        with client.websocket_connect("/kind") as session:
            assert "WebSocket" in session.receive_text()


@dataclasses.dataclass
class Pager:
    page: int = 1
    size: int = 20


class Sorter(msgspec.Struct):
    by: str = "id"


def test_classes_are_providers_of_themselves() -> None:
    app = make_app()

    @app.get("/")
    async def handler(
        pager: Annotated[Pager, Depends()], sorter: Annotated[Sorter, Depends()]
    ) -> list[Any]:
        return [pager.page, pager.size, sorter.by]

    with TestClient(app) as client:
        assert client.get("/?page=3&by=name").json() == [3, 20, "name"]
        assert client.get("/?size=x").status_code == 422


class RoleCheck:
    """A provider with state: an object whose ``__call__`` takes the request's inputs."""

    def __init__(self, role: str) -> None:
        self.role = role

    async def __call__(self, token: Annotated[str, Query()] = "") -> str:
        return f"{self.role}:{token}"


def test_callable_objects_are_providers() -> None:
    app = make_app()

    @app.get("/")
    async def handler(
        admin: str = Depends(RoleCheck("admin")), user: str = Depends(RoleCheck("user"))
    ) -> list[str]:
        return [admin, user]

    with TestClient(app) as client:
        assert client.get("/?token=t").json() == ["admin:t", "user:t"]


def require(role: str, token: Annotated[str, Query()] = "") -> str:
    return f"{role}:{token}"


async def require_async(role: str, token: Annotated[str, Query()] = "") -> str:
    return f"{role}:{token}"


def test_partials_are_providers_and_their_bound_arguments_stay_bound() -> None:
    app = make_app()

    @app.get("/")
    async def handler(
        admin: str = Depends(functools.partial(require, "admin")),
        editor: str = Depends(functools.partial(require_async, role="editor")),
    ) -> list[str]:
        return [admin, editor]

    with TestClient(app) as client:
        # ``role`` is bound by the partials: a query parameter cannot set it.
        assert client.get("/?token=t&role=root").json() == ["admin:t", "editor:t"]


def test_sync_providers_run_on_the_loop_unless_thread_is_set(events: list[str]) -> None:
    app = make_app()

    def on_loop() -> int:
        return threading.get_ident()

    def in_thread() -> Iterator[int]:
        yield threading.get_ident()
        events.append(
            "teardown on loop" if threading.get_ident() == loop[0] else "teardown off loop"
        )

    loop: list[int] = []

    @app.get("/")
    async def handler(
        a: int = Depends(on_loop), b: int = Depends(in_thread, thread=True)
    ) -> list[bool]:
        loop.append(threading.get_ident())
        return [a == loop[0], b == loop[0]]

    with TestClient(app) as client:
        assert client.get("/").json() == [True, False]
    assert events == ["teardown off loop"]


def test_dependency_cycles_are_refused_at_startup() -> None:
    app = make_app()

    @app.get("/")
    async def handler(value: Annotated[int, Depends(ping)]) -> int:
        return value

    with pytest.raises(ConfigurationError, match="Dependency cycle: ping -> pong -> ping"):
        app.build()


def ping(value: "Annotated[int, Depends(pong)]") -> int:  # read at startup, when pong exists
    return value


def pong(value: Annotated[int, Depends(ping)]) -> int:
    return value


# -- app scope -----------------------------------------------------------------------------------


def test_app_scoped_provider_lives_from_startup_to_shutdown(events: list[str]) -> None:
    app = make_app()

    async def pool() -> AsyncIterator[str]:
        events.append("pool opened")
        yield "pool"
        events.append("pool closed")

    @app.get("/")
    async def handler(
        a: str = Depends(pool, scope="app"), b: str = Depends(pool, scope="app")
    ) -> str:
        return a + b

    with TestClient(app) as client:
        assert events == ["pool opened"]  # at startup, before any request
        assert client.get("/").text == "poolpool"
        assert client.get("/").text == "poolpool"
        assert events == ["pool opened"]
    assert events == ["pool opened", "pool closed"]


def test_a_failing_app_scoped_provider_stops_startup() -> None:
    app = make_app()

    def broken() -> str:
        raise RuntimeError("no database")

    @app.get("/")
    async def handler(db: str = Depends(broken, scope="app")) -> str:
        return db

    with pytest.raises(Exception, match="no database"), TestClient(app):
        pass


def test_an_app_scoped_failure_tears_down_the_request_providers(events: list[str]) -> None:
    app = make_app()
    gen = tracked(events, "gen")

    def pool() -> str:
        return "pool"

    def broken() -> str:
        raise RuntimeError("pool gone")

    @app.get("/")
    async def handler(a: str = Depends(gen), b: str = Depends(pool, scope="app")) -> str:
        return a + b

    with TestClient(app, raise_server_exceptions=False) as client:
        app.dependency_overrides[pool] = broken  # created lazily now, on the next request
        assert client.get("/").status_code == 500
    assert events == ["gen setup", "gen got RuntimeError"]


def test_a_failing_app_scoped_provider_tears_down_its_own_dependencies(events: list[str]) -> None:
    app = make_app()
    settings = tracked(events, "settings")

    def pool(config: str = Depends(settings)) -> str:
        raise RuntimeError("no database")

    @app.get("/")
    async def handler(db: str = Depends(pool, scope="app")) -> str:
        return db  # pragma: no cover

    with pytest.raises(Exception, match="no database"), TestClient(app):
        pass  # pragma: no cover
    assert events == ["settings setup", "settings got RuntimeError"]


# -- outside requests: jobs and CLI commands -----------------------------------------------------


def test_injector_call_resolves_dependencies_for_jobs(events: list[str]) -> None:
    app = make_app()
    gen = tracked(events, "session")

    def settings() -> dict[str, str]:
        return {"region": "eu"}

    async def job(
        name: str,
        application: App[Any],
        config: Annotated[dict[str, str], Depends(settings)],
        session: str = Depends(gen),
        retries: int = 3,
    ) -> str:
        events.append("job")
        return f"{name} {session} {config['region']} {retries} {application is app}"

    assert asyncio.run(app.injector.call(job, name="sync")) == "sync session eu 3 True"
    assert events == ["session setup", "job", "session teardown"]
    assert asyncio.run(app.injector.call(job, name="x", retries=0)).endswith("0 True")
    with app.dependency_overrides.use(settings, lambda: {"region": "us"}):
        assert "us" in asyncio.run(app.injector.call(job, name="x"))
    with pytest.raises(TypeError, match="missing argument 'name'"):
        asyncio.run(app.injector.call(job))


def test_injector_call_tears_down_with_the_jobs_exception(events: list[str]) -> None:
    app = make_app()
    gen = tracked(events, "session")

    def job(session: str = Depends(gen)) -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        asyncio.run(app.injector.call(job))
    assert events == ["session setup", "session got KeyError"]


def test_injector_call_refuses_generators() -> None:
    app = make_app()

    def job() -> Iterator[int]:
        yield 1

    with pytest.raises(ConfigurationError, match="must not be a generator"):
        asyncio.run(app.injector.call(job))


# -- WebSockets ----------------------------------------------------------------------------------


def test_websocket_handlers_get_query_parameters_and_dependencies(events: list[str]) -> None:
    app = make_app()
    agen = tracked(events, "conn", is_async=True)

    def token(token: Annotated[str, Query(min_length=2)]) -> str:
        return token

    @app.websocket("/ws/{room}")
    async def chat(
        ws: WebSocket,
        room: str,
        who: str = Depends(token),
        conn: str = Depends(agen),
        n: Annotated[int, Query(ge=1)] = 1,
    ) -> None:
        await ws.accept()
        await ws.send_json({"room": room, "who": who, "conn": conn, "n": n})
        events.append("handler returns")

    with TestClient(app) as client:
        with client.websocket_connect("/ws/lobby?token=ann&n=2") as session:
            assert session.receive_json() == {"room": "lobby", "who": "ann", "conn": "conn", "n": 2}
        assert events == ["conn setup", "handler returns", "conn teardown"]
        events.clear()
        with pytest.raises(WebSocketDenied) as info, client.websocket_connect("/ws/lobby?n=0"):
            pass  # pragma: no cover
        assert info.value.status_code == 422
        assert events == []  # refused before any provider ran


def test_websocket_handler_failure_throws_into_teardown(events: list[str]) -> None:
    app = make_app()
    gen = tracked(events, "conn")

    @app.websocket("/ws")
    async def chat(ws: WebSocket, conn: str = Depends(gen)) -> None:
        await ws.accept()
        raise ValueError("boom")

    with TestClient(app, raise_server_exceptions=False) as client, client.websocket_connect("/ws"):
        pass
    assert events == ["conn setup", "conn got ValueError"]


# -- cancellation (the client went away, the server cancelled the request's task) ---------------


def cancel_mid_handler(
    app: App[Any], started: Callable[[], Awaitable[None]], events: list[str]
) -> None:
    """Call ``app`` for ``GET /``, cancel it once ``started`` (awaited) returns, and wait for it.

    "request over" is recorded in ``events`` then: what the event loop's own clean-up
    closes later (abandoned async generators, at its shutdown) comes after it.
    """

    async def main() -> None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
        }
        task = asyncio.ensure_future(app(scope, Receiver(), _drop))
        await started()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        events.append("request over")

    asyncio.run(main())


async def _drop(message: Any) -> None:
    pass


def closing(events: list[str], name: str) -> Any:
    """An async generator provider whose teardown is a ``finally`` (it runs on cancellation too)."""

    async def provide() -> AsyncIterator[str]:
        events.append(f"{name} setup")
        try:
            yield name
        finally:
            events.append(f"{name} closed")

    return provide


def test_cancellation_tears_down_every_provider(events: list[str]) -> None:
    app = make_app()
    outer, inner = closing(events, "outer"), closing(events, "inner")
    started = asyncio.Event()

    @app.get("/")
    async def handler(a: str = Depends(outer), b: str = Depends(inner)) -> str:
        started.set()
        await asyncio.Event().wait()  # until cancelled
        return a + b  # pragma: no cover

    async def wait_started() -> None:
        await started.wait()

    cancel_mid_handler(app, wait_started, events)
    assert events == ["outer setup", "inner setup", "inner closed", "outer closed", "request over"]


def test_a_cancelled_sync_handler_keeps_its_providers_until_it_returns(events: list[str]) -> None:
    app = make_app()
    session = closing(events, "session")
    started, release = threading.Event(), threading.Event()

    @app.get("/")
    def handler(s: str = Depends(session)) -> str:
        started.set()
        release.wait()
        events.append("handler done with the session")
        return s

    async def cancel_when_started() -> None:
        await asyncio.to_thread(started.wait)
        # The worker thread is released just after the cancellation reaches the request.
        asyncio.get_running_loop().call_soon(release.set)

    cancel_mid_handler(app, cancel_when_started, events)
    assert events == [
        "session setup",
        "handler done with the session",
        "session closed",
        "request over",
    ]


def test_a_thread_provider_cancelled_in_its_setup_is_torn_down(events: list[str]) -> None:
    app = make_app()
    started, release = threading.Event(), threading.Event()

    def session() -> Iterator[str]:
        started.set()
        release.wait()
        events.append("session setup")
        try:
            yield "session"
        finally:
            events.append("session closed")

    @app.get("/")
    async def handler(s: str = Depends(session, thread=True)) -> str:
        return s  # pragma: no cover - cancelled before

    async def cancel_when_started() -> None:
        await asyncio.to_thread(started.wait)
        asyncio.get_running_loop().call_soon(release.set)

    cancel_mid_handler(app, cancel_when_started, events)
    assert events == ["session setup", "session closed", "request over"]


def test_route_dependencies_run_before_the_body_is_read() -> None:
    from satchel import Depends, TooManyRequests

    calls: list[str] = []
    closed: list[str] = []

    def limit() -> None:
        calls.append("limit")
        if len(calls) > 1:
            raise TooManyRequests("slow down", headers={"retry-after": "1"})

    def audit() -> Iterator[None]:
        try:
            yield None
        finally:
            closed.append("audit")

    class Item(msgspec.Struct):
        name: str

    app = App(settings=Settings(), openapi=None, csrf=False)

    @app.post("/items", dependencies=[Depends(limit), Depends(audit)])
    async def create(item: Item) -> str:
        return item.name

    with TestClient(app) as client:
        assert client.post("/items", json={"name": "a"}).text == "a"
        # Over the limit: refused before the (malformed) body is read or validated.
        refused = client.post("/items", content=b"{", headers={"content-type": "text/plain"})
        assert refused.status_code == 429
    calls.clear()
    with TestClient(app) as client:
        # A body refused after the early providers ran still tears them down.
        refused = client.post("/items", content=b"{", headers={"content-type": "text/plain"})
        assert refused.status_code == 415
    assert closed == ["audit", "audit"]
