"""The ``satchel`` command line: ``run``, ``routes`` and the commands installed packages add.

Only the ``satchel`` console script imports this module: ``import satchel`` imports
neither click nor Granian. Packages add commands through the ``satchel.commands``
entry-point group (see :class:`SatchelGroup` and ``docs/cli.md``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import logging
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

import satchel
from satchel.app import App, RouteInfo
from satchel.errors import ConfigurationError

if TYPE_CHECKING:
    import watchfiles

__all__ = [
    "ENTRY_POINT_GROUP",
    "AppLoadError",
    "AppLocation",
    "SatchelGroup",
    "app_argument",
    "given_app",
    "load_app",
    "logging_config",
    "main",
    "pass_app",
]

#: The entry-point group whose entries (click commands or groups) become ``satchel`` commands.
ENTRY_POINT_GROUP = "satchel.commands"

_APP_META_KEY = "satchel.app_location"
_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")

R = TypeVar("R")

logger = logging.getLogger("satchel.error")


class AppLoadError(click.ClickException):
    """The app named on the command line cannot be found or imported (exit status 2)."""

    exit_code = 2


# -- finding the app ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppLocation:
    """Where an app lives: ``module:attribute`` or ``module:factory()``.

    Attributes:
        module: The dotted module name.
        attribute: A dotted attribute path inside the module (``app``, ``api.app``).
        factory: Call the attribute, with no arguments, to get the app.

    >>> AppLocation.parse("shop.web:create_app()")
    AppLocation(module='shop.web', attribute='create_app', factory=True)
    >>> str(AppLocation.parse("shop"))
    'shop:app'
    """

    module: str
    attribute: str = "app"
    factory: bool = False

    @classmethod
    def parse(cls, text: str) -> AppLocation:
        """Parse ``MODULE``, ``MODULE:NAME`` or ``MODULE:FACTORY()``; ``NAME`` defaults to ``app``.

        Raises:
            AppLoadError: ``text`` is not of that form.
        """
        module, colon, attribute = text.strip().partition(":")
        factory = attribute.endswith("()")
        if factory:
            attribute = attribute[:-2]
        if not colon:
            attribute = "app"
        if not (_is_dotted_name(module) and _is_dotted_name(attribute)):
            raise AppLoadError(
                f"invalid app location {text!r}: expected MODULE:NAME or MODULE:FACTORY(), "
                "like 'app:app' or 'shop.web:create_app()'"
            )
        return cls(module, attribute, factory)

    def __str__(self) -> str:
        return f"{self.module}:{self.attribute}{'()' if self.factory else ''}"


def _is_dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def load_app(location: AppLocation | str) -> Any:
    """Import the app at ``location``, calling it first if it is a factory.

    The ``satchel`` command puts the current directory first on ``sys.path`` before
    it calls this, so ``satchel run app:app`` finds ``./app.py`` as ``python -m`` would.

    Raises:
        AppLoadError: the module or attribute is missing, importing the module raised, or a
            function was named without ``()``.
    """
    if isinstance(location, str):
        location = AppLocation.parse(location)
    target = _find_attribute(location)
    if location.factory:
        _check_callable(target, location)
        return target()
    if inspect.isfunction(target):
        raise AppLoadError(
            f"{location} is a function, not an app; to call it as an app factory, "
            f"write '{location.module}:{location.attribute}()'"
        )
    return target


def _check_callable(target: Any, location: AppLocation) -> None:
    if not callable(target):
        raise AppLoadError(f"{location.attribute!r} in {location.module!r} is not callable")


def _find_attribute(location: AppLocation) -> Any:
    module = _import_app_module(location.module)
    target: Any = module
    for part in location.attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AppLoadError(
                f"module {location.module!r} has no attribute {location.attribute!r}"
            ) from None
    return target


def _import_app_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # Only "the app's own module is missing" is a short message; a missing import
        # inside the user's code deserves its traceback.
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise AppLoadError(f"could not import {name!r}: {exc}") from None
        raise AppLoadError(_import_failure(name, exc)) from None
    except Exception as exc:
        raise AppLoadError(_import_failure(name, exc)) from None


def _import_failure(name: str, exc: BaseException) -> str:
    details = traceback.TracebackException.from_exception(exc)
    # Frames of importlib and of this module tell the user nothing about their code.
    frames = [
        frame
        for frame in details.stack
        if not frame.filename.startswith("<frozen ")
        and frame.filename not in (__file__, importlib.__file__)
    ]
    details.stack = traceback.StackSummary.from_list(frames)
    formatted = "".join(details.format()).rstrip()
    return f"could not import {name!r}: an exception was raised while importing it:\n\n{formatted}"


def _load_in_worker(target: str) -> Any:
    """Granian's target loader: runs in each worker process (also after a reload)."""
    try:
        return load_app(target)
    except AppLoadError as exc:
        # The message already holds the useful traceback; the worker's own would bury it.
        logger.error("%s", exc.message)
        raise SystemExit(exc.exit_code) from None


