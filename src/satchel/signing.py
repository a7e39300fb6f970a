"""Signed values: HMAC-SHA256 tokens with purposes (salts), timestamps and key rotation.

A token is ``payload.timestamp.signature``, each part base64url without padding:
the payload is the value itself (signed, not encrypted: anyone can read it),
the timestamp the signing time in whole seconds. Each salt derives its own key
from every secret key, so a token signed for one purpose (``"session"``) never
verifies for another (``"password-reset"``). Verification tries every key,
newest first: a token signed with a key that is now a fallback still verifies,
and stops verifying once that key is removed.

>>> signer = Signer(["new key", "old key"], salt="greeting")
>>> signer.unsign(signer.sign("hello"))
b'hello'
>>> Signer(["old key"], salt="greeting").unsign(signer.sign("hi"))
Traceback (most recent call last):
...
satchel.signing.BadSignature: Invalid signature
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack

from satchel.errors import ConfigurationError

if TYPE_CHECKING:
    from satchel.requests import Request
    from satchel.responses import Response

__all__ = [
    "DEFAULT_MAX_TOKEN_LENGTH",
    "BadSignature",
    "CookieOptions",
    "SignatureExpired",
    "Signer",
    "get_signed_cookie",
    "set_signed_cookie",
]

#: Longer tokens are refused before any decoding or hashing.
DEFAULT_MAX_TOKEN_LENGTH = 64 * 1024

_SIGNATURE_LENGTH = 43  # base64url of a SHA-256 digest, unpadded
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class BadSignature(Exception):
    """A token is malformed, was tampered with, or was signed with another key or salt."""


class SignatureExpired(BadSignature):
    """A token's signature is valid but older than the ``max_age`` asked for.

    Attributes:
        signed_at: When the token was signed (seconds since the epoch).
    """

    def __init__(self, message: str, signed_at: float) -> None:
        super().__init__(message)
        self.signed_at = signed_at


class Signer:
    """Signs values and verifies tokens for one purpose.

    Args:
        keys: Secret keys, newest first; ``sign`` uses the first, ``unsign``
            accepts any (usually ``app.secret_keys``).
        salt: The purpose; tokens signed with one salt never verify with another.
        clock: Returns the current time in seconds (tests pass a fake clock).
        max_length: Longer tokens are refused at once.

    Raises:
        ConfigurationError: no key, an empty key, or an empty salt.
    """

    __slots__ = ("_clock", "_macs", "max_length")

    def __init__(
        self,
        keys: Sequence[str | bytes],
        *,
        salt: str,
        clock: Callable[[], float] = time.time,
        max_length: int = DEFAULT_MAX_TOKEN_LENGTH,
    ) -> None:
        if isinstance(keys, str | bytes):
            # A lone string is a sequence of one-character keys: never what was meant.
            raise TypeError("keys must be a sequence of keys, newest first, not a single key")
        if not keys:
            raise ConfigurationError("A Signer needs at least one key")
        if any(not key for key in keys):
            raise ConfigurationError("Signing keys must not be empty")
        if not salt:
            raise ConfigurationError("A Signer needs a salt naming what it signs")
        label = b"satchel.signing." + salt.encode()
        derived = [hmac.digest(_to_bytes(key), label, "sha256") for key in keys]
        # Keyed once here; each signature copies the keyed state instead of re-keying.
        self._macs = tuple(hmac.new(key, digestmod=hashlib.sha256) for key in derived)
        self._clock = clock
        self.max_length = max_length

    def sign(self, value: bytes | str) -> str:
        """Return ``value`` (``str`` is encoded as UTF-8) with a timestamp and a signature.

        Raises:
            ValueError: the token would be longer than ``max_length``.
        """
        data = value.encode() if isinstance(value, str) else value
        seconds = int(self._clock())
        timestamp = seconds.to_bytes(max(1, (seconds.bit_length() + 7) // 8), "big")
        head = f"{_encode(data)}.{_encode(timestamp)}"
        token = f"{head}.{_signature(self._macs[0], head)}"
        if len(token) > self.max_length:
            raise ValueError(f"Signed value longer than {self.max_length} characters")
        return token

    def unsign(self, token: str, *, max_age: float | None = None) -> bytes:
        """Return the value signed into ``token``.

        Args:
            token: What :meth:`sign` returned (usually after a trip through a client).
            max_age: Refuse tokens signed more than this many seconds ago.

        Raises:
            SignatureExpired: the signature is valid but older than ``max_age``.
            BadSignature: anything else wrong with the token.
        """
        if not isinstance(token, str) or len(token) > self.max_length or not token.isascii():
            raise BadSignature("Invalid signature")
        parts = token.split(".")
        if len(parts) != 3:
            raise BadSignature("Invalid signature")
        payload, timestamp, signature = parts
        if len(signature) != _SIGNATURE_LENGTH or not _BASE64URL.fullmatch(token.replace(".", "")):
            raise BadSignature("Invalid signature")
        head = token[: len(payload) + 1 + len(timestamp)]
        # compare_digest on the text: only the canonical encoding of the digest matches.
        if not any(hmac.compare_digest(_signature(mac, head), signature) for mac in self._macs):
            raise BadSignature("Invalid signature")
        try:
            data, signed_at = _decode(payload), int.from_bytes(_decode(timestamp), "big")
        except binascii.Error:  # only reachable with a key that signed garbage
            raise BadSignature("Invalid signature") from None
        if max_age is not None and self._clock() - signed_at > max_age:
            raise SignatureExpired(f"Signature older than {max_age} seconds", signed_at)
        return data

    def __repr__(self) -> str:
        return f"<Signer with {len(self._macs)} key(s)>"  # never the keys


class CookieOptions(TypedDict, total=False):
    """Cookie attributes :func:`set_signed_cookie` passes to ``Response.set_cookie``."""

    max_age: int | None
    expires: datetime | None
    path: str
    domain: str | None
    secure: bool
    httponly: bool
    samesite: Literal["lax", "strict", "none"]
    partitioned: bool


def set_signed_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    salt: str = "cookie",
    **cookie_options: Unpack[CookieOptions],
) -> None:
    """Set cookie ``name`` to ``value`` signed with ``request.app.secret_keys``.

    The signature covers the cookie's name too, so a value signed for one cookie
    is refused when presented as another. Attributes default to those of
    ``Response.set_cookie`` (Secure, HttpOnly, SameSite=Lax). The value is
    readable by the client: sign, do not store secrets.
    """
    token = _cookie_signer(request.app.secret_keys, salt, name).sign(value)
    response.set_cookie(name, token, **cookie_options)


def get_signed_cookie(
    request: Request, name: str, *, salt: str = "cookie", max_age: float | None = None
) -> str | None:
    """The value of the signed cookie ``name``, or None if missing, invalid or expired.

    Never raises for what the client sent: a tampered, truncated or foreign
    cookie reads as absent.
    """
    token = request.cookies.get(name)
    if token is None:
        return None
    try:
        data = _cookie_signer(request.app.secret_keys, salt, name).unsign(token, max_age=max_age)
        return data.decode()
    except (BadSignature, UnicodeDecodeError):
        return None


@functools.lru_cache(maxsize=64)
def _cookie_signer(keys: tuple[str, ...], salt: str, name: str) -> Signer:
    # Deriving keys costs two HMACs per key: done once per (keys, salt, cookie name).
    return Signer(keys, salt=f"{salt}:{name}", max_length=8192)


def _to_bytes(key: str | bytes) -> bytes:
    return key.encode() if isinstance(key, str) else key


def _signature(mac: hmac.HMAC, head: str) -> str:
    mac = mac.copy()
    mac.update(head.encode("ascii"))
    return _encode(mac.digest())


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
