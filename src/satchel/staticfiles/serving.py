"""Serving static folders: :class:`StaticFiles`, :func:`static_url` and :func:`staticfiles_of`."""

from __future__ import annotations

import logging
import os
import stat
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from satchel.errors import ConfigurationError, NotFound
from satchel.files import FileResponse, safe_join
from satchel.requests import Request
from satchel.routers import Router
from satchel.staticfiles.encodings import PRECOMPRESSED, preferred_coding
from satchel.staticfiles.fingerprints import is_fingerprinted, read_manifest, split_reference
from satchel.staticfiles.mediatypes import static_media_type
from satchel.threads import run_in_thread

if TYPE_CHECKING:
    from satchel.app import App

__all__ = [
    "IMMUTABLE",
    "StaticFiles",
    "UnknownStaticFileError",
    "static_url",
    "staticfiles_of",
]

#: The Cache-Control of fingerprinted files: their name changes whenever their content does.
IMMUTABLE = "public, max-age=31536000, immutable"

logger = logging.getLogger("satchel.staticfiles")

# The StaticFiles each app was given by init_app; weak, so a discarded app is not kept alive.
_served: weakref.WeakKeyDictionary[Any, StaticFiles] = weakref.WeakKeyDictionary()


class UnknownStaticFileError(LookupError):
    """A name passed to :meth:`StaticFiles.url` is not in the manifest (debug mode only)."""


@dataclass(frozen=True, slots=True)
class _Manifest:
    """The manifest as loaded: None values mean "no manifest, serve the folders"."""

    files: dict[str, str] | None
    hashed: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Choice:
    """The file to send for one request, with the headers that depend on it."""

    path: Path
    coding: str | None
    etag: str | None
    varies: bool


