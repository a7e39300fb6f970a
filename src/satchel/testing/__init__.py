"""Test clients that call an ASGI app in process: :class:`TestClient` and :class:`AsyncTestClient`.

Both are real :class:`httpx.Client` / :class:`httpx.AsyncClient` subclasses whose transport
speaks ASGI to the app, so a test gets the whole httpx API (cookie jar, ``stream()``, auth,
event hooks). Request bodies reach the app in chunks and response bodies come back as the app
sends them; entering the client runs the app's lifespan; ``websocket_connect`` opens a
WebSocket session.

>>> from satchel import App, Settings
>>> app = App(settings=Settings())
>>> @app.get("/")
... async def index() -> str:
...     return "Hello"
>>> with TestClient(app) as client:
...     client.get("/").text
'Hello'
"""

from __future__ import annotations

try:
    import httpx  # noqa: F401  (checked first, for a clear message when it is missing)
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("satchel.testing needs httpx: pip install 'satchel[testing]'") from exc

from satchel.testing._clients import AsyncTestClient, TestClient
from satchel.testing._lifespan import LifespanFailed
from satchel.testing._websocket import (
    AsyncWebSocketSession,
    WebSocketClosed,
    WebSocketDenied,
    WebSocketSession,
)

__all__ = [
    "AsyncTestClient",
    "AsyncWebSocketSession",
    "LifespanFailed",
    "TestClient",
    "WebSocketClosed",
    "WebSocketDenied",
    "WebSocketSession",
]

# Public classes name the package, not the private module that defines them, in reprs,
# tracebacks and documentation.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
