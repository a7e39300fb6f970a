"""Content-hashed file names and the manifest that maps plain names to them."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import msgspec

from satchel.errors import ConfigurationError

__all__ = [
    "HASH_LENGTH",
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "content_hash",
    "hashed_name",
    "is_fingerprinted",
    "read_manifest",
    "split_reference",
    "write_file_atomically",
    "write_manifest",
]

#: The manifest's default file name (``manifest.json`` is too often a web app manifest).
MANIFEST_NAME = "staticfiles.json"
#: The manifest format written by ``satchel static collect`` (``{"version": 1, "files": {...}}``).
MANIFEST_VERSION = 1
#: Hex digits of the SHA-256 of a file's content put in its hashed name.
HASH_LENGTH = 12

# A name ending in ".<8 to 64 hex digits>.<extension>": what collect and most bundlers write.
_FINGERPRINT = re.compile(r"\.([0-9a-f]{8,64})\.[^./]+\Z")


class _Manifest(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    files: dict[str, str]


def content_hash(data: bytes) -> str:
    """The hash that goes into a file's name: the first hex digits of its SHA-256.

    >>> content_hash(b"body { color: red }")
    '925e8741be69'
    """
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def hashed_name(name: str, digest: str) -> str:
    """Insert ``digest`` before the extension of ``name`` (after the name if it has none).

    >>> hashed_name("css/site.css", "3f2a9c1b04de")
    'css/site.3f2a9c1b04de.css'
    >>> hashed_name("LICENSE", "3f2a9c1b04de")
    'LICENSE.3f2a9c1b04de'
    """
    folder, slash, base = name.rpartition("/")
    stem, _, extension = base.rpartition(".")
    base = f"{stem}.{digest}.{extension}" if stem else f"{base}.{digest}"
    return f"{folder}{slash}{base}"


def is_fingerprinted(name: str) -> bool:
    """Whether ``name`` looks content-hashed: ``<stem>.<8-64 hex digits>.<extension>``.

    All-digit "hashes" do not count: ``report.20240101.csv`` is a date, and may
    change under the same name.

    >>> is_fingerprinted("css/site.3f2a9c1b04de.css"), is_fingerprinted("app.20240101.js")
    (True, False)
    """
    match = _FINGERPRINT.search(name)
    return match is not None and not match[1].isdigit()


def split_reference(reference: str) -> tuple[str, str]:
    """``reference`` cut before its ``?query`` or ``#fragment``: the file name, and the rest.

    >>> split_reference("img/a.png?v=1#x"), split_reference("css/site.css")
    (('img/a.png', '?v=1#x'), ('css/site.css', ''))
    """
    ends = (reference.find("?"), reference.find("#"))
    cut = min((end for end in ends if end >= 0), default=len(reference))
    return reference[:cut], reference[cut:]


def read_manifest(path: Path) -> dict[str, str] | None:
    """The plain-name to hashed-name map stored at ``path``; None if there is no file.

    Raises:
        ConfigurationError: the file is unreadable, not a manifest, or of another version.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"cannot read the static manifest {path}: {exc}") from None
    try:
        manifest = msgspec.json.decode(data, type=_Manifest)
    except msgspec.DecodeError as exc:
        raise ConfigurationError(
            f"{path} is not a static manifest ({exc}); run 'satchel static collect' again"
        ) from None
    if manifest.version != MANIFEST_VERSION:
        raise ConfigurationError(
            f"{path} has manifest version {manifest.version}, this Satchel reads version "
            f"{MANIFEST_VERSION}; run 'satchel static collect' again"
        )
    return manifest.files


def write_manifest(path: Path, files: Mapping[str, str]) -> bool:
    """Write the manifest for ``files`` to ``path`` (sorted, atomically); False if unchanged."""
    manifest = _Manifest(MANIFEST_VERSION, dict(sorted(files.items())))
    data = msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"
    return write_file_atomically(path, data)


def write_file_atomically(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it holds exactly that already; return whether it wrote.

    The bytes go to a temporary file in the same folder, then replace ``path`` in one
    step: a server reading the folder meanwhile sees the old file or the new one,
    never half of one.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
