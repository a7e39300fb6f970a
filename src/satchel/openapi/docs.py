"""The interactive docs UI (Swagger UI), served by the app itself with no network access.

The page loads the Swagger UI bundle that the ``swagger-ui-py`` package ships
(the ``openapi`` extra) and a small generated script that points it at the
app's OpenAPI document. Nothing runs inline, so the page keeps a strict
Content-Security-Policy of its own. Without the package the page answers 501
with the ``pip install`` line; the app still starts. The page carries a CSRF
token that the script adds to "Try it out" requests to the app's own origin:
a browser holding any cookie for the site needs one for unsafe methods.

Routes, under ``docs_path`` (``/docs`` by default):

- ``/docs`` (``docs``): the HTML page;
- ``/docs/init.js`` (``docs_init``): the script that starts Swagger UI;
- ``/docs/assets/{name}`` (``docs_asset``): the package's files, an allow-list only.

With ``OpenAPIConfig(path=None)`` the document is not served, so there is
nothing for the UI to show and none of these routes is registered.
"""

from __future__ import annotations

import html
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from satchel.csrf import CSRF_HEADER, csrf_token
from satchel.encoding import json_encode
from satchel.errors import HTTPError, MissingDependencyError, NotFound
from satchel.requests import Request
from satchel.responses import HTMLResponse, Response
from satchel.threads import run_in_thread

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from satchel.openapi.config import OpenAPIConfig
    from satchel.routers import Router

__all__ = ["add_docs_routes"]