# -- shared arguments -------------------------------------------------------------------------


def _resolve_location(ctx: click.Context, param: click.Parameter, value: str | None) -> AppLocation:
    if value is None:
        value = ctx.meta.get(_APP_META_KEY) or os.environ.get("SATCHEL_APP")
    if not value:
        raise click.UsageError(
            "no app given: pass MODULE:APP, use 'satchel --app MODULE:APP' "
            "or set the SATCHEL_APP environment variable",
            ctx,
        )
    return AppLocation.parse(value)


def given_app(ctx: click.Context, usage: str) -> Any:
    """The app of ``satchel --app MODULE:APP`` or ``SATCHEL_APP``, imported.

    For commands whose own arguments are something else (revisions, user names), so
    that they take no ``MODULE:APP`` argument. ``usage`` is the command as the error
    message shows it: ``satchel --app MODULE:APP <usage>``.

    Raises:
        click.UsageError: Neither names an app.
    """
    location = ctx.meta.get(_APP_META_KEY) or os.environ.get("SATCHEL_APP")
    if not location:
        raise click.UsageError(
            f"no app given: use 'satchel --app MODULE:APP {usage}' or set SATCHEL_APP", ctx
        )
    return load_app(location)


def app_argument(function: Callable[..., R]) -> Callable[..., R]:
    """Add the optional ``MODULE:APP`` argument, passed on as ``app``, an :class:`AppLocation`.

    Left out, it falls back to ``satchel --app`` and then to ``SATCHEL_APP``.
    """
    argument = click.argument(
        "app", metavar="[MODULE:APP]", required=False, callback=_resolve_location
    )
    return argument(function)


def pass_app(function: Callable[..., R]) -> Callable[..., R]:
    """Like :func:`app_argument`, but pass the imported app itself as ``app``.

    Anything but a Satchel ``App`` at ``MODULE:APP`` is refused (``AppLoadError``).

    >>> @click.command()
    ... @pass_app
    ... def count(app: App) -> None:
    ...     click.echo(len(app.routes_info()))
    """

    @functools.wraps(function)
    def with_app(*args: Any, app: AppLocation, **kwargs: Any) -> R:
        loaded = load_app(app)
        if not isinstance(loaded, App):
            raise AppLoadError(f"{type(loaded).__name__!r} object is not a Satchel App")
        return function(*args, app=loaded, **kwargs)

    return app_argument(with_app)


# -- the root group -----------------------------------------------------------------------


