"""OpenAPI 3.1: the document at ``/openapi.json``, the docs UI at ``/docs``, ``satchel openapi``.

Every app documents itself unless ``App(openapi=None)``. The document is built
from the compiled routes (the same call plans that validate requests) the
first time it is asked for, and cached: the app is frozen by then.

>>> from satchel import App
>>> from satchel.openapi import OpenAPIConfig, build_openapi
>>> app = App(openapi=OpenAPIConfig(title="Shop", version="2.0", docs_path=None))
>>> build_openapi(app)["info"]
{'title': 'Shop', 'version': '2.0'}
"""

from __future__ import annotations

import typing as _typing

from satchel.lazyexports import lazy_exports as _lazy_exports
from satchel.openapi.config import OpenAPIConfig

if _typing.TYPE_CHECKING:
    from satchel.openapi.schema import build_openapi

__all__ = ["OpenAPIConfig", "build_openapi"]


if not _typing.TYPE_CHECKING:  # hidden from type checkers: a typo stays a typing error
    # The schema builder loads on first use: every app imports this package for its
    # config, few build the document in the same process.
    __getattr__ = _lazy_exports(__name__, globals(), {"build_openapi": "satchel.openapi.schema"})
