"""Flash messages: a note for the next page the client sees, kept in its session.

A handler flashes a message before redirecting (``"Article saved"``); the page
after the redirect reads it, which removes it, so each message is shown once.
Messages live in the session, so they work with every session store, and at
most :data:`MAX_FLASH_MESSAGES` are kept: the oldest go first. A message longer
than :data:`MAX_FLASH_LENGTH` is shortened, so flashing user input (a title)
cannot make the session too large for its cookie.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Literal, get_args

import msgspec

from satchel.requests import Request
from satchel.sessions.middleware import get_session

__all__ = [
    "FLASH_CATEGORIES",
    "MAX_FLASH_LENGTH",
    "MAX_FLASH_MESSAGES",
    "FlashCategory",
    "FlashMessage",
    "flash",
    "get_flashed_messages",
]

#: What a message is about; templates usually turn it into a CSS class.
FlashCategory = Literal["success", "info", "warning", "error"]
#: Every category, in order of severity.
FLASH_CATEGORIES: Final[tuple[FlashCategory, ...]] = get_args(FlashCategory)
#: The most messages a session keeps: a loop that flashes cannot grow it without limit.
MAX_FLASH_MESSAGES: Final = 10
#: The most characters a message keeps; longer ones end in "…" at this length.
MAX_FLASH_LENGTH: Final = 200

# The session key; namespaced so that it cannot clash with an app's own keys.
_SESSION_KEY = "satchel.flashes"


class FlashMessage(msgspec.Struct, frozen=True):
    """One flashed message.

    Attributes:
        category: ``"success"``, ``"info"``, ``"warning"`` or ``"error"``.
        message: The text, as given to :func:`flash` (templates escape it).
    """

    category: FlashCategory
    message: str


async def flash(request: Request, message: str, category: FlashCategory = "info") -> None:
    """Keep ``message`` in the session until a page reads it with :func:`get_flashed_messages`.

    Beyond :data:`MAX_FLASH_MESSAGES` unread messages, the oldest is dropped; a
    message longer than :data:`MAX_FLASH_LENGTH` is cut to that length, ending in "…".

    Raises:
        ValueError: ``category`` is not one of :data:`FLASH_CATEGORIES`.
        TypeError: ``message`` is not a string.
        RuntimeError: no ``SessionMiddleware`` serves the route.
    """
    _check_categories((category,))
    if not isinstance(message, str):
        raise TypeError(f"A flash message must be a str, not {type(message).__name__}")
    session = await get_session(request)
    kept = [[m.category, m.message] for m in _stored(session.get(_SESSION_KEY))]
    if len(message) > MAX_FLASH_LENGTH:
        message = message[: MAX_FLASH_LENGTH - 1] + "…"
    kept.append([category, message])
    session[_SESSION_KEY] = kept[-MAX_FLASH_MESSAGES:]


async def get_flashed_messages(
    request: Request, categories: Iterable[FlashCategory] | None = None
) -> list[FlashMessage]:
    """Return the unread messages, oldest first, and remove them from the session.

    Args:
        request: The request whose session holds the messages.
        categories: Only return (and remove) messages of these categories; the
            others stay for a later call. None: every message.

    Raises:
        ValueError: ``categories`` names an unknown category.
        RuntimeError: no ``SessionMiddleware`` serves the route.
    """
    wanted = None if categories is None else _check_categories(tuple(categories))
    session = await get_session(request)
    if _SESSION_KEY not in session:
        return []  # nothing flashed: read, but not written back
    messages = _stored(session[_SESSION_KEY])
    shown: list[FlashMessage] = []
    left: list[list[str]] = []
    for m in messages:
        if wanted is None or m.category in wanted:
            shown.append(m)
        else:
            left.append([m.category, m.message])
    if left:
        session[_SESSION_KEY] = left
    else:
        del session[_SESSION_KEY]
    return shown


def _check_categories(categories: tuple[str, ...]) -> frozenset[str]:
    for category in categories:
        if category not in FLASH_CATEGORIES:
            raise ValueError(
                f"Unknown flash category {category!r}; use one of {', '.join(FLASH_CATEGORIES)}"
            )
    return frozenset(categories)


def _stored(value: Any) -> list[FlashMessage]:
    """The messages kept in the session; anything else there (an old format) counts as none."""
    try:
        pairs = msgspec.convert(value, list[tuple[FlashCategory, str]])
    except msgspec.ValidationError:
        return []
    return [FlashMessage(category, message) for category, message in pairs]
