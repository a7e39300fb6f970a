"""WebSocket support (being written; placeholder that refuses connections)."""

from __future__ import annotations

from typing import Any

__all__ = ["serve_asgi_websocket", "serve_rsgi_websocket"]


async def serve_asgi_websocket(app: Any, scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.close", "code": 1000})


async def serve_rsgi_websocket(app: Any, scope: Any, proto: Any) -> None:
    proto.close(1000)
