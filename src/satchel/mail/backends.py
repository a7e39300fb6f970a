"""Where mail goes: the backend protocol, and the console, file and in-memory backends."""

from __future__ import annotations

import os
import secrets
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from email.policy import SMTP
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from satchel.mail.message import EmailMessage
from satchel.threads import run_in_thread

__all__ = ["ConsoleBackend", "FileBackend", "MailBackend", "MailError", "MemoryBackend"]

# What the SMTP backend sends, with the terminal's line endings instead of CRLF.
_READABLE = SMTP.clone(linesep="\n")


class MailError(Exception):
    """Sending failed; the message says where and why.

    Attributes:
        sent: How many messages of the batch were sent before the failure.
    """

    def __init__(self, message: str, *, sent: int = 0) -> None:
        super().__init__(message)
        self.sent = sent


@runtime_checkable
class MailBackend(Protocol):
    """Sends messages; every message has its sender set (``Mailer`` fills it in)."""

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        """Send ``messages``; returns how many were sent.

        Raises:
            MailError: Delivery failed.
            ValueError: A message cannot be built (no sender): nothing was sent.
        """
        ...


class ConsoleBackend:
    """Writes each message, as it would be sent, to a stream: for development.

    Args:
        stream: Where to write; ``sys.stdout`` (looked up at each send) when ``None``.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        # One message's lines must not interleave with another's, sent from a thread.
        self._lock = threading.Lock()

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        texts = [message.as_mime().as_string(policy=_READABLE) for message in messages]
        stream = self.stream if self.stream is not None else sys.stdout
        with self._lock:
            for text in texts:
                stream.write(f"{text}\n{'-' * 79}\n")
            stream.flush()
        return len(texts)


class FileBackend:
    """Writes each message to its own ``.eml`` file in ``directory`` (created when needed).

    File names sort by sending time and never collide (a random part, exclusive creation).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        contents = [message.as_mime().as_bytes() for message in messages]
        return await run_in_thread(self._write, contents)

    def _write(self, contents: list[bytes]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        for content in contents:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
            path = self.directory / f"{stamp}-{secrets.token_hex(4)}.eml"
            with path.open("xb") as file:
                file.write(content)
        return len(contents)


class MemoryBackend:
    """Keeps sent messages in :attr:`outbox`: for tests.

    Messages are built as a real backend would build them, so one that could not be
    sent fails here too.
    """

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            message.as_mime()
        self.outbox.extend(messages)
        return len(messages)
