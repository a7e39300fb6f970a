"""The session object handlers see, and the record a store keeps of it."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import msgspec

from satchel.csrf import rotate_csrf

if TYPE_CHECKING:
    from satchel.requests import Request

__all__ = ["Session"]

_MAX_NESTING = 32


class Record(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """What a store keeps of a session (encoded as a JSON array)."""

    #: The session id: the store key of a server-side session, a nonce in a cookie session.
    id: str
    data: dict[str, Any]
    #: Whole seconds since the epoch: enough for timeouts, and short in a cookie.
    created_at: int
    last_seen: int
    #: The cookie outlives the browser session (False: "remember me" was not asked for).
    #: Last and defaulted, so records written before it existed still decode.
    persistent: bool = True


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Record)


def encode_record(record: Record) -> bytes:
    """The JSON bytes of ``record``."""
    if record.persistent:
        # The default is left out, so most sessions keep their size and form.
        return _encoder.encode((record.id, record.data, record.created_at, record.last_seen))
    return _encoder.encode(record)


def decode_record(data: bytes) -> Record | None:
    """The record encoded in ``data``, or None if it is not one (never raises)."""
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


def new_session_id() -> str:
    """A random, URL-safe session id with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


class Session(MutableMapping[str, Any]):
    """The data of one client's session: a mapping of string keys to JSON values.

    Get it with ``await get_session(request)`` (or ``Depends(get_session)``).
    Values are JSON values: ``str``, ``int``, ``float``, ``bool``, ``None``,
    lists and dicts with string keys of those (``TypeError`` otherwise), so
    what comes back is exactly what was stored. Changing a nested value in
    place (``session["cart"].append(1)``) is not seen: assign it again, or set
    ``session.modified = True``.

    The session is saved when the handler returns, with the response headers;
    changing it after that (in a streaming body) raises ``RuntimeError``.

    Attributes:
        new: No valid session came with the request (or :meth:`destroy` was called).
        modified: The data changed, so the session is saved with the response.
        persistent: The cookie is kept until the session expires (True, the
            default), or only until the browser closes (False): set it on login
            from a "remember me" box. Kept with the session; changing it saves it.
        accessed: The data was read or written in this request (the response
            then varies by cookie: ``Vary: Cookie``).
        created_at: When the session started, or was last rotated (epoch seconds).
        last_seen: When the client last used it, before this request (epoch seconds).
    """

    __slots__ = (
        "_clock",
        "_committed",
        "_data",
        "_destroyed",
        "_id",
        "_persistent",
        "_request",
        "_stale_id",
        "accessed",
        "created_at",
        "last_seen",
        "modified",
        "new",
    )

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        created_at: float,
        last_seen: float,
        clock: Callable[[], float],
        request: Request,
        persistent: bool = True,
    ) -> None:
        self._data: dict[str, Any] = data if data is not None else {}
        # The current id; None until the session is saved (then a fresh random one).
        # Never exposed: for a server-side session it is the bearer credential.
        self._id = session_id
        self.new = session_id is None
        self.created_at = created_at
        self.last_seen = last_seen
        self.modified = False
        self.accessed = False
        # destroy() was called: the old session ends even if the response is an error.
        self._destroyed = False
        # An id to delete from the store when the response is committed.
        self._stale_id: str | None = None
        self._clock = clock
        self._request = request
        self._committed = False
        self._persistent = persistent

    @property
    def persistent(self) -> bool:
        """Whether the cookie outlives the browser session (see the class attributes)."""
        return self._persistent

    @persistent.setter
    def persistent(self, value: bool) -> None:
        if value != self._persistent:
            self._changing()
            self._persistent = value

    # -- mapping -------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"Session keys must be strings, not {type(key).__name__}")
        check_json_value(value, f"session[{key!r}]")
        self._changing()
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        self._changing()
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def clear(self) -> None:
        """Remove every key (the session cookie is expired unless keys are set again)."""
        self._changing()
        self._data.clear()

    # -- lifecycle -----------------------------------------------------------------------

    def rotate(self) -> None:
        """Give the session a new id, keeping its data: call it on login.

        The old id stops working (its server-side entry is deleted when the
        response is sent), so an id planted by an attacker before login (session
        fixation) is worthless after it. The absolute lifetime restarts, as after
        any authentication, and the CSRF token is renewed.
        """
        self._changing()
        self._renew()
        self._rotate_csrf()

    def destroy(self) -> None:
        """End the session: clear it, delete it server-side and expire the cookie (logout).

        Keys set afterwards (a "logged out" message) go into a new session
        with a new id.
        """
        self._changing()
        self._data.clear()
        self._renew()
        self._destroyed = True
        self._persistent = True
        self._rotate_csrf()

    def _renew(self) -> None:
        if self._id is not None and self._stale_id is None:
            self._stale_id = self._id
        self._id = None
        self.new = True
        self.created_at = self.last_seen = self._clock()

    def _rotate_csrf(self) -> None:
        # A new session (login, logout) gets a new CSRF secret too: tokens an
        # attacker obtained before it stop verifying.
        rotate_csrf(self._request)

    def _changing(self) -> None:
        if self._committed:
            raise RuntimeError(
                "The session was saved when the response started; change it before "
                "returning the response (not in a streaming body)"
            )
        self.accessed = True
        self.modified = True

    def _commit(self) -> dict[str, Any]:
        """Freeze the session (later changes raise) and return its data for saving."""
        self._committed = True
        for key, value in self._data.items():
            check_json_value(value, f"session[{key!r}]")  # values changed in place
        return self._data

    def __repr__(self) -> str:
        # Keys only: values may be personal data that must not reach logs.
        return f"<Session keys={sorted(self._data)!r} new={self.new} modified={self.modified}>"


def check_json_value(value: Any, where: str, depth: int = 0) -> None:
    """Raise ``TypeError`` unless ``value`` survives a JSON round trip unchanged.

    ``where`` names the value in the message, like ``session['cart'][2]``.
    """
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is not a finite number")
        return
    if depth >= _MAX_NESTING:
        raise TypeError(f"{where} is nested more than {_MAX_NESTING} levels")
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json_value(item, f"{where}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}")
            check_json_value(item, f"{where}[{key!r}]", depth + 1)
        return
    raise TypeError(
        f"{where} has type {type(value).__name__}; sessions hold JSON values "
        "(str, int, float, bool, None, list, dict with str keys)"
    )