class SatchelGroup(click.Group):
    """A click group that adds the commands registered under :data:`ENTRY_POINT_GROUP`.

    Built-in commands win over registered ones of the same name. A registered command is
    imported only when it is run or listed in ``--help``; one that fails to import is
    reported when it is run, without breaking the other commands.
    """

    def _registered(self, ctx: click.Context) -> dict[str, importlib.metadata.EntryPoint]:
        found: dict[str, importlib.metadata.EntryPoint] | None = ctx.meta.get(ENTRY_POINT_GROUP)
        if found is None:
            found = {}
            for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                found.setdefault(entry.name, entry)
            ctx.meta[ENTRY_POINT_GROUP] = found
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in and registered command names, sorted."""
        return sorted({*super().list_commands(ctx), *self._registered(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The built-in command ``cmd_name``, else the registered one, imported now."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        entry = self._registered(ctx).get(cmd_name)
        return None if entry is None else _load_command(entry)


def _load_command(entry: importlib.metadata.EntryPoint) -> click.Command:
    try:
        command = entry.load()
    except Exception as exc:
        return _broken_command(entry, f"{type(exc).__name__}: {exc}")
    if not isinstance(command, click.Command):
        return _broken_command(entry, f"{type(command).__name__} is not a click command")
    return command


def _broken_command(entry: importlib.metadata.EntryPoint, reason: str) -> click.Command:
    message = f"could not load the {entry.name!r} command from {entry.value!r}: {reason}"

    def fail() -> None:
        raise click.ClickException(message)

    return click.Command(
        entry.name, callback=fail, help=message, short_help="(could not be loaded)"
    )


_VERSION = (
    f"%(prog)s %(version)s (Granian {importlib.metadata.version('granian')}, "
    f"Python {'.'.join(map(str, sys.version_info[:3]))})"
)


@click.group(cls=SatchelGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--app",
    "app_location",
    metavar="MODULE:APP",
    envvar="SATCHEL_APP",
    help="The app for commands that take MODULE:APP (default: $SATCHEL_APP).",
)
@click.version_option(satchel.__version__, prog_name="satchel", message=_VERSION)
@click.pass_context
def main(ctx: click.Context, app_location: str | None) -> None:
    """Satchel: run, inspect and manage a Satchel application."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if app_location:
        ctx.meta[_APP_META_KEY] = app_location


# -- satchel routes -------------------------------------------------------------------------


def _handler_name(handler: Callable[..., Any]) -> str:
    target = handler if hasattr(handler, "__qualname__") else type(handler)
    return f"{target.__module__}.{target.__qualname__}"


def _route_rows(routes: list[RouteInfo]) -> list[dict[str, Any]]:
    return [
        {
            "path": route.path,
            "methods": list(route.methods),
            "name": route.name,
            "handler": _handler_name(route.handler),
            "kind": "websocket" if route.websocket else "http",
        }
        for route in sorted(routes, key=lambda route: route.path)
    ]


