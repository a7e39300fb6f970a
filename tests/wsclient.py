"""A minimal RFC 6455 client for tests against real servers (no client library)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct
from collections.abc import Iterable

__all__ = ["TIMEOUT", "RawWebSocket"]

TIMEOUT = 10.0

OPCODE = 0x0F
FIN = 0x80
PING, PONG = 0x9, 0xA


class RawWebSocket:
    """A minimal RFC 6455 client: handshake, masked frames out, frames in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.headers: dict[str, str] = {}

    @classmethod
    async def connect(
        cls, port: int, target: str, headers: Iterable[tuple[str, str]] = ()
    ) -> RawWebSocket:
        """Open ``target`` on 127.0.0.1:``port``; ``status`` and ``headers`` hold the answer."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
        client = cls(reader, writer)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in headers),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        client.status = int(status_line.split()[1])
        for line in filter(None, header_lines):
            name, _, value = line.partition(":")
            client.headers[name.strip().lower()] = value.strip()
        return client

    async def send(self, opcode: int, payload: bytes) -> None:
        """Send one final, masked frame."""
        mask = os.urandom(4)
        size = len(payload)
        head = bytes([FIN | opcode])
        if size < 126:
            head += bytes([0x80 | size])
        elif size < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", size)
        key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")
        self.writer.write(head + mask + masked)
        await self.writer.drain()

    async def send_text(self, value: str) -> None:
        await self.send(0x1, value.encode())

    async def read_frame(self) -> tuple[int, bytes]:
        """Return the next frame as it came: its first byte (FIN and opcode) and payload."""
        first, second = await asyncio.wait_for(self.reader.readexactly(2), TIMEOUT)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return first, await asyncio.wait_for(self.reader.readexactly(size), TIMEOUT)

    async def receive(self) -> tuple[int, bytes]:
        """Return the next (opcode, payload), skipping pings and joining fragments."""
        opcode, chunks = 0, []
        while True:
            first, payload = await self.read_frame()
            if first & OPCODE in (PING, PONG):
                continue
            opcode = opcode or first & OPCODE
            chunks.append(payload)
            if first & FIN:
                return opcode, b"".join(chunks)

    async def receive_text(self) -> str:
        opcode, payload = await self.receive()
        assert opcode == 0x1, (opcode, payload)
        return payload.decode()

    async def receive_close(self) -> tuple[int | None, str]:
        """Wait for the server's close frame; return its code (None if absent) and reason."""
        opcode, payload = await self.receive()
        assert opcode == 0x8, (opcode, payload)
        if not payload:
            return None, ""
        return int.from_bytes(payload[:2], "big"), payload[2:].decode()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):  # the server may have reset the connection first
            await self.writer.wait_closed()
