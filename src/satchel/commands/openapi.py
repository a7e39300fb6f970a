"""``satchel openapi``: export the app's OpenAPI document, for client generators and CI diffs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import msgspec

from satchel.cli import pass_app
from satchel.encoding import json_encode
from satchel.errors import ConfigurationError
from satchel.openapi.schema import build_openapi

__all__ = ["openapi_command"]


@click.command("openapi")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the document to FILE instead of standard output.",
)
@click.option(
    "--indent",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Spaces per indentation level; 0 writes the document on one line.",
)
@pass_app
def openapi_command(app: Any, output: Path | None, indent: int) -> None:
    """Print the app's OpenAPI 3.1 document as JSON.

    The document is the one the app serves at its OpenAPI path. It is built
    even when that path is switched off with OpenAPIConfig(path=None).
    """
    if app.openapi_config is None:
        raise click.ClickException("the app has OpenAPI switched off (App(openapi=None))")
    try:
        document = build_openapi(app)
    except ConfigurationError as exc:
        raise click.ClickException(f"cannot document the app: {exc}") from None
    data = json_encode(document)
    if indent:
        data = msgspec.json.format(data, indent=indent)
    text = data.decode() + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