def _format_table(rows: list[dict[str, Any]]) -> str:
    columns = ("path", "methods", "kind", "name", "handler")
    cells = [[col.upper() for col in columns]]
    for row in rows:
        cells.append([",".join(row[col]) if col == "methods" else row[col] for col in columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the routes as a JSON array.")
@pass_app
def routes(app: Any, as_json: bool) -> None:
    """List the app's routes, sorted by path."""
    try:
        rows = _route_rows(app.routes_info())
    except ConfigurationError as exc:
        raise click.ClickException(f"the app's routes are misconfigured: {exc}") from None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif rows:
        click.echo(_format_table(rows))
    else:
        click.echo("No routes.")


# -- satchel run --------------------------------------------------------------------------------


def logging_config(level: str = "info", *, access_log: bool = True) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` that ``satchel run`` gives Granian and its workers.

    Granian's server messages and Satchel's ``satchel.*`` loggers go to stderr at
    ``level``; ``satchel.access`` lines go there too unless ``access_log`` is false or
    ``level`` is above ``info``. The root logger is left alone.
    """
    level = level.upper()
    stderr = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "server": {"format": "[%(levelname)s] %(message)s"},
            "satchel": {"format": "[%(levelname)s] %(name)s: %(message)s"},
            "access": {"format": "[%(asctime)s] %(message)s", "datefmt": "%Y-%m-%d %H:%M:%S %z"},
        },
        "handlers": {
            name: {**stderr, "formatter": name} for name in ("server", "satchel", "access")
        },
        # Granian merges this dict shallowly into its defaults: its loggers are restated here.
        "loggers": {
            "_granian": {"handlers": ["server"], "level": level, "propagate": False},
            "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "satchel": {"handlers": ["satchel"], "level": level, "propagate": False},
            "satchel.access": {
                "handlers": ["access"],
                "level": level if access_log else "WARNING",
                "propagate": False,
            },
        },
    }


def _check_servable(location: AppLocation, interface: str) -> None:
    """Import the app in this process so that a bad target fails before any worker starts."""
    if location.factory:
        # A factory runs once per worker; calling it here too would repeat its side effects.
        _check_callable(_find_attribute(location), location)
        return
    app = load_app(location)
    if isinstance(app, App):
        try:
            app.build()
        except ConfigurationError as exc:
            raise click.ClickException(f"the app's routes are misconfigured: {exc}") from None
        if interface == "rsgi":
            try:
                app.check_rsgi()
            except ConfigurationError as exc:
                raise click.UsageError(f"{location}: {exc}") from None
    elif interface == "rsgi" and not hasattr(app, "__rsgi__"):
        raise click.UsageError(f"{location} is not an RSGI app; use --interface asgi")
    elif not callable(app):
        raise AppLoadError(f"{location} is a {type(app).__name__}, not an ASGI app")


def _reload_filter() -> type[watchfiles.PythonFilter]:
    # Watch only what changes the running app: logs or databases written into the project
    # folder would otherwise restart the workers on every request.
    from watchfiles import PythonFilter

    class SourceFilter(PythonFilter):
        def __init__(self) -> None:
            super().__init__(extra_extensions=(".env",))

    return SourceFilter


@main.command(context_settings={"show_default": True})
@app_argument
@click.option("--host", default="127.0.0.1", help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, help="Port to bind.")
@click.option("--reload", is_flag=True, help="Restart when files change (development only).")
@click.option("--workers", type=click.IntRange(min=1), default=1, help="Worker processes.")
@click.option("--interface", type=click.Choice(["rsgi", "asgi"]), default="rsgi")
@click.option("--log-level", type=click.Choice(_LOG_LEVELS), default="info")
@click.option(
    "--access-log/--no-access-log",
    default=True,
    help="Log one line per request (Settings.access_log must be on too).",
)
def run(
    app: AppLocation,
    host: str,
    port: int,
    reload: bool,
    workers: int,
    interface: str,
    log_level: str,
    access_log: bool,
) -> None:
    """Serve the app with the embedded Granian server."""
    if reload and workers > 1:
        raise click.UsageError(
            "--reload cannot be combined with --workers > 1: the reloader runs one worker"
        )
    if reload and importlib.util.find_spec("watchfiles") is None:
        raise click.ClickException(
            "--reload needs the watchfiles package: pip install 'granian[reload]'"
        )
    _check_servable(app, interface)
    if reload:
        # Forked workers would inherit the modules imported above, and so serve stale
        # code after a change; spawned workers import everything afresh.
        multiprocessing.set_start_method("spawn", force=True)

    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    server = Granian(
        str(app),
        address=host,
        port=port,
        interface=Interfaces(interface),
        workers=workers,
        reload=reload,
        reload_filter=_reload_filter() if reload else None,
        # While reloading, a worker that dies on a typo waits for the fix instead of
        # taking the server down.
        reload_ignore_worker_failure=reload,
        websockets=True,
        log_level=LogLevels(log_level),
        log_dictconfig=logging_config(log_level, access_log=access_log),
        # Satchel writes its own access lines; Granian's would double them.
        log_access=False,
    )
    server.serve(target_loader=_load_in_worker)
