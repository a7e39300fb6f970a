"""Tests for the lifecycle: startup/shutdown hooks, lifespan context, typed state, freezing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from satchel import App, ConfigurationError, Request, Router, Settings, State
from tests.support import request, run_lifespan


@dataclass
class AppState:
    """A typed application state."""

    counter: int = 0
    events: list[str] = field(default_factory=list)


def test_default_state_takes_any_attribute() -> None:
    app = App(settings=Settings())
    assert isinstance(app.state, State)
    app.state.db = "connection"
    assert app.state.db == "connection"


def test_typed_state() -> None:
    app = App(settings=Settings(), state=AppState())
    app.state.counter += 1
    count: int = app.state.counter  # checked by mypy: app.state is AppState

    @app.get("/count")
    async def read(request: Request) -> int:
        return int(request.app.state.counter)

    assert count == 1
    assert request(app, "GET", "/count").json() == 1


def test_hooks_run_in_order_sync_and_async() -> None:
    app = App(settings=Settings(), state=AppState())
    events = app.state.events

    @app.on_startup
    def first() -> None:
        events.append("start 1")

    @app.on_startup
    async def second() -> None:
        events.append("start 2")

    @app.on_shutdown
    async def stop_first() -> None:
        events.append("stop 1")

    @app.on_shutdown
    def stop_second() -> None:
        events.append("stop 2")

    async def run() -> None:
        async with app.lifespan_context():
            events.append("serving")

    asyncio.run(run())
    # Shutdown hooks run in the order they were registered.
    assert events == ["start 1", "start 2", "serving", "stop 1", "stop 2"]


def test_lifespan_context_manager() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: App[Any]) -> AsyncIterator[None]:
        app.state.pool = "open"
        events.append("enter")
        yield
        events.append("exit")
        app.state.pool = "closed"

    app = App(settings=Settings(), lifespan=lifespan)
    app.on_shutdown(lambda: events.append("hook"))

    @app.get("/pool")
    async def pool(request: Request) -> str:
        return str(request.app.state.pool)

    async def run() -> str:
        async with app.lifespan_context():
            return str(app.state.pool)

    assert asyncio.run(run()) == "open"
    # The lifespan context is entered after the hooks, so it exits before them.
    assert events == ["enter", "exit", "hook"]
    assert app.state.pool == "closed"


def test_startup_and_shutdown_are_idempotent() -> None:
    app = App(settings=Settings())
    calls: list[str] = []
    app.on_startup(lambda: calls.append("up"))
    app.on_shutdown(lambda: calls.append("down"))

    async def run() -> None:
        await app.startup()
        await app.startup()
        await app.shutdown()
        await app.shutdown()

    asyncio.run(run())
    assert calls == ["up", "down"]


def test_failed_startup_unwinds_what_was_entered() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: App[Any]) -> AsyncIterator[None]:
        raise RuntimeError("database unreachable")
        yield  # pragma: no cover

    app = App(settings=Settings(), lifespan=lifespan)
    app.on_startup(lambda: events.append("up"))
    app.on_shutdown(lambda: events.append("down"))

    with pytest.raises(RuntimeError, match="database unreachable"):
        asyncio.run(app.startup())
    assert events == ["up", "down"]


def test_asgi_lifespan_protocol() -> None:
    events: list[str] = []
    app = App(settings=Settings())
    app.on_startup(lambda: events.append("up"))
    app.on_shutdown(lambda: events.append("down"))
    sent = run_lifespan(app, ["startup", "unknown-event", "shutdown"])
    assert sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
    assert events == ["up", "down"]


def test_asgi_lifespan_startup_failure_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    app = App(settings=Settings())

    @app.on_startup
    def fail() -> None:
        raise ValueError("bad config")

    sent = run_lifespan(app, ["startup"])
    assert sent == [{"type": "lifespan.startup.failed", "message": "ValueError('bad config')"}]
    assert "Application startup failed" in caplog.text


def test_asgi_lifespan_reports_configuration_errors(caplog: pytest.LogCaptureFixture) -> None:
    app = App(settings=Settings())

    @app.get("/x/{value}")
    async def handler() -> str:
        return "missing parameter"

    sent = run_lifespan(app, ["startup"])
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "does not take path parameter" in sent[0]["message"]


def test_asgi_lifespan_shutdown_failure_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    app = App(settings=Settings())

    @app.on_shutdown
    async def fail() -> None:
        raise OSError("disk gone")

    sent = run_lifespan(app, ["startup", "shutdown"])
    assert sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.failed", "message": "OSError('disk gone')"},
    ]
    assert "Application shutdown failed" in caplog.text


def test_registration_after_start_raises() -> None:
    app = App(settings=Settings())
    router = Router(prefix="/r")
    app.include(router)
    asyncio.run(app.startup())

    async def handler() -> str:
        return "late"

    attempts: list[Any] = [
        lambda: app.get("/late")(handler),
        lambda: app.route("/late", ["POST"])(handler),
        lambda: app.websocket("/ws")(handler),
        lambda: router.post("/late")(handler),
        lambda: app.add_middleware(lambda request, call_next: call_next(request)),
        lambda: app.error_handler(ValueError)(handler),
        lambda: app.include(Router()),
        lambda: app.on_startup(handler),
        lambda: app.on_shutdown(handler),
        lambda: app.wrap_asgi(lambda inner: inner),
    ]
    for attempt in attempts:
        with pytest.raises(ConfigurationError, match="frozen"):
            attempt()
    asyncio.run(app.shutdown())


def test_first_request_builds_the_app_without_lifespan() -> None:
    app = App(settings=Settings())

    @app.get("/")
    async def index() -> str:
        return "built on demand"

    assert request(app, "GET", "/").text == "built on demand"
    with pytest.raises(ConfigurationError, match="frozen"):
        app.on_startup(lambda: None)
