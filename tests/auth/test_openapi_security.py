"""Guarded routes document their security schemes, scopes and refusals in OpenAPI."""

from __future__ import annotations

from openapi_spec_validator import validate

from satchel import Router
from satchel.auth import (
    APIKeyBackend,
    Auth,
    Backend,
    BearerTokenBackend,
    JWTBackend,
    SessionBackend,
    login_required,
    permission_required,
    scopes_required,
)
from satchel.db import Database
from satchel.openapi import build_openapi
from tests.auth.conftest import make_app

JWT_KEY = "openapi-test-secret-" + "s" * 64


def test_guarded_operations_list_the_schemes(database: Database) -> None:
    backends: list[Backend] = [
        SessionBackend(),
        BearerTokenBackend(),
        APIKeyBackend(header="X-Key"),
        JWTBackend(JWT_KEY, algorithms=["HS256"]),
    ]
    target = make_app(database, Auth(backends=backends))
    app = target.app

    @app.get("/public")
    async def public() -> str:
        return "anyone"

    @app.get("/private", dependencies=[login_required])
    async def private() -> str:
        return "you"

    @app.post("/articles", dependencies=[scopes_required("write")])
    async def write() -> str:
        return "written"

    admin = Router(prefix="/admin", dependencies=[permission_required("blog.delete_article")])

    @admin.delete("/articles/{slug}", responses={403: "Only editors"})
    async def delete(slug: str) -> None:
        return None

    app.include(admin)
    document = build_openapi(app)
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "__Host-session"},
        "bearerAuth": {"type": "http", "scheme": "bearer"},
        "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "jwtAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    }
    paths = document["paths"]
    assert "security" not in paths["/public"]["get"]
    assert "401" not in paths["/public"]["get"]["responses"]
    guarded = paths["/private"]["get"]
    schemes = document["components"]["securitySchemes"]
    assert guarded["security"] == [{name: []} for name in schemes]
    # A scoped token gets 403 even from login_required (no scopes_required lets it in).
    assert {"401", "403"} <= set(guarded["responses"])
    write_op = paths["/articles"]["post"]
    assert write_op["security"][1] == {"bearerAuth": ["write"]}
    assert {"401", "403"} <= set(write_op["responses"])
    deleting = paths["/admin/articles/{slug}"]["delete"]
    assert deleting["responses"]["403"]["description"] == "Only editors"  # the route's own
    assert len(deleting["security"]) == 4


def test_a_route_security_option_wins(database: Database) -> None:
    target = make_app(database)

    @target.app.get("/mixed", dependencies=[login_required], security=[{"bearerAuth": []}])
    async def mixed() -> str:
        return "mixed"

    document = build_openapi(target.app)
    validate(document)
    assert document["paths"]["/mixed"]["get"]["security"] == [{"bearerAuth": []}]
    assert set(document["components"]["securitySchemes"]) == {"cookieAuth", "bearerAuth"}


def test_with_sessions_only_login_required_documents_no_403(database: Database) -> None:
    target = make_app(database, Auth(backends=[SessionBackend()]))

    @target.app.get("/private", dependencies=[login_required])
    async def private() -> str:
        return "you"

    document = build_openapi(target.app)
    validate(document)
    responses = document["paths"]["/private"]["get"]["responses"]
    assert "401" in responses
    assert "403" not in responses  # no token backend: nothing can be refused for scopes
