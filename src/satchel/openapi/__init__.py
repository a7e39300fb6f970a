"""OpenAPI 3.1: the document at ``/openapi.json``, the docs UI at ``/docs``, ``satchel openapi``.

Every app documents itself unless ``App(openapi=None)``. The document is built
from the compiled routes (the same call plans that validate requests) the
first time it is asked for, and cached: the app is frozen by then.

>>> from satchel import App
>>> from satchel.openapi import OpenAPIConfig
>>> app = App(openapi=OpenAPIConfig(title="Shop", version="2.0", docs_path=None))
"""

from __future__ import annotations

from satchel.openapi.config import OpenAPIConfig

__all__ = ["OpenAPIConfig"]
