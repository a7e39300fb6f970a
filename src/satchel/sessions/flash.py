"""Flash messages: a note for the next page the client sees, kept in its session.

A handler flashes a message before redirecting (``"Article saved"``); the page
after the redirect reads it, which removes it, so each message is shown once.
Messages live in the session, so they work with every session store. Their size
is bounded in bytes, as the session stores them (UTF-8 JSON), not in characters: an
emoji takes 4 bytes and a control character 6 once escaped, so a character count
would let user input (a title) make a cookie session too large to send. A message
over :data:`MAX_FLASH_LENGTH` bytes is cut, and at most :data:`MAX_FLASH_MESSAGES`
messages taking :data:`MAX_FLASH_SIZE` bytes in all are kept: the oldest go first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final, Literal, get_args

import msgspec

from satchel.requests import Request
from satchel.sessions.middleware import get_session

__all__ = [
    "FLASH_CATEGORIES",
    "MAX_FLASH_LENGTH",
    "MAX_FLASH_MESSAGES",
    "MAX_FLASH_SIZE",
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
#: The most bytes a message takes in the session (UTF-8 JSON, escapes included);
#: a longer one is cut at a character boundary and ends in "…".
MAX_FLASH_LENGTH: Final = 200
#: The most bytes all kept messages take in the session, as JSON: a quarter of
#: what a cookie holds (4096 bytes, base64 and signature to come), leaving the
#: rest to the app's own session data.
MAX_FLASH_SIZE: Final = 1024

# The session key; namespaced so that it cannot clash with an app's own keys.
_SESSION_KEY = "satchel.flashes"
_ELLIPSIS = "…"
# A lone surrogate has no UTF-8 encoding: the session could not store it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_encode = msgspec.json.Encoder().encode


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

    A message taking more than :data:`MAX_FLASH_LENGTH` bytes is cut to fit, ending
    in "…" (a lone surrogate, which has no UTF-8 form, becomes U+FFFD). Beyond
    :data:`MAX_FLASH_MESSAGES` unread messages, or :data:`MAX_FLASH_SIZE` bytes of
    them, the oldest are dropped.

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
    kept.append([category, _shortened(_SURROGATE.sub("\ufffd", message))])
    kept = kept[-MAX_FLASH_MESSAGES:]
    # Never drops the new message: it alone takes at most MAX_FLASH_LENGTH bytes.
    while len(_encode(kept)) > MAX_FLASH_SIZE:
        del kept[0]
    session[_SESSION_KEY] = kept


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


def _shortened(message: str) -> str:
    """``message``, cut at a character boundary to take at most MAX_FLASH_LENGTH bytes as JSON."""
    if _json_size(message) <= MAX_FLASH_LENGTH:
        return message
    room = MAX_FLASH_LENGTH - _json_size(_ELLIPSIS)
    end = 0
    # Every character takes at least one byte, so this looks at MAX_FLASH_LENGTH at most.
    for character in message:
        room -= _json_size(character)
        if room < 0:
            break
        end += 1
    return message[:end] + _ELLIPSIS


def _json_size(text: str) -> int:
    return len(_encode(text)) - 2  # without the quotes


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
