"""Cross-site WebSocket hijacking: a page on another site opening the user's socket.

WebSockets have no same-origin policy and the handshake carries the user's cookies,
so a handshake from a foreign (or ``null``) Origin is refused with 403 before the
handler runs. Clients that send no Origin are not browsers and pass.
"""

from __future__ import annotations

import asyncio

import pytest

from satchel.testing import TestClient, WebSocketDenied
from tests.security.granian import Server
from tests.security.served_app import build_app
from tests.wsclient import RawWebSocket

FOREIGN = ["https://evil.example", "null", "http://testserver", "https://testserver.evil.example"]


@pytest.mark.parametrize("origin", FOREIGN)
def test_foreign_origin_handshake_is_403(origin: str) -> None:
    """CWE-1385 (cross-site WebSocket hijacking): servers that ignored Origin, such as
    python-engineio before its ``cors_allowed_origins`` check, let any page talk to the
    socket as the signed-in user.
    """
    client = TestClient(build_app(), cookies={"session": "the user's"})
    handshake = client.websocket_connect
    with (
        client,
        pytest.raises(WebSocketDenied) as refused,
        handshake("/ws", headers={"origin": origin}),
    ):
        pass
    assert refused.value.status_code == 403


@pytest.mark.parametrize("origin", [None, "https://testserver"])
def test_own_origin_and_non_browsers_are_served(origin: str | None) -> None:
    headers = {} if origin is None else {"origin": origin}
    with TestClient(build_app()) as client, client.websocket_connect("/ws", headers=headers) as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"


@pytest.mark.parametrize(
    ("origin", "status"),
    [("https://evil.example", 403), ("null", 403), ("http://127.0.0.1:{port}", 101)],
)
def test_origin_check_through_granian(clean_server: Server, origin: str, status: int) -> None:
    """On a real handshake (RSGI refuses with 403; ASGI through Granian's HTTP answer)."""

    async def handshake() -> int:
        headers = [("Origin", origin.format(port=clean_server.port)), ("Cookie", "session=x")]
        ws = await RawWebSocket.connect(clean_server.port, "/ws", headers)
        ws.writer.close()
        return ws.status

    assert asyncio.run(handshake()) == status
