"""The test clients: httpx clients whose transport calls the app in process."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

import httpx

from satchel.testing._connection import ASGICallable, Connection, websocket_scope
from satchel.testing._lifespan import Lifespan
from satchel.testing._portal import Portal
from satchel.testing._transport import AsyncTransport, SyncTransport
from satchel.testing._websocket import AsyncWebSocketSession, WebSocketSession

__all__ = ["AsyncTestClient", "TestClient"]


class TestClient(httpx.Client):
    """A sync httpx client that calls ``app`` in process through ASGI.

    The app runs on an event loop in a background thread, started on entering the client
    (or on the first request) and stopped, with its thread joined, on ``close()``.
    Entering the client with ``with`` also runs the app's lifespan (startup hooks on enter,
    shutdown on exit); without ``with`` plain requests still work but nothing starts up.

    Args:
        app: Any ASGI 3 application (a Satchel ``App`` or another).
        base_url: Prefix of relative URLs. ``https`` by default so that Secure cookies,
            Satchel's default, are kept and sent back.
        raise_server_exceptions: Re-raise in the test an exception that escapes the app,
            instead of answering 500. Errors the app turns into responses itself (as Satchel
            does for handler errors) are responses either way.
        client: The ``(host, port)`` the app sees as the peer address.
        headers: Headers sent with every request.
        cookies: Cookies to start the jar with.
        follow_redirects: Follow redirects (off by default: tests usually check them).
        timeout: Seconds to wait for the app at each step (response start, each body
            chunk, lifespan, WebSocket message); ``None`` waits forever.
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        app: ASGICallable,
        *,
        base_url: str = "https://testserver",
        raise_server_exceptions: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        cookies: httpx.Cookies | dict[str, str] | None = None,
        follow_redirects: bool = False,
        timeout: float | httpx.Timeout | None = 30.0,
    ) -> None:
        self._connection = Connection(app, client, raise_server_exceptions)
        self._portal = Portal()
        super().__init__(
            base_url=base_url,
            headers=headers,
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=SyncTransport(self._connection, self._portal),
        )
        self.app = app
        self._lifespan: Lifespan | None = None
        # A client never closed still stops its thread when collected or at exit.
        weakref.finalize(self, self._portal.stop)

    def __enter__(self) -> Self:
        super().__enter__()
        lifespan = Lifespan(self._connection, self.timeout.read)
        try:
            self._portal.call(lifespan.startup(), self.timeout.read)
        except BaseException:
            super().__exit__(None, None, None)
            raise
        self._lifespan = lifespan
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                self._portal.call(lifespan.shutdown(), self.timeout.read)
        finally:
            super().__exit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> WebSocketSession:
        """Return a WebSocket session to ``url``; use it with ``with``.

        The handshake carries the client's default headers and cookies plus ``headers``.
        """
        request = self.build_request("GET", url, headers=headers)
        scope = websocket_scope(request, self._connection, subprotocols)
        session = AsyncWebSocketSession(self._connection, scope, self.timeout.read)
        return WebSocketSession(session, self._portal)


class AsyncTestClient(httpx.AsyncClient):
    """An async httpx client that calls ``app`` in process through ASGI.

    The app runs on the caller's event loop (asyncio). Entering the client with
    ``async with`` runs the app's lifespan. Takes the same arguments as :class:`TestClient`.
    """

    __test__ = False

    def __init__(
        self,
        app: ASGICallable,
        *,
        base_url: str = "https://testserver",
        raise_server_exceptions: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
        headers: Mapping[str, str] | None = None,
        cookies: httpx.Cookies | dict[str, str] | None = None,
        follow_redirects: bool = False,
        timeout: float | httpx.Timeout | None = 30.0,
    ) -> None:
        self._connection = Connection(app, client, raise_server_exceptions)
        super().__init__(
            base_url=base_url,
            headers=headers,
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=AsyncTransport(self._connection),
        )
        self.app = app
        self._lifespan: Lifespan | None = None

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        lifespan = Lifespan(self._connection, self.timeout.read)
        try:
            await lifespan.startup()
        except BaseException:
            await super().__aexit__(None, None, None)
            raise
        self._lifespan = lifespan
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                await lifespan.shutdown()
        finally:
            await super().__aexit__(exc_type, exc_value, traceback)

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncWebSocketSession:
        """Return a WebSocket session to ``url``; use it with ``async with``."""
        request = self.build_request("GET", url, headers=headers)
        scope = websocket_scope(request, self._connection, subprotocols)
        return AsyncWebSocketSession(self._connection, scope, self.timeout.read)
