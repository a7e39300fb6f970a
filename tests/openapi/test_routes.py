"""The routes that serve the document: cached JSON, moved, or switched off."""

from __future__ import annotations

import json
from typing import Any

import pytest

import satchel.openapi.schema
from satchel import App, Settings
from satchel.openapi import OpenAPIConfig, build_openapi
from satchel.testing import TestClient


def test_served_document_is_the_built_one() -> None:
    app = App(settings=Settings(), openapi=OpenAPIConfig(title="Shop"))

    @app.get("/items/{item_id}")
    async def get_item(item_id: int, q: str | None = None) -> dict[str, int]:
        return {"id": item_id}

    with TestClient(app) as client:
        first = client.get("/openapi.json")
        second = client.get("/openapi.json")
        head = client.head("/openapi.json")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == json.loads(json.dumps(build_openapi(app)))
    assert second.content == first.content
    assert head.status_code == 200
    assert head.content == b""
    # The documentation's own routes (the document, the docs UI) are not documented.
    assert list(first.json()["paths"]) == ["/items/{item_id}"]


def test_document_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[App[Any]] = []

    def counting(app: App[Any]) -> dict[str, Any]:
        builds.append(app)
        return build_openapi(app)

    monkeypatch.setattr(satchel.openapi.schema, "build_openapi", counting)
    app = App(settings=Settings())
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/openapi.json").status_code == 200
    assert builds == [app]


def test_openapi_none_serves_nothing() -> None:
    app = App(settings=Settings(), openapi=None)

    @app.get("/")
    async def index() -> str:
        return "home"

    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404
    assert [info.path for info in app.routes_info()] == ["/"]


def test_document_path_moves() -> None:
    app = App(settings=Settings(), openapi=OpenAPIConfig(path="/api/schema.json", docs_path=None))
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        moved = client.get("/api/schema.json")
    assert moved.status_code == 200
    assert moved.json()["openapi"] == "3.1.0"