class StaticFiles:
    """Serves static folders under a URL prefix, and writes their URLs.

    Development: the files of ``directories`` are served under their own names,
    folders searched in order (a project's file hides a battery's of the same name).
    Production: ``satchel static collect`` writes the files with content-hashed
    names and a manifest; when the ``manifest`` file exists, files are served
    from its folder only, and :meth:`url` gives the hashed names.

    Args:
        directories: The folders to serve, searched in order (one path is accepted).
        prefix: The URL path the files are served under.
        manifest: The manifest ``satchel static collect`` writes (its folder is the
            output folder); None, or a missing file, serves ``directories``.
        max_age: Seconds browsers may reuse a file whose name is not fingerprinted
            without asking again; 0 (the default) sends ``no-cache``: reuse after
            a revalidation (a cheap 304).
        precompressed: Send a ``.br`` or ``.gz`` sibling of a file to clients that
            accept that coding.
        name: The route's name prefix for ``url_for`` (``"static.file"``).

    >>> static = StaticFiles("assets", prefix="/assets")
    >>> static.url("css/site.css")
    '/assets/css/site.css'
    """

    def __init__(
        self,
        directories: Iterable[str | os.PathLike[str]] | str | os.PathLike[str] = ("static",),
        *,
        prefix: str = "/static",
        manifest: str | os.PathLike[str] | None = None,
        max_age: int = 0,
        precompressed: bool = True,
        name: str = "static",
    ) -> None:
        if isinstance(directories, str | os.PathLike):
            directories = [directories]
        if not prefix.startswith("/") or prefix.endswith("/") or "{" in prefix or "}" in prefix:
            raise ConfigurationError(
                f"static prefix {prefix!r} must start with '/', not end with '/' and hold "
                "no '{' or '}'"
            )
        if max_age < 0:
            raise ConfigurationError(f"max_age must be 0 or more, got {max_age}")
        #: The folders served without a manifest, searched in order.
        self.directories: list[Path] = [Path(d).resolve() for d in directories]
        self.prefix = prefix
        #: The manifest file (absolute), or None.
        self.manifest_path = None if manifest is None else Path(manifest).resolve()
        self.max_age = max_age
        self.precompressed = precompressed
        self.name = name
        self._manifest: _Manifest | None = None
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        folders = [str(d) for d in self.directories]
        return f"StaticFiles({folders!r}, prefix={self.prefix!r}, manifest={self.manifest_path!r})"

    def add_directory(self, directory: str | os.PathLike[str]) -> None:
        """Search ``directory`` after the folders given so far (for a battery's own files)."""
        self.directories.append(Path(directory).resolve())

    def init_app(self, app: App[Any]) -> None:
        """Serve the files under the prefix (GET and HEAD) and make :func:`static_url` work.

        The manifest is read when the app starts, so a broken one stops startup.

        Raises:
            ConfigurationError: ``app`` already has a StaticFiles.
        """
        if app in _served:
            raise ConfigurationError("this app already has a StaticFiles")
        _served[app] = self
        router = Router(name=self.name)

        @router.get(self.prefix + "/{path:path}", name="file", include_in_schema=False)
        async def serve_static(request: Request, path: str) -> FileResponse:
            return await self.response(request, path)

        app.include(router)
        app.on_startup(self._loaded)

    # -- URLs ----------------------------------------------------------------------------

    def url(self, name: str, *, strict: bool = False) -> str:
        """The URL path of the static file ``name``: hashed when the manifest lists it.

        A ``?query`` or ``#fragment`` on ``name`` is kept. In manifest mode, a name
        the manifest lacks raises :class:`UnknownStaticFileError` when ``strict``;
        otherwise it gets its plain URL and one warning is logged.
        """
        plain, rest = split_reference(name)
        plain = plain.lstrip("/")
        if not plain:
            raise ValueError(f"no file name in {name!r}")
        files = self.manifest
        if files is not None:
            hashed = files.get(plain)
            if hashed is not None:
                plain = hashed
            elif strict:
                raise UnknownStaticFileError(
                    f"static file {plain!r} is not in the manifest {self.manifest_path}: "
                    "check the name, or run 'satchel static collect' again"
                )
            elif plain not in self._warned:
                self._warned.add(plain)
                logger.warning("static file %r is not in the manifest; using its plain URL", plain)
        return f"{self.prefix}/{quote(plain)}{rest}"

    @property
    def manifest(self) -> Mapping[str, str] | None:
        """The manifest's plain-to-hashed names; None without a manifest file (development).

        Read once, on first use or when the app starts (whichever comes first):
        restart the app after collecting again.

        Raises:
            ConfigurationError: the manifest exists but cannot be read as one.
        """
        return self._loaded().files

    def _loaded(self) -> _Manifest:
        if self._manifest is None:
            files = None if self.manifest_path is None else read_manifest(self.manifest_path)
            if files is None and self.manifest_path is not None:
                logger.warning(
                    "no static manifest at %s: serving the static folders under plain names",
                    self.manifest_path,
                )
            hashed = frozenset(files.values()) if files is not None else frozenset()
            self._manifest = _Manifest(files, hashed)
        return self._manifest

    # -- serving -------------------------------------------------------------------------

    def _roots(self) -> list[Path]:
        """The folders searched: the manifest's folder in manifest mode, else ``directories``."""
        if self.manifest is not None and self.manifest_path is not None:
            return [self.manifest_path.parent]
        return list(self.directories)

    async def response(self, request: Request, name: str) -> FileResponse:
        """The response serving the static file ``name`` (percent-decoded, relative).

        Use it to serve a static file at another path (``/favicon.ico``).

        Raises:
            NotFound: no folder holds a servable file of that name; the same answer
                whatever the reason (missing, hidden, unsafe, a directory).
        """
        ranged = "range" in request.headers
        accepted = request.headers.getall("accept-encoding")
        choice = await run_in_thread(self._choose, self._roots(), name, accepted, ranged)
        if choice is None:
            raise NotFound()
        headers = [("cache-control", self._cache_control(name))]
        if choice.varies:
            headers.append(("vary", "Accept-Encoding"))
        if choice.coding is not None:
            headers.append(("content-encoding", choice.coding))
        if choice.etag is not None:
            headers.append(("etag", choice.etag))
        return FileResponse(choice.path, headers=headers, media_type=static_media_type(name))

    def _cache_control(self, name: str) -> str:
        if name in self._loaded().hashed or is_fingerprinted(name):
            return IMMUTABLE
        return f"public, max-age={self.max_age}" if self.max_age else "no-cache"

    def _choose(
        self, roots: list[Path], name: str, accepted: list[str], ranged: bool
    ) -> _Choice | None:
        if _is_hidden(name):
            return None
        for root in roots:
            found = _regular_file(root, name)
            if found is not None:
                path, result = found
                return self._variant(root, path, result, accepted, ranged)
        return None

    def _variant(
        self, root: Path, path: Path, result: os.stat_result, accepted: list[str], ranged: bool
    ) -> _Choice | None:
        try:
            relative = path.relative_to(root).as_posix()
        except ValueError:
            return None
        if _is_hidden(relative):  # a symlink inside the folder to a hidden file
            return None
        if not self.precompressed:
            return _Choice(path, None, None, False)
        siblings = {}
        for coding, suffix in PRECOMPRESSED:
            sibling = _regular_file(root, relative + suffix)
            # An older sibling was compressed from an older version of the file.
            if sibling is not None and sibling[1].st_mtime_ns >= result.st_mtime_ns:
                siblings[coding] = sibling
        # A range is a range of the file's own bytes: resumed downloads and media
        # players get the file itself.
        chosen = None if ranged else preferred_coding(accepted, siblings)
        if chosen is None:
            return _Choice(path, None, None, bool(siblings))
        sibling_path, sibling_stat = siblings[chosen]
        etag = f'"{sibling_stat.st_mtime_ns:x}-{sibling_stat.st_size:x}-{chosen}"'
        return _Choice(sibling_path, chosen, etag, True)


def _is_hidden(name: str) -> bool:
    return any(segment.startswith(".") for segment in name.split("/"))


def _regular_file(root: Path, name: str) -> tuple[Path, os.stat_result] | None:
    path = safe_join(root, name)
    if path is None:
        return None
    try:
        result = path.stat()
    except (OSError, ValueError):
        return None
    return (path, result) if stat.S_ISREG(result.st_mode) else None


def staticfiles_of(app: App[Any]) -> StaticFiles:
    """The StaticFiles attached to ``app`` by :meth:`StaticFiles.init_app`.

    Raises:
        ConfigurationError: None is attached.
    """
    try:
        return _served[app]
    except KeyError:
        raise ConfigurationError(
            "no StaticFiles for this app: call StaticFiles(...).init_app(app)"
        ) from None


def static_url(app: App[Any], path: str) -> str:
    """The URL of the static file ``path`` of ``app`` (templates: ``{{ static(path) }}``).

    The hashed name when the manifest lists it. A name missing from the manifest
    raises :class:`UnknownStaticFileError` in debug mode, and gets its plain URL
    otherwise. Without a manifest every name gets its plain URL, unchecked.

    Raises:
        ConfigurationError: the app has no StaticFiles.
    """
    return staticfiles_of(app).url(path, strict=app.debug)
