"""The interactive docs UI (placeholder)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from satchel.responses import HTMLResponse

if TYPE_CHECKING:
    from satchel.openapi.config import OpenAPIConfig
    from satchel.routers import Router

__all__ = ["add_docs_routes"]


def add_docs_routes(router: Router, config: OpenAPIConfig) -> None:
    """Register the docs page and its assets on ``router``."""
    assert config.docs_path is not None

    @router.get(config.docs_path, include_in_schema=False, name="docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>docs</title>")
