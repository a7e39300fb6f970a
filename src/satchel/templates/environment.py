"""``Templates``: one app's Jinja2 environment, escaping by default and rendering async."""

from __future__ import annotations

import os
import stat
import weakref
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import jinja2

from satchel.errors import ConfigurationError
from satchel.templates.context import REQUEST_GLOBALS, app_globals
from satchel.templates.current import bind_request

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.routers import Router

__all__ = ["Templates", "escapes", "templates_of"]

#: Where every package keeps its templates (``satchel/auth/templates/...``).
PACKAGE_FOLDER = "templates"
_PLAIN_TEXT = (".txt", ".text")
# Jinja2 keys cached bytecode by template name, file and source only, not by the settings it
# was compiled with: a plain Jinja2 environment (autoescaping off) sharing the folder would
# hand this one unescaped code. Files of Satchel's own name keep the two apart.
_BYTECODE_PATTERN = "__satchel_jinja2_%s.cache"

_registry: weakref.WeakKeyDictionary[App[Any], Templates] = weakref.WeakKeyDictionary()


def escapes(name: str | None) -> bool:
    """Whether the template ``name`` is autoescaped: every one but plain text.

    Templates from strings (``name`` None) are escaped too.

    >>> [escapes(n) for n in ("page.html", "icon.svg", "feed.xml", "mail.txt", None)]
    [True, True, True, False, True]
    """
    return name is None or not name.lower().endswith(_PLAIN_TEXT)


class _Environment(jinja2.Environment):
    """An environment whose autoescaping no setting can switch off.

    A template still can, explicitly and visibly: ``|safe``, ``Markup``, or an
    ``{% autoescape false %}`` block.
    """

    @property
    def autoescape(self) -> Callable[[str | None], bool]:
        return escapes

    @autoescape.setter
    def autoescape(self, value: object) -> None:
        if value is not escapes:
            raise ConfigurationError(
                "Autoescaping cannot be switched off; mark trusted markup with |safe or Markup"
            )


