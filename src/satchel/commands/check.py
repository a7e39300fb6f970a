"""``satchel check``: list the app's problems, with ``--deploy`` its insecure settings."""

from __future__ import annotations

from typing import Any

import click

from satchel.checks import check_app, check_deploy
from satchel.cli import pass_app

__all__ = ["check_command"]


@click.command("check")
@click.option(
    "--deploy",
    is_flag=True,
    help="Also check the settings a production deployment needs (debug, keys, hosts, ...).",
)
@click.option(
    "--ignore",
    "ignored",
    multiple=True,
    metavar="ID",
    help="Leave out the findings with this id (repeatable), e.g. security.W017 for an "
    "API whose docs are public on purpose.",
)
@pass_app
def check_command(app: Any, deploy: bool, ignored: tuple[str, ...]) -> None:
    """Check the app for problems; exit with status 1 if any is found.

    Settings are read as the app reads them (SATCHEL_* variables and .env), so run
    it with the production environment. Without --deploy only the checks that hold
    in every environment run; there are none yet.
    """
    skip = {finding_id.lower() for finding_id in ignored}
    found = check_deploy(app) if deploy else check_app(app)
    findings = [finding for finding in found if finding.id.lower() not in skip]
    # Said each time, so that nobody mistakes a silenced run for a clean one.
    note = f" ({len(found) - len(findings)} ignored)" if len(findings) < len(found) else ""
    if not findings:
        click.echo(f"No issues found{note}.")
        return
    for finding in findings:
        click.echo(f"{finding.id}: {finding.message}\n    Fix: {finding.fix}")
    count = len(findings)
    click.echo(f"\n{count} issue{'s' if count != 1 else ''} found{note}.")
    raise click.exceptions.Exit(1)
