"""Satchel: an async-native Python web framework.

A micro core (this package) with batteries one import away. ``import satchel``
imports only the core: no database, template or cache library.

>>> from satchel import App
>>> app = App()
>>> @app.get("/")
... async def index() -> str:
...     return "Hello, World!"
"""

import typing as _typing

from satchel.app import App, State
from satchel.csrf import csrf_input, csrf_token
from satchel.datastructures import URL, Headers, MultiDict, QueryParams
from satchel.errors import (
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    HTTPError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from satchel.injection import DependencyOverrides
from satchel.lazyexports import lazy_exports as _lazy_exports
from satchel.middleware import CallNext, Middleware
from satchel.params import Body, Cookie, Depends, File, Form, Header, Path, Query
from satchel.requests import Request
from satchel.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from satchel.routers import ResponseDoc, Router
from satchel.settings import Settings
from satchel.validation import FieldError, RequestValidationError

if _typing.TYPE_CHECKING:
    from satchel.cors import CORSConfig
    from satchel.csp import csp_nonce
    from satchel.files import FileResponse, safe_join
    from satchel.redirects import is_safe_url, safe_redirect
    from satchel.uploads import UploadFile
    from satchel.websockets import WebSocket, WebSocketDisconnect

# Loaded on first use (PEP 562): an app that serves no files and no WebSockets
# never imports those modules.
_LAZY = {
    "FileResponse": "satchel.files",
    "safe_join": "satchel.files",
    "UploadFile": "satchel.uploads",
    "CORSConfig": "satchel.cors",
    "csp_nonce": "satchel.csp",
    "is_safe_url": "satchel.redirects",
    "safe_redirect": "satchel.redirects",
    "WebSocket": "satchel.websockets",
    "WebSocketDisconnect": "satchel.websockets",
}


if not _typing.TYPE_CHECKING:  # hidden from type checkers: a typo stays a typing error
    __getattr__ = _lazy_exports(__name__, globals(), _LAZY)


__version__ = "0.1.0.dev0"

__all__ = [
    "URL",
    "App",
    "BadRequest",
    "Body",
    "CORSConfig",
    "CallNext",
    "ConfigurationError",
    "Conflict",
    "Cookie",
    "DependencyOverrides",
    "Depends",
    "FieldError",
    "File",
    "FileResponse",
    "Forbidden",
    "Form",
    "HTMLResponse",
    "HTTPError",
    "Header",
    "Headers",
    "JSONResponse",
    "MethodNotAllowed",
    "Middleware",
    "MultiDict",
    "NotFound",
    "Path",
    "PayloadTooLarge",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "ResponseDoc",
    "Router",
    "Settings",
    "State",
    "StreamingResponse",
    "TooManyRequests",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "csp_nonce",
    "csrf_input",
    "csrf_token",
    "is_safe_url",
    "safe_join",
    "safe_redirect",
]
