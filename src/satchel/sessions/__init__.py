"""Sessions: signed-cookie (default) and server-side stores (memory, Redis, database).

>>> from satchel import App, Settings
>>> from satchel.sessions import SessionMiddleware
>>> app = App(settings=Settings(secret_key="change me"))
>>> app.add_middleware(SessionMiddleware())
"""

from __future__ import annotations

import typing as _typing

from satchel.lazyexports import lazy_exports as _lazy_exports
from satchel.sessions.backends import CookieStore
from satchel.sessions.flash import (
    FLASH_CATEGORIES,
    MAX_FLASH_LENGTH,
    MAX_FLASH_MESSAGES,
    MAX_FLASH_SIZE,
    FlashCategory,
    FlashMessage,
    flash,
    get_flashed_messages,
)
from satchel.sessions.memory import MemoryStore
from satchel.sessions.middleware import SessionMiddleware, get_session
from satchel.sessions.session import Session
from satchel.sessions.store import SessionStore

if _typing.TYPE_CHECKING:
    from satchel.sessions.database import DatabaseStore
    from satchel.sessions.redis import RedisStore

# Loaded on first use (PEP 562): importing satchel.sessions never imports redis
# or SQLAlchemy, which only the apps using those stores install.
_LAZY = {
    "DatabaseStore": "satchel.sessions.database",
    "RedisStore": "satchel.sessions.redis",
}

if not _typing.TYPE_CHECKING:  # hidden from type checkers: a typo stays a typing error
    __getattr__ = _lazy_exports(__name__, globals(), _LAZY)


__all__ = [
    "FLASH_CATEGORIES",
    "MAX_FLASH_LENGTH",
    "MAX_FLASH_MESSAGES",
    "MAX_FLASH_SIZE",
    "CookieStore",
    "DatabaseStore",
    "FlashCategory",
    "FlashMessage",
    "MemoryStore",
    "RedisStore",
    "Session",
    "SessionMiddleware",
    "SessionStore",
    "flash",
    "get_flashed_messages",
    "get_session",
]
