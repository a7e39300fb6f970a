"""Building the OpenAPI 3.1 document from an app's compiled routes (placeholder)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from satchel.app import App

__all__ = ["build_openapi"]


def build_openapi(app: App[Any]) -> dict[str, Any]:
    """Return the OpenAPI document of ``app`` as a dict."""
    config = app.openapi_config
    assert config is not None
    return {"openapi": "3.1.0", "info": {"title": config.title, "version": config.version}}
