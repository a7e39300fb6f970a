"""Collecting static folders into one folder of content-hashed files, for production.

Used by ``satchel static collect``; :func:`collect_static` does the work and can be
called from a build script too.
"""

from __future__ import annotations

import gzip
import importlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from satchel.files import safe_join
from satchel.staticfiles.cssrefs import rewrite_css_references
from satchel.staticfiles.encodings import PRECOMPRESSED
from satchel.staticfiles.fingerprints import (
    MANIFEST_NAME,
    content_hash,
    hashed_name,
    write_file_atomically,
    write_manifest,
)
from satchel.staticfiles.mediatypes import is_compressible, static_media_type

__all__ = ["CollectError", "CollectResult", "collect_static"]

Compressor = Callable[[bytes], bytes]


class CollectError(Exception):
    """The static folders cannot be collected as asked (a missing folder, a clash)."""


@dataclass(frozen=True, slots=True)
class CollectResult:
    """What :func:`collect_static` did.

    Attributes:
        files: Source files collected (after a project's file hid a battery's of the same name).
        written: Files written into the output folder; 0 when a rerun found nothing changed.
        manifest: The manifest file.
        codings: The precompressed variants made (``"br"`` only when a brotli module is installed).
    """

    files: int
    written: int
    manifest: Path
    codings: tuple[str, ...]


def collect_static(
    directories: Iterable[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    manifest_name: str = MANIFEST_NAME,
    compress: bool = True,
) -> CollectResult:
    """Copy the files of ``directories`` into ``output`` under plain and hashed names.

    Folders are searched in order: the first one holding a name provides it. Each
    file is written as ``name`` and as ``hashed_name`` (``css/site.3f2a9c1b04de.css``),
    relative ``url()``/``@import`` references in stylesheets first pointed at the
    hashed names of their targets. With ``compress``, text-like files also get
    ``.gz`` siblings (and ``.br`` ones when the ``brotli`` or ``brotlicffi`` module is
    installed) when that makes them smaller. The manifest (plain name to hashed
    name) is written last. Files the server would refuse (hidden names, unsafe
    names, symlinks leaving their folder) are left out. Unchanged files are not
    rewritten, so running it again changes nothing; hashed files of earlier
    versions stay (pages still open in browsers may need them).

    Raises:
        CollectError: a folder is missing, ``output`` overlaps a folder, or a source
            file has the manifest's name.
    """
    roots = [Path(directory).resolve() for directory in directories]
    target = Path(output).resolve()
    sources = _gather(roots, target)
    if manifest_name in sources:
        raise CollectError(
            f"{sources[manifest_name]} has the name of the manifest; rename it or choose "
            "another manifest name"
        )
    compressors = _compressors() if compress else []
    contents = _Contents(sources)
    manifest: dict[str, str] = {}
    written = 0
    for name in sorted(sources):
        data = contents.read(name)
        hashed = manifest[name] = hashed_name(name, contents.digest(name))
        variants = [(name, data), (hashed, data)]
        if compressors and is_compressible(static_media_type(name)):
            variants += _compressed(name, hashed, data, compressors, sources)
        written += sum(write_file_atomically(target / out, out_data) for out, out_data in variants)
    manifest_path = target / manifest_name
    written += write_manifest(manifest_path, manifest)
    codings = tuple(coding for coding, _ in compressors)
    return CollectResult(len(sources), written, manifest_path, codings)


def _gather(roots: list[Path], output: Path) -> dict[str, Path]:
    sources: dict[str, Path] = {}
    for root in roots:
        if not root.is_dir():
            raise CollectError(f"static folder {root} does not exist or is not a folder")
        if output == root or output.is_relative_to(root) or root.is_relative_to(output):
            raise CollectError(
                f"the output folder {output} and the static folder {root} overlap; "
                "collect into a folder of its own"
            )
        for name, path in _files_under(root):
            sources.setdefault(name, path)
    return sources


def _files_under(root: Path) -> Iterable[tuple[str, Path]]:
    for folder, subfolders, files in os.walk(root):
        # Hidden folders (.git, .cache) are never served, so never collected.
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        relative = Path(folder).relative_to(root).as_posix()
        for file in sorted(files):
            name = file if relative == "." else f"{relative}/{file}"
            path = None if file.startswith(".") else safe_join(root, name)
            if path is not None and _is_regular_file(path):
                yield name, path


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


class _Contents:
    """Source files' bytes and hashes; a stylesheet's bytes after its references are rewritten.

    A stylesheet's hash covers the hashed names it refers to, so its targets are
    hashed first (recursively). A reference back to a stylesheet still being
    rewritten (an import cycle) stays plain.
    """

    def __init__(self, sources: dict[str, Path]) -> None:
        self._sources = sources
        self._stylesheets: dict[str, bytes] = {}
        self._digests: dict[str, str] = {}
        self._rewriting: set[str] = set()

    def read(self, name: str) -> bytes:
        if not name.lower().endswith(".css"):
            return self._sources[name].read_bytes()
        data = self._stylesheets.get(name)
        if data is None:
            self._rewriting.add(name)
            try:
                # surrogateescape: bytes that are not UTF-8 go back out unchanged.
                css = self._sources[name].read_bytes().decode("utf-8", "surrogateescape")
                css = rewrite_css_references(css, name, self._hashed_name)
            finally:
                self._rewriting.discard(name)
            data = self._stylesheets[name] = css.encode("utf-8", "surrogateescape")
        return data

    def digest(self, name: str) -> str:
        digest = self._digests.get(name)
        if digest is None:
            digest = self._digests[name] = content_hash(self.read(name))
        return digest

    def _hashed_name(self, name: str) -> str | None:
        if name not in self._sources or name in self._rewriting:
            return None
        return hashed_name(name, self.digest(name))


def _compressed(
    name: str,
    hashed: str,
    data: bytes,
    compressors: list[tuple[str, Compressor]],
    sources: dict[str, Path],
) -> list[tuple[str, bytes]]:
    variants = []
    suffixes = dict(PRECOMPRESSED)
    for coding, compress in compressors:
        packed = compress(data)
        for out in (name + suffixes[coding], hashed + suffixes[coding]):
            if out in sources:
                continue  # the project ships its own precompressed file under that name
            if len(packed) < len(data):
                variants.append((out, packed))
    return variants


def _compressors() -> list[tuple[str, Compressor]]:
    found: list[tuple[str, Compressor]] = [("gzip", _gzip)]
    brotli = _brotli()
    if brotli is not None:
        found.insert(0, ("br", brotli))
    return found


def _gzip(data: bytes) -> bytes:
    # mtime=0: the same input gives the same bytes, so reruns find nothing changed.
    return gzip.compress(data, compresslevel=9, mtime=0)


def _brotli() -> Compressor | None:
    # Optional and not a dependency: either module provides compress(bytes) -> bytes.
    for module_name in ("brotli", "brotlicffi"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        compress: Compressor = module.compress
        return compress
    return None
