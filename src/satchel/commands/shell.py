"""``satchel shell``: an interactive Python shell with the app, its models and a session."""

from __future__ import annotations

import ast
import asyncio
import code
import contextlib
import importlib
import importlib.util
import inspect
import types
from collections.abc import Callable
from typing import Any

import click

from satchel.cli import pass_app
from satchel.errors import ConfigurationError, MissingDependencyError

__all__ = ["shell_command", "shell_namespace"]


def shell_namespace(app: Any) -> dict[str, Any]:
    """The names ``satchel shell`` starts with.

    ``app``; with the ``db`` extra, ``select`` and every model class (subclasses of
    ``satchel.db.Model``, by class name); when the app has a Database, also
    ``database`` and ``db``, a synchronous session (``db.scalars(select(Post))``), when
    a sync driver is known for the database's URL.
    Two models of one name are both left out rather than one hiding the other.
    """
    namespace: dict[str, Any] = {"app": app}
    try:
        # The db extra is optional: without it the shell still has the app.
        from satchel import db as satchel_db
    except MissingDependencyError:
        return namespace
    namespace["select"] = satchel_db.select
    namespace.update(_models(satchel_db.Model))
    try:
        database = satchel_db.database_of(app)
    except ConfigurationError:
        return namespace
    namespace["database"] = database
    # Without a sync driver for the URL (and no sync_url) there is no sync session; the
    # shell still opens, with ``await`` on ``database.session()``.
    with contextlib.suppress(ConfigurationError):
        namespace["db"] = database.sync_session()
    return namespace


def _models(base: Any) -> dict[str, type[Any]]:
    classes: dict[str, list[type[Any]]] = {}
    for mapper in base.registry.mappers:
        classes.setdefault(mapper.class_.__name__, []).append(mapper.class_)
    return {name: found[0] for name, found in sorted(classes.items()) if len(found) == 1}


class _AsyncConsole(code.InteractiveConsole):
    """Python's console, where ``await`` works at the top level.

    Every awaited statement runs on one event loop, kept for the whole session,
    so async sessions and connections outlive a line.
    """

    def __init__(self, namespace: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(namespace)
        self.namespace = namespace
        self.loop = loop
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT

    def runcode(self, compiled: types.CodeType) -> None:
        """Run one statement; one that awaits is a coroutine, run on the session's loop."""
        try:
            result = types.FunctionType(compiled, self.namespace)()
            if inspect.iscoroutine(result):
                self.loop.run_until_complete(result)
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


def _banner(namespace: dict[str, Any]) -> str:
    names = ", ".join(sorted(namespace))
    return f"Satchel shell. Defined: {names}.\n`await` works at the top level."


def _run_console(namespace: dict[str, Any]) -> None:
    loop = asyncio.new_event_loop()
    try:
        _AsyncConsole(namespace, loop).interact(banner=_banner(namespace), exitmsg="")
    finally:
        _close_session(namespace)
        try:
            # Async connections opened at the prompt belong to this loop: close them on it.
            if "database" in namespace:
                loop.run_until_complete(namespace["database"].dispose())
        finally:
            loop.close()


def _run_ipython(namespace: dict[str, Any]) -> None:
    ipython = importlib.import_module("IPython")
    try:
        ipython.start_ipython(argv=[], user_ns=namespace, display_banner=False)
    finally:
        _close_session(namespace)


def _close_session(namespace: dict[str, Any]) -> None:
    if "db" in namespace:
        namespace["db"].close()


@click.command("shell")
@click.option(
    "--plain",
    is_flag=True,
    help="Use Python's own console even when IPython is installed.",
)
@pass_app
def shell_command(app: Any, plain: bool) -> None:
    """Start a Python shell with the app, its models and a database session.

    Defines app, select, every model class, database and db (a synchronous
    session: db.scalars(select(Post)).all()). IPython is used when installed.
    """
    namespace = shell_namespace(app)
    run: Callable[[dict[str, Any]], None] = _run_console
    if not plain and importlib.util.find_spec("IPython") is not None:
        click.echo(_banner(namespace))
        run = _run_ipython
    run(namespace)
