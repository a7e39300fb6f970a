"""The routes an app gets for its documentation: the JSON document and the docs UI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from satchel.responses import Response
from satchel.routers import Router

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.openapi.config import OpenAPIConfig

__all__ = ["install"]


def install(app: App[Any], config: OpenAPIConfig) -> None:
    """Add the document and docs routes to ``app`` (called by ``App.build``)."""
    router = Router(name="openapi")
    if config.path is not None:
        cached: list[bytes] = []

        @router.get(config.path, include_in_schema=False, name="document")
        async def document() -> Response:
            # Built on first request, once: the app is frozen by then, so the
            # document cannot change. (HEAD is answered by this route too.)
            if not cached:
                # Loaded only when the document is first asked for.
                from satchel.encoding import json_encode
                from satchel.openapi.schema import build_openapi

                cached.append(json_encode(build_openapi(app)))
            return Response(cached[0], media_type="application/json")

    if config.docs_path is not None:
        from satchel.openapi.docs import add_docs_routes

        add_docs_routes(router, config)
    app.include(router)
