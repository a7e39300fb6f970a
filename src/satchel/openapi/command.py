"""``satchel openapi``: export the app's OpenAPI document (placeholder)."""

from __future__ import annotations

from typing import Any

import click

from satchel.cli import pass_app

__all__ = ["openapi_command"]


@click.command("openapi")
@pass_app
def openapi_command(app: Any) -> None:
    """Print the app's OpenAPI document as JSON."""
    from satchel.encoding import json_encode
    from satchel.openapi.schema import build_openapi

    click.echo(json_encode(build_openapi(app)).decode())
