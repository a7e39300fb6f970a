"""``satchel static collect``: the app's static folders as content-hashed files and a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from satchel.cli import pass_app
from satchel.errors import ConfigurationError
from satchel.staticfiles import (
    MANIFEST_NAME,
    CollectError,
    StaticFiles,
    collect_static,
    staticfiles_of,
)

__all__ = ["static_command"]


@click.group("static")
def static_command() -> None:
    """Prepare the app's static files for production."""


@static_command.command("collect")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write (default: the folder of the app's StaticFiles manifest).",
)
@click.option(
    "--compress/--no-compress",
    default=True,
    show_default=True,
    help="Also write .gz siblings of text files (and .br ones when brotli is installed).",
)
@pass_app
def collect_command(app: Any, output: Path | None, compress: bool) -> None:
    """Copy the app's static folders into one folder, with content-hashed names.

    Every file is written under its own name and a hashed one
    (css/site.3f2a9c1b04de.css), with a JSON manifest mapping the first to the
    second, which the app then reads to serve and link the hashed names. Running
    it again rewrites only what changed.
    """
    static = _staticfiles(app)
    if output is None:
        if static.manifest_path is None:
            raise click.UsageError(
                "the app's StaticFiles has no manifest path: pass --output, or configure "
                "StaticFiles(..., manifest='build/static/staticfiles.json')"
            )
        output = static.manifest_path.parent
    manifest_name = MANIFEST_NAME if static.manifest_path is None else static.manifest_path.name
    try:
        result = collect_static(
            static.directories, output, manifest_name=manifest_name, compress=compress
        )
    except (CollectError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Collected {result.files} file{'s' if result.files != 1 else ''} into {output}: "
        f"{result.written} written, manifest {result.manifest.name}."
    )
    if compress:
        codings = ", ".join(result.codings)
        hint = "" if "br" in result.codings else " (install brotli for .br files)"
        click.echo(f"Precompressed: {codings}{hint}.")


def _staticfiles(app: Any) -> StaticFiles:
    try:
        return staticfiles_of(app)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
