"""Static files: CSS, JavaScript, images and fonts, served by the app itself.

:class:`StaticFiles` serves folders under a URL prefix, safely (no way out of the
folders, no hidden files, no listings), with validators, ranges, precompressed
variants and cache headers; :func:`static_url` writes a file's URL, content-hashed
in production. ``satchel static collect`` (:func:`collect_static`) prepares the
hashed files and their manifest. No extra is needed.

>>> from satchel import App, Settings
>>> app = App(settings=Settings())
>>> StaticFiles("static").init_app(app)
>>> static_url(app, "css/site.css")
'/static/css/site.css'
"""

from __future__ import annotations

from satchel.staticfiles.collect import CollectError, CollectResult, collect_static
from satchel.staticfiles.fingerprints import MANIFEST_NAME, hashed_name, is_fingerprinted
from satchel.staticfiles.serving import (
    IMMUTABLE,
    StaticFiles,
    UnknownStaticFileError,
    static_url,
    staticfiles_of,
)

__all__ = [
    "IMMUTABLE",
    "MANIFEST_NAME",
    "CollectError",
    "CollectResult",
    "StaticFiles",
    "UnknownStaticFileError",
    "collect_static",
    "hashed_name",
    "is_fingerprinted",
    "static_url",
    "staticfiles_of",
]
