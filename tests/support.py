"""Helpers for calling an app in tests without a server.

``request`` goes through httpx's ASGI transport, like a real client. ``call_asgi``
hands the app a scope built by hand, for what a well-behaved client never sends:
raw paths with invalid percent-escapes, duplicate headers, bodies that stop short.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from satchel import App

__all__ = [
    "FORBIDDEN_IN_BODY",
    "RawResponse",
    "Receiver",
    "assert_problem",
    "call_asgi",
    "request",
    "run_lifespan",
]

Message = MutableMapping[str, Any]

#: Text that would betray a traceback or an internal detail in an error body.
FORBIDDEN_IN_BODY = ("Traceback", 'File "', "site-packages", ".py", "satchel.")


def request(app: App[Any], method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send one request to ``app`` through httpx's ASGI transport and return the response."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(send())


@dataclass
class Receiver:
    """An ASGI ``receive`` callable that hands out body chunks and counts them.

    Args:
        chunks: The body, one ``http.request`` message per chunk.
        disconnect: Send ``http.disconnect`` after the chunks instead of ending
            the body (the last chunk then has ``more_body=True``). Otherwise the
            client stays: after the body, ``receive()`` waits, as on a real server.
    """

    chunks: Sequence[bytes] = (b"",)
    disconnect: bool = False
    handed_out: int = 0

    async def __call__(self) -> Message:
        index = self.handed_out
        self.handed_out += 1
        if index < len(self.chunks):
            more = self.disconnect or index < len(self.chunks) - 1
            return {"type": "http.request", "body": self.chunks[index], "more_body": more}
        if not self.disconnect:
            await asyncio.Event().wait()  # a client that stays: nothing until the app is done
        return {"type": "http.disconnect"}


@dataclass
class RawResponse:
    """What the app sent for one ``call_asgi`` call."""

    messages: list[Message] = field(default_factory=list)

    @property
    def status(self) -> int:
        """The status of ``http.response.start``."""
        return int(self._start()["status"])

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers exactly as sent."""
        return list(self._start()["headers"])

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        values = self.headers_named(name)
        return values[0] if values else None

    def headers_named(self, name: str) -> list[str]:
        """Return every value of header ``name``."""
        wanted = name.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw_headers if k.lower() == wanted]

    @property
    def body(self) -> bytes:
        """The whole body, joined from every ``http.response.body`` message."""
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)

    def _start(self) -> Message:
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.messages
        return starts[0]


def call_asgi(
    app: App[Any],
    *,
    method: str = "GET",
    path: str = "/",
    raw_path: bytes | None = None,
    query_string: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    receive: Receiver | None = None,
    client: tuple[str, int] | None = ("127.0.0.1", 50000),
    scheme: str = "http",
) -> RawResponse:
    """Call ``app`` with a hand-built HTTP scope and collect what it sends.

    ``raw_path`` defaults to ``path`` encoded as UTF-8, Host to ``testserver`` unless
    ``headers`` has one; any exception escaping
    the app propagates to the test.
    """
    given = list(headers)
    if not any(name.lower() == b"host" for name, _ in given):
        given.insert(0, (b"host", b"testserver"))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode() if raw_path is None else raw_path,
        "query_string": query_string,
        "root_path": "",
        "headers": given,
        "client": client,
        "server": ("testserver", 80),
    }
    result = RawResponse()

    async def send(message: Message) -> None:
        result.messages.append(message)

    asyncio.run(app(scope, receive or Receiver(), send))
    return result


def run_lifespan(app: App[Any], messages: Sequence[str]) -> list[Message]:
    """Feed ``app`` the lifespan messages named (``"startup"``, ``"shutdown"``).

    Returns what the app sent back.
    """
    sent: list[Message] = []
    queue = [{"type": f"lifespan.{name}"} for name in messages]

    async def receive() -> Message:
        if not queue:
            raise _LifespanOver
        return queue.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    # A server keeps the lifespan task waiting after startup; here running
    # out of messages simply ends it.
    with contextlib.suppress(_LifespanOver):
        asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    return sent


class _LifespanOver(Exception):
    """No more lifespan messages to hand out."""


def assert_problem(body: Any, status: int) -> None:
    """Check an RFC 9457 problem body: the status and no internal details."""
    assert isinstance(body, dict)
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    text = json.dumps(body)
    for forbidden in FORBIDDEN_IN_BODY:
        assert forbidden not in text, (forbidden, text)


def open_files_under(directory: Path) -> list[str]:
    """Return what this process holds open under ``directory`` (Linux /proc)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


def importable_module(source: str, folder: Path, monkeypatch: Any, prefix: str) -> Iterable[str]:
    """Write ``source`` as a uniquely named module in ``folder``; yield its name.

    The body of a CLI test fixture (``yield from importable_module(...)``): ``folder``
    becomes the working directory and heads a copy of ``sys.path``, ``SATCHEL_APP`` is
    unset (``monkeypatch`` undoes both), and the module is forgotten afterwards.
    """
    import sys
    import textwrap
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.syspath_prepend(folder)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("SATCHEL_APP", raising=False)
    try:
        yield name
    finally:
        sys.modules.pop(name, None)
