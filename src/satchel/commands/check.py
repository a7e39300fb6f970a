"""``satchel check``: list the app's problems, with ``--deploy`` its insecure settings."""

from __future__ import annotations

from typing import Any

import click

from satchel.app import App
from satchel.checks import check_app, check_deploy
from satchel.cli import AppLoadError, pass_app

__all__ = ["check_command"]


@click.command("check")
@click.option(
    "--deploy",
    is_flag=True,
    help="Also check the settings a production deployment needs (debug, keys, hosts, ...).",
)
@pass_app
def check_command(app: Any, deploy: bool) -> None:
    """Check the app for problems; exit with status 1 if any is found.

    Settings are read as the app reads them (SATCHEL_* variables and .env), so run
    it with the production environment. Without --deploy only the checks that hold
    in every environment run; there are none yet.
    """
    if not isinstance(app, App):
        raise AppLoadError(f"{type(app).__name__!r} object is not a Satchel App")
    findings = check_deploy(app) if deploy else check_app(app)
    if not findings:
        click.echo("No issues found.")
        return
    for finding in findings:
        click.echo(f"{finding.id}: {finding.message}\n    Fix: {finding.fix}")
    count = len(findings)
    click.echo(f"\n{count} issue{'s' if count != 1 else ''} found.")
    raise click.exceptions.Exit(1)