# The import name of swagger-ui-py; its ``static/`` folder holds the Swagger UI files.
_PACKAGE = "swagger_ui"
# The files served from that folder, with their content types; any other name is a 404
# (the folder also holds the Swagger Editor, source maps and a page with inline script).
_ASSETS: Mapping[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "index.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
# The package version is fixed for the life of the process; the ETag covers upgrades.
_ASSET_CACHE = "public, max-age=86400"
# An origin that can stand in a CSP source list as is: no spaces, quotes, ';' or ','.
_CSP_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
# What could end a <script> element (were the script ever inlined) or, in old engines,
# a string literal; JSON allows each as a \u escape.
_JS_UNSAFE = {ord(char): f"\\u{ord(char):04x}" for char in ("<", ">", "&", "\u2028", "\u2029")}


def add_docs_routes(router: Router, config: OpenAPIConfig) -> None:
    """Register the docs page, its start-up script and its assets on ``router``.

    Nothing is registered when ``config.path`` is None (no document to show).
    """
    if config.docs_path is None or config.path is None:
        return
    base = config.docs_path.rstrip("/")
    # The page up to the token and after it: only the token changes per request.
    before_token, after_token = (part.encode() for part in _page(config.title, base, config.path))
    script = _init_script(config.path).encode()
    policy = _policy(config.servers)
    folder: list[str] = []  # found on first use: an app that never shows /docs never looks

    async def static_folder() -> str:
        if not folder:
            found = await run_in_thread(_find_static_folder, _PACKAGE)
            if found is None:
                detail = str(MissingDependencyError("swagger-ui-py", "openapi"))
                raise HTTPError(f"The API docs UI is not available: {detail}", status_code=501)
            folder.append(found)
        return folder[0]

    @router.get(config.docs_path, include_in_schema=False, name="docs")
    async def docs(request: Request) -> Response:
        await static_folder()
        headers = {"content-security-policy": policy, "cache-control": "no-cache"}
        page = b"".join((before_token, csrf_token(request).encode(), after_token))
        return HTMLResponse(page, headers=headers)

    @router.get(f"{base}/init.js", include_in_schema=False, name="docs_init")
    async def docs_init() -> Response:
        headers = {"cache-control": "no-cache"}
        return Response(script, headers=headers, media_type="text/javascript")

    @router.get(f"{base}/assets/{{name}}", include_in_schema=False, name="docs_asset")
    async def docs_asset(name: str) -> Response:
        # Loaded here, not at build: every app builds these routes, few serve files.
        from satchel.files import FileResponse

        media_type = _ASSETS.get(name)
        if media_type is None:
            raise NotFound()
        path = os.path.join(await static_folder(), name)
        headers = {"cache-control": _ASSET_CACHE}
        return FileResponse(path, headers=headers, media_type=media_type)


def _policy(servers: Iterable[Mapping[str, Any]]) -> str:
    """The Content-Security-Policy of the docs page: everything from the app itself.

    Swagger UI needs no inline script or style (React sets styles through the
    CSSOM, which the policy does not govern); its stylesheet draws icons from
    ``data:`` images. "Try it out" may call the app and the absolute ``servers``
    URLs of the document. The Authorize dialog's forms never submit natively.
    """
    connect = " ".join(["'self'", *_server_origins(servers)])
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:; connect-src {connect}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _server_origins(servers: Iterable[Mapping[str, Any]]) -> list[str]:
    """The origins of absolute http(s) server URLs, each once; templated URLs are skipped."""
    origins: list[str] = []
    for server in servers:
        url = server.get("url")
        if not isinstance(url, str):
            continue
        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"} or not _CSP_HOST.fullmatch(parts.netloc):
            continue
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if origin not in origins:
            origins.append(origin)
    return origins


def _find_static_folder(package: str) -> str | None:
    """The ``static/`` folder of ``package`` if it holds the bundle; the package is not imported.

    Importing it would run its ``__init__``, which needs Jinja2; only its files are wanted.
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or ())
    if not roots and spec.origin:
        roots = [os.path.dirname(spec.origin)]
    for root in roots:
        static = os.path.join(root, "static")
        if os.path.isfile(os.path.join(static, "swagger-ui-bundle.js")):
            return static
    return None


def _page(title: str, base: str, document: str) -> tuple[str, str]:
    """The HTML page, before and after its CSRF token (hex: it needs no escaping).

    No inline script or style, so the strict policy holds.
    """
    title = html.escape(title)
    assets = html.escape(f"{base}/assets/")
    head = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="csrf-token" content="'
    )
    return head, (
        '">\n'
        f"<title>{title}</title>\n"
        f'<link rel="stylesheet" href="{assets}swagger-ui.css">\n'
        f'<link rel="stylesheet" href="{assets}index.css">\n'
        f'<link rel="icon" type="image/png" href="{assets}favicon-32x32.png" sizes="32x32">\n'
        f'<link rel="icon" type="image/png" href="{assets}favicon-16x16.png" sizes="16x16">\n'
        f'<script src="{assets}swagger-ui-bundle.js" defer></script>\n'
        f'<script src="{html.escape(base)}/init.js" defer></script>\n'
        "</head>\n<body>\n"
        f'<noscript><p>These docs need JavaScript. The API description is at <a href="'
        f'{html.escape(document)}">{html.escape(document)}</a>.</p></noscript>\n'
        '<div id="swagger-ui"></div>\n</body>\n</html>\n'
    )


def _init_script(document: str) -> str:
    """The script that starts Swagger UI on the app's document, fully offline."""
    options = {
        "url": document,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "displayRequestDuration": True,
        # Never read ?url= or ?configUrl= from the address bar: the page shows this
        # app's document only (and old Swagger UI XSS went through those).
        "queryConfigEnabled": False,
        # The default validator badge loads an image from validator.swagger.io.
        "validatorUrl": None,
    }
    literal = json_encode(options).decode().translate(_JS_UNSAFE)
    return (
        '"use strict";\n'
        f"const options = {literal};\n"
        # The page's CSRF token, sent with requests to this origin only (never to the
        # document's other servers).
        "const csrf = document.querySelector('meta[name=\"csrf-token\"]');\n"
        # Written without "<", ">" or "&", like the rest of the script (see _JS_UNSAFE).
        "options.requestInterceptor = function (request) {\n"
        "  const url = new URL(request.url, document.baseURI);\n"
        "  if (csrf !== null) {\n"
        "    if (url.origin === window.location.origin) {\n"
        f"      request.headers[{json_encode(CSRF_HEADER).decode()}] = csrf.content;\n"
        "    }\n"
        "  }\n"
        "  return request;\n"
        "};\n"
        "window.ui = SwaggerUIBundle(options);\n"
    )
