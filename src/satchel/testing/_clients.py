"""The test clients: httpx clients whose transport calls the app in process."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Protocol, Self, TypedDict, TypeVar, Unpack

import httpx

from satchel.testing._connection import ASGICallable, Connection, websocket_scope
from satchel.testing._lifespan import Lifespan
from satchel.testing._portal import Portal
from satchel.testing._transport import AsyncTransport, SyncTransport
from satchel.testing._websocket import AsyncWebSocketSession, WebSocketSession

__all__ = ["AsyncTestClient", "TestClient"]

SessionT = TypeVar("SessionT")
SessionT_co = TypeVar("SessionT_co", covariant=True)


class _HTTPXOptions(TypedDict):
    """The constructor arguments that go on to the httpx client unchanged."""

    base_url: str
    headers: Mapping[str, str] | None
    cookies: httpx.Cookies | dict[str, str] | None
    follow_redirects: bool
    timeout: float | httpx.Timeout | None


class _HTTPXClient(Protocol[SessionT_co]):
    """What :class:`_InProcessClient` needs of the client class it is mixed into.

    ``SessionT_co`` is the WebSocket session class that its ``websocket_connect`` returns.
    """

    _connection: Connection
    _lifespan: Lifespan | None

    @property
    def timeout(self) -> httpx.Timeout: ...

    def build_request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None
    ) -> httpx.Request: ...

    def _wrap_session(self, session: AsyncWebSocketSession) -> SessionT_co:
        """The session ``websocket_connect`` returns for ``session``."""
        ...


class _InProcessClient:
    """What both test clients share: the constructor, the lifespan and WebSocket sessions.

    Mixed in before the httpx client class; the sync and async clients differ only in
    how they wait for the coroutines here (on their own loop or on the caller's).
    """

    __test__ = False  # not a test class, whatever pytest thinks of the names

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
        self._init_httpx(
            base_url=base_url,
            headers=headers,
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
        )
        self.app = app
        self._lifespan: Lifespan | None = None

    def _init_httpx(self, **options: Unpack[_HTTPXOptions]) -> None:
        """Initialise the httpx client with ``options`` and a transport to the app."""
        raise NotImplementedError

    async def _startup(self: _HTTPXClient[object]) -> None:
        lifespan = Lifespan(self._connection, self.timeout.read)
        await lifespan.startup()
        self._lifespan = lifespan

    async def _shutdown(self: _HTTPXClient[object]) -> None:
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown()

    def websocket_connect(
        self: _HTTPXClient[SessionT],
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SessionT:
        """Return a WebSocket session to ``url``.

        Use it with ``with`` from a :class:`TestClient`, with ``async with`` from an
        :class:`AsyncTestClient`. The handshake carries the client's default headers and
        cookies plus ``headers``.
        """
        request = self.build_request("GET", url, headers=headers)
        scope = websocket_scope(request, self._connection, subprotocols)
        return self._wrap_session(AsyncWebSocketSession(self._connection, scope, self.timeout.read))


class TestClient(_InProcessClient, httpx.Client):
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

    def _init_httpx(self, **options: Unpack[_HTTPXOptions]) -> None:
        self._portal = Portal()
        httpx.Client.__init__(
            self, transport=SyncTransport(self._connection, self._portal), **options
        )
        # A client never closed still stops its thread when collected or at exit.
        weakref.finalize(self, self._portal.stop)

    def _wrap_session(self, session: AsyncWebSocketSession) -> WebSocketSession:
        return WebSocketSession(session, self._portal)

    def __enter__(self) -> Self:
        super().__enter__()
        try:
            self._portal.call(self._startup(), self.timeout.read)
        except BaseException:
            super().__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            # A stopped portal refuses work, so call it only when there is some.
            if self._lifespan is not None:
                self._portal.call(self._shutdown(), self.timeout.read)
        finally:
            super().__exit__(exc_type, exc_value, traceback)


class AsyncTestClient(_InProcessClient, httpx.AsyncClient):
    """An async httpx client that calls ``app`` in process through ASGI.

    The app runs on the caller's event loop (asyncio). Entering the client with
    ``async with`` runs the app's lifespan. Takes the same arguments as :class:`TestClient`.
    """

    def _init_httpx(self, **options: Unpack[_HTTPXOptions]) -> None:
        httpx.AsyncClient.__init__(self, transport=AsyncTransport(self._connection), **options)

    def _wrap_session(self, session: AsyncWebSocketSession) -> AsyncWebSocketSession:
        return session

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        try:
            await self._startup()
        except BaseException:
            await super().__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            await self._shutdown()
        finally:
            await super().__aexit__(exc_type, exc_value, traceback)
