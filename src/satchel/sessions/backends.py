"""Where a session lives between requests: in its signed cookie, or in a store by id.

Both kinds turn a cookie value into a session record and back; the middleware
does not know which one it talks to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from satchel.sessions.session import Record, decode_record, encode_record
from satchel.sessions.store import SessionStore
from satchel.signing import BadSignature, Signer

__all__ = ["CookieStore"]

#: The signer salts: a session cookie's data and a server-side session's id. Namespaced,
#: so that no salt an app picks for its own signer ("session", say) can mint a session.
COOKIE_SALT = "satchel.sessions.cookie"
ID_SALT = "satchel.sessions.id"


@dataclass(frozen=True, slots=True)
class CookieStore:
    """Keep the session in the cookie itself, signed with the app's keys (the default).

    Nothing is stored on the server, so any number of workers and machines share
    sessions with no setup; the client can read the data (it is signed, not
    encrypted) and the whole session travels with every request. A logged-out
    or rotated cookie cannot be revoked: a copy taken before stays valid until
    its timeouts end it. Use a server-side store when that matters.

    Args:
        max_size: The most bytes the cookie (name and value) may take; saving a
            larger session raises ``ValueError`` rather than send a cookie that
            browsers drop. 4096 is what every browser keeps.
    """

    max_size: int = 4096


class Backend(Protocol):
    """The cookie value <-> session record conversion the middleware uses."""

    #: The salt of the signer that signs the cookie value.
    salt: str

    async def load(self, value: str, signer: Signer) -> Record | None:
        """The record the cookie ``value`` stands for, or None (never raises for bad input)."""

    async def save(self, record: Record, ttl: int, signer: Signer, *, existing: bool) -> str | None:
        """Keep ``record`` for ``ttl`` seconds; return the cookie value.

        With ``existing``, the session was loaded from its cookie: None when it has
        since been deleted server-side (a concurrent logout), and nothing is saved.
        """

    async def delete(self, session_id: str) -> None:
        """Forget the session ``session_id`` (nothing to do for a cookie)."""


class CookieBackend:
    """The record, signed, is the cookie value."""

    salt = COOKIE_SALT

    def __init__(self, store: CookieStore, cookie_name: str) -> None:
        self._max_value = store.max_size - len(cookie_name) - 1  # name=value

    async def load(self, value: str, signer: Signer) -> Record | None:
        if len(value) > self._max_value:
            return None
        try:
            return decode_record(signer.unsign(value))
        except BadSignature:
            return None

    async def save(self, record: Record, ttl: int, signer: Signer, *, existing: bool) -> str | None:
        # Nothing on the server to check: a cookie session cannot be revoked (see CookieStore).
        value = signer.sign(encode_record(record))
        if len(value) > self._max_value:
            raise ValueError(
                f"The session is too large for a cookie: {len(value)} bytes, over the "
                f"{self._max_value} left of CookieStore(max_size=...); keep less in it "
                "or use a server-side store (MemoryStore, RedisStore, DatabaseStore)"
            )
        return value

    async def delete(self, session_id: str) -> None:
        return  # a cookie session has no server-side copy to delete


class StoreBackend:
    """The signed session id is the cookie value; the record lives in a store."""

    salt = ID_SALT

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    async def load(self, value: str, signer: Signer) -> Record | None:
        try:
            session_id = signer.unsign(value).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None  # a forged or foreign id never reaches the store
        data = await self._store.load(session_id)
        record = decode_record(data) if data is not None else None
        if record is None or record.id != session_id:
            return None
        return record

    async def save(self, record: Record, ttl: int, signer: Signer, *, existing: bool) -> str | None:
        if not await self._store.save(record.id, encode_record(record), ttl, existing=existing):
            return None
        return signer.sign(record.id)

    async def delete(self, session_id: str) -> None:
        await self._store.delete(session_id)