class _DeferredLoader(jinja2.BaseLoader):
    """A loader built on the first template load, when the app's routers are all included."""

    def __init__(self, build: Callable[[], jinja2.BaseLoader]) -> None:
        self._build = build
        self._loader: jinja2.BaseLoader | None = None

    def _resolved(self) -> jinja2.BaseLoader:
        if self._loader is None:
            self._loader = self._build()
        return self._loader

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        return self._resolved().get_source(environment, template)

    def load(
        self,
        environment: jinja2.Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        return self._resolved().load(environment, name, globals)

    def list_templates(self) -> list[str]:
        return self._resolved().list_templates()


class Templates:
    """Jinja2 templates for an app: autoescaped, rendered async, with the request's helpers.

    Templates are looked up, first match wins, in ``directories``, then in the
    ``template_folder`` of each router of the app (in include order), then in the
    ``templates`` folder of each package of ``packages``, then in Satchel's own
    (``satchel/pagination.html``). So a project overrides a battery's template by
    putting one with the same name in its own directory.

    Args:
        directories: The app's template folders; relative paths are relative to the
            working directory when ``Templates`` is created.
        packages: Importable packages that ship a ``templates`` folder (batteries).
        auto_reload: Re-read templates that changed on disk; None: only when the app
            (see :meth:`init_app`) runs in debug mode.
        bytecode_cache: Where compiled templates are kept between processes: a
            directory (created, readable and writable by this user only), a
            ``jinja2.BytecodeCache``, True for a private folder in the system temporary
            directory, False for none. None: that private folder when the app runs
            outside debug mode, none in debug mode.
        globals: Names added to every template (they override Satchel's).
        filters: Filters added to every template.

    >>> templates = Templates("templates", globals={"site": "Example"})
    >>> templates.env.from_string("<b>{{ site }}</b> {{ x }}").render(x="<i>")
    '<b>Example</b> &lt;i&gt;'
    """

    def __init__(
        self,
        directories: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = ("templates",),
        *,
        packages: Iterable[str] = (),
        auto_reload: bool | None = None,
        bytecode_cache: str | os.PathLike[str] | jinja2.BytecodeCache | bool | None = None,
        globals: Mapping[str, Any] | None = None,
        filters: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        if isinstance(directories, str | os.PathLike):
            directories = (directories,)
        self.directories = tuple(os.path.abspath(directory) for directory in directories)
        self.packages = tuple(packages)
        # Built now, so that a misspelt package fails at once; Satchel's own come last.
        self._package_loaders = [
            jinja2.PackageLoader(package, PACKAGE_FOLDER)
            for package in (*self.packages, "satchel.templates")
        ]
        self._auto_reload = auto_reload
        self._default_bytecode_cache = bytecode_cache is None
        self._app: App[Any] | None = None
        #: The Jinja2 environment (async): add globals, filters or tests to it.
        self.env: jinja2.Environment = _Environment(
            autoescape=escapes,
            enable_async=True,
            auto_reload=True if auto_reload is None else auto_reload,
            loader=_DeferredLoader(self._build_loader),
            bytecode_cache=None if bytecode_cache is None else _bytecode_cache(bytecode_cache),
        )
        self.env.globals.update(REQUEST_GLOBALS)
        self.env.globals.update(globals or {})
        self.env.filters.update(filters or {})

    def init_app(self, app: App[Any]) -> None:
        """Serve ``app``: its helpers in every template, and ``render`` in its handlers.

        Installs a small middleware, outermost, that makes the request being answered
        the one ``render`` and the templates' helpers use.

        Raises:
            ConfigurationError: these templates already serve an app, or ``app``
                already has templates.
        """
        if self._app is not None:
            raise ConfigurationError("these Templates already serve an app")
        if app in _registry:
            raise ConfigurationError("this app already has Templates")
        app.add_middleware(bind_request)  # refused once the app has started
        # Outermost: middleware added before this one may render templates too.
        app.middleware.insert(0, app.middleware.pop())
        _registry[app] = self
        self._app = app
        self.env.auto_reload = app.debug if self._auto_reload is None else self._auto_reload
        if self._default_bytecode_cache and not app.debug:
            # Jinja2's default folder: private to this user, checked on creation.
            self.env.bytecode_cache = _file_cache(None)
        for name, value in app_globals(app).items():
            self.env.globals.setdefault(name, value)
        # Templates loaded before now were found without the app's routers.
        self.env.loader = _DeferredLoader(self._build_loader)
        if self.env.cache is not None:
            self.env.cache.clear()

    def _build_loader(self) -> jinja2.BaseLoader:
        folders = list(self.directories)
        if self._app is not None:
            self._app.build()  # the routers are final once the app is built
            folders += _router_folders(self._app)
        files = jinja2.FileSystemLoader(list(dict.fromkeys(folders)))
        return jinja2.ChoiceLoader([files, *self._package_loaders])


def templates_of(app: App[Any]) -> Templates:
    """The ``Templates`` serving ``app`` (``Templates.init_app``).

    Raises:
        ConfigurationError: none does.
    """
    try:
        return _registry[app]
    except KeyError:
        raise ConfigurationError(
            "no Templates for this app: call Templates(...).init_app(app)"
        ) from None


def _router_folders(router: Router) -> list[str]:
    folders = []
    for child, _ in router.children:
        if child.template_folder is not None:
            folders.append(child.template_folder)
        folders += _router_folders(child)
    return folders


def _bytecode_cache(
    setting: str | os.PathLike[str] | jinja2.BytecodeCache | bool,
) -> jinja2.BytecodeCache | None:
    if isinstance(setting, jinja2.BytecodeCache):
        return setting
    if isinstance(setting, bool):
        return _file_cache(None) if setting else None
    return _file_cache(_private_folder(setting))


def _file_cache(folder: str | None) -> jinja2.FileSystemBytecodeCache:
    """Bytecode files in ``folder``; None: Jinja2's default folder, private to this user."""
    return jinja2.FileSystemBytecodeCache(folder, _BYTECODE_PATTERN)


def _private_folder(path: str | os.PathLike[str]) -> str:
    """Create ``path`` for this user only, refusing one that others could write to."""
    folder = os.path.abspath(path)
    not_a_folder = ConfigurationError(f"bytecode_cache {folder!r} is not a directory")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except FileExistsError:
        raise not_a_folder from None
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):  # a link, which could be pointed elsewhere
        raise not_a_folder
    # Compiled templates are code the app runs: nobody else may be able to write them.
    if hasattr(os, "getuid") and (
        info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        raise ConfigurationError(
            f"bytecode_cache {folder!r} must belong to this user and be writable by no one else"
        )
    return folder
