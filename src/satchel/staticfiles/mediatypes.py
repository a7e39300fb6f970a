"""Content types of the files a web page loads, the same on every machine.

``mimetypes`` reads the system's tables (``/etc/mime.types``, the Windows registry),
which differ between machines: a ``.js`` file once went out as ``text/plain`` on
some Windows hosts, and browsers refuse such scripts under ``nosniff``. The types
of web assets are fixed here; other names fall back to ``mimetypes``.
"""

from __future__ import annotations

import posixpath

from satchel.files import guess_media_type

__all__ = ["is_compressible", "static_media_type"]

_WEB_TYPES = {
    ".avif": "image/avif",
    ".css": "text/css",
    ".csv": "text/csv",
    ".gif": "image/gif",
    ".htm": "text/html",
    ".html": "text/html",
    ".ico": "image/x-icon",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".js": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".md": "text/markdown",
    ".mjs": "text/javascript",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".otf": "font/otf",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ttf": "font/ttf",
    ".txt": "text/plain",
    ".wasm": "application/wasm",
    ".webm": "video/webm",
    ".webmanifest": "application/manifest+json",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".xml": "application/xml",
}

# Types worth compressing beyond text/*: the rest (images, fonts in WOFF, video,
# archives) are compressed already and would only grow.
_COMPRESSIBLE = frozenset(
    {
        "application/json",
        "application/manifest+json",
        "application/wasm",
        "application/xml",
        "font/otf",
        "font/ttf",
        "image/svg+xml",
        "image/x-icon",
    }
)


def static_media_type(name: str) -> str:
    """The Content-Type for the file ``name`` (``text/*`` types get ``charset=utf-8`` later).

    >>> static_media_type("js/app.3f2a9c1b04de.js"), static_media_type("fonts/a.woff2")
    ('text/javascript', 'font/woff2')
    >>> static_media_type("README")
    'application/octet-stream'
    """
    extension = posixpath.splitext(name)[1].lower()
    return _WEB_TYPES.get(extension) or guess_media_type(name)


def is_compressible(media_type: str) -> bool:
    """Whether files of ``media_type`` shrink when compressed (text, JSON, SVG, ...).

    >>> is_compressible("text/css"), is_compressible("image/png")
    (True, False)
    """
    return media_type.startswith("text/") or media_type in _COMPRESSIBLE
