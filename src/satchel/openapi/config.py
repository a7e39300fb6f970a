"""How an app is documented: title, version, where the document and the UI live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OpenAPIConfig"]


@dataclass(frozen=True, slots=True)
class OpenAPIConfig:
    """OpenAPI settings of an app: ``App(openapi=OpenAPIConfig(title="Shop"))``.

    Attributes:
        title: The API's title (``info.title``).
        version: The API's version (``info.version``), not Satchel's.
        description: Markdown shown at the top of the docs.
        path: Where the JSON document is served (None: not served; ``satchel
            openapi`` still exports it).
        docs_path: Where the interactive docs UI is served (None: not served).
            It needs the ``openapi`` extra (``pip install 'satchel[openapi]'``),
            which ships the Swagger UI assets; the app serves them itself.
        servers: ``servers`` entries, e.g. ``[{"url": "https://api.example.com"}]``.
        security_schemes: ``components.securitySchemes``, e.g.
            ``{"bearerAuth": {"type": "http", "scheme": "bearer"}}``.
        security: Requirements for every operation unless a route sets its own,
            e.g. ``[{"bearerAuth": []}]``.
        tags: Tag objects (name, description) in the order the UI shows them.
    """

    title: str = "Satchel API"
    version: str = "0.1.0"
    description: str | None = None
    path: str | None = "/openapi.json"
    docs_path: str | None = "/docs"
    servers: tuple[Mapping[str, Any], ...] = ()
    security_schemes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    security: tuple[Mapping[str, list[str]], ...] = ()
    tags: tuple[Mapping[str, Any], ...] = ()
