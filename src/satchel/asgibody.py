"""What the ASGI request and the streaming watch share: body-reading phases and types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BODY_DROPPED", "FINISHED", "READING", "UNREAD", "Message", "Receive", "Send"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# How far the body reader has got; the disconnect watch shares receive() with it.
UNREAD, READING, FINISHED = 0, 1, 2
#: Stands in for a body the watch had to discard (larger than the body limit).
BODY_DROPPED = "satchel.body.dropped"
