"""Opaque API tokens and API keys: stored hashed, expiring, revocable, scoped.

A token reads ``<key_id>.<secret>``: the key id finds the row, and only the SHA-256
digest of the 32-byte secret is stored, compared in constant time. The full token
is shown once, when created. ``Authorization: Bearer <token>`` authenticates
through :class:`BearerTokenBackend` (tokens of kind ``"bearer"``), an ``X-API-Key``
header through :class:`APIKeyBackend` (kind ``"api_key"``).

The default model is ``satchel.auth.token.Token`` (``auth_token``, for the default
``User``); a project with its own user model declares
``class Token(TokenMixin, Model)`` with a ``user_id`` foreign key to its users and
passes ``Auth(token_model=Token)``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from satchel.auth.backends import Connection, Credentials, InvalidCredentials, bearer_challenge
from satchel.db.models import UTCDateTime, utc_now

if TYPE_CHECKING:
    from satchel.auth.auth import Auth
    from satchel.db import DbSession

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "APIKeyBackend",
    "BearerTokenBackend",
    "TokenKind",
    "TokenMixin",
    "Tokens",
]

#: How long a token lives when ``create`` is not told (``expires_in=None``: forever).
DEFAULT_TOKEN_LIFETIME: Final = timedelta(days=30)

TokenKind = Literal["bearer", "api_key"]

_KEY_ID_BYTES = 12
_SECRET_BYTES = 32
_MAX_TOKEN_LENGTH = 200
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,160}")
# An HTTP token (RFC 9110 5.6.2): what a header name is, and safe inside a quoted challenge.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Verified when no row has the key id, so unknown ids cost what wrong secrets do.
_DUMMY_DIGEST = hashlib.sha256(b"satchel.auth.tokens: no such token").hexdigest()


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT_TOKEN_LIFETIME"


_DEFAULT = _Default()


class TokenMixin:
    """The columns of a stored token; the concrete model adds ``user_id`` (a foreign key).

    Attributes:
        key_id: The public part of the token, used to find it.
        digest: SHA-256 (hex) of the secret part; the secret itself is never stored.
        name: What the owner calls it ("CI deploy").
        scopes: What it allows; None (NULL): everything its user may do; a list
            (even empty): those scopes only.
        kind: ``"bearer"`` (``Authorization``) or ``"api_key"`` (``X-API-Key``).
        expires_at: When it stops working (None: never).
        last_used_at: When it last authenticated (updated at most once a minute).
        revoked_at: When it was revoked (None: it is not).
    """

    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    digest: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(150), default="")
    # NULL, not JSON null, for "unscoped": none_as_null.
    scopes: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True), default=None)
    kind: Mapped[str] = mapped_column(sa.String(16), default="bearer")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=utc_now())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def is_valid(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired (at ``now``, default the current time)."""
        now = now or datetime.now(UTC)
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key_id!r} {self.kind} name={self.name!r}>"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(raw: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a token of our form, else None (no database look-up then)."""
    if len(raw) > _MAX_TOKEN_LENGTH:
        return None
    key_id, dot, secret = raw.partition(".")
    # Only what token_urlsafe writes reaches the query: no NUL (PostgreSQL refuses it
    # in text), no key id longer than the column.
    if not dot or not _KEY_ID.fullmatch(key_id) or not _SECRET.fullmatch(secret):
        return None
    return key_id, secret


class Tokens:
    """Creates, checks and revokes the tokens of an ``Auth`` (``auth.tokens``).

    Args:
        auth: The Auth whose ``token_model`` and users these are.
        touch_interval: ``last_used_at`` is written at most this often per token.
    """

    def __init__(self, auth: Auth, *, touch_interval: timedelta = timedelta(minutes=1)) -> None:
        self._auth = auth
        self.touch_interval = touch_interval

    async def create(
        self,
        db: DbSession,
        user: Any,
        *,
        name: str = "",
        scopes: Iterable[str] | None = None,
        expires_in: timedelta | _Default | None = _DEFAULT,
        kind: TokenKind = "bearer",
    ) -> tuple[str, Any]:
        """Store a new token for ``user``; returns ``(token, row)``. Show the token once.

        Args:
            db: The session to add it to (flushed, not committed).
            user: Its owner.
            name: A label for the owner's token list.
            scopes: What it allows; None: everything the user may do (unscoped);
                an iterable, even an empty one: those scopes only, so the token
                passes only guards that ``scopes_required`` opened to them.
            expires_in: Its lifetime: ``DEFAULT_TOKEN_LIFETIME`` (30 days) unless
                given; ``None`` for a token that never expires.
            kind: ``"bearer"`` or ``"api_key"``.
        """
        if kind not in ("bearer", "api_key"):
            raise ValueError(f"kind must be 'bearer' or 'api_key', not {kind!r}")
        lifetime = DEFAULT_TOKEN_LIFETIME if isinstance(expires_in, _Default) else expires_in
        if lifetime is not None and lifetime <= timedelta(0):
            raise ValueError("expires_in must be positive (None: the token never expires)")
        scope_list = None if scopes is None else list(dict.fromkeys(scopes))
        if scope_list is not None and any(not s or " " in s for s in scope_list):
            raise ValueError("Scopes are non-empty and contain no spaces")
        key_id = secrets.token_urlsafe(_KEY_ID_BYTES)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        token = self._auth.token_model(
            key_id=key_id,
            digest=_digest(secret),
            name=name,
            scopes=scope_list,
            kind=kind,
            expires_at=None if lifetime is None else datetime.now(UTC) + lifetime,
            user_id=user.id,
        )
        db.add(token)
        await db.flush()
        return f"{key_id}.{secret}", token

    async def verify(self, db: DbSession, raw: str, *, kind: TokenKind) -> Any:
        """The valid (stored, unexpired, unrevoked) token of ``kind`` that ``raw`` is, or None.

        Records the use in ``last_used_at`` (flushed with ``db``).
        """
        parts = _split(raw)
        model = self._auth.token_model
        token = None
        if parts is not None:
            token = await db.scalar(sa.select(model).where(model.key_id == parts[0]))
        stored = token.digest if token is not None else _DUMMY_DIGEST
        given = _digest(parts[1] if parts is not None else raw[:_MAX_TOKEN_LENGTH])
        matches = hmac.compare_digest(stored, given)
        if token is None or not matches or token.kind != kind:
            return None
        now = datetime.now(UTC)
        if not token.is_valid(now):
            return None
        if token.last_used_at is None or now - token.last_used_at >= self.touch_interval:
            token.last_used_at = now
        return token

    async def revoke(self, db: DbSession, token: Any) -> None:
        """Stop ``token`` working now (it stays listed, marked revoked)."""
        if token.revoked_at is None:
            token.revoked_at = datetime.now(UTC)
            await db.flush()

    async def revoke_all(self, db: DbSession, user: Any, *, kind: TokenKind | None = None) -> int:
        """Revoke every live token of ``user`` (of ``kind`` only, if given); returns how many."""
        model = self._auth.token_model
        statement = (
            sa.update(model)
            .where(model.user_id == user.id, model.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        if kind is not None:
            statement = statement.where(model.kind == kind)
        result = await db.execute(statement, execution_options={"synchronize_session": "fetch"})
        return int(getattr(result, "rowcount", 0))

    async def for_user(self, db: DbSession, user: Any) -> list[Any]:
        """Every token of ``user``, newest first (revoked and expired ones too)."""
        model = self._auth.token_model
        query = sa.select(model).where(model.user_id == user.id).order_by(model.id.desc())
        return list(await db.scalars(query))


async def _token_credentials(
    auth: Auth, db: DbSession, raw: str, kind: TokenKind, method: str, challenge: str | None
) -> Credentials:
    token = await auth.tokens.verify(db, raw, kind=kind)
    user = None if token is None else await auth.get_user(db, token.user_id)
    if user is None or not user.is_active:
        raise InvalidCredentials(challenge)
    scopes = None if token.scopes is None else frozenset(token.scopes)
    return Credentials(user, method, scopes, token)


def bearer_value(connection: Connection) -> str | None:
    """The credential of an ``Authorization: Bearer`` header, or None."""
    header = connection.headers.get_single("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def looks_like_jwt(value: str) -> bool:
    """Whether a bearer value has a JWT's three dot-separated parts."""
    return value.count(".") == 2


class BearerTokenBackend:
    """Authenticates ``Authorization: Bearer <token>`` with an opaque token of kind "bearer".

    Args:
        realm: The ``realm`` of its ``WWW-Authenticate`` challenges.
    """

    name: str = "bearerAuth"
    ambient: bool = False

    def __init__(self, *, realm: str = "api") -> None:
        self.realm = realm
        self.challenge: str | None = bearer_challenge(realm)
        self._invalid_challenge = bearer_challenge(realm, "invalid_token")

    def present(self, connection: Connection) -> bool:
        """A bearer credential that is not a JWT (those are a ``JWTBackend``'s)."""
        value = bearer_value(connection)
        return value is not None and not looks_like_jwt(value)

    async def authenticate(self, auth: Auth, connection: Connection, db: DbSession) -> Credentials:
        """The token's owner.

        Raises:
            InvalidCredentials: unknown, wrong, expired or revoked token, or inactive owner.
        """
        raw = bearer_value(connection) or ""
        return await _token_credentials(auth, db, raw, "bearer", "bearer", self._invalid_challenge)

    def openapi_scheme(self, app: Any) -> Mapping[str, Any]:
        """HTTP bearer authentication."""
        return {"type": "http", "scheme": "bearer"}

    def __repr__(self) -> str:
        return f"BearerTokenBackend(realm={self.realm!r})"


class APIKeyBackend:
    """Authenticates an API key header (``X-API-Key: <token>``), tokens of kind "api_key".

    Requests carrying the header skip CSRF checks, as ``Authorization`` ones do:
    a browser sends it only when a page's script set it.

    A 401 names the header in ``WWW-Authenticate: APIKey header="X-API-Key"``
    (RFC 7235 lets a challenge use any scheme name).

    Args:
        header: The header to read.
    """

    name: str = "apiKeyAuth"
    ambient: bool = False

    def __init__(self, *, header: str = "X-API-Key") -> None:
        if not _HEADER_NAME.fullmatch(header):
            raise ValueError(f"{header!r} is not a header name")
        self.header = header
        self.challenge: str | None = f'APIKey header="{header}"'

    def present(self, connection: Connection) -> bool:
        """Whether the header is there."""
        return connection.headers.get_single(self.header) is not None

    async def authenticate(self, auth: Auth, connection: Connection, db: DbSession) -> Credentials:
        """The key's owner.

        Raises:
            InvalidCredentials: unknown, wrong, expired or revoked key, or inactive owner.
        """
        raw = (connection.headers.get_single(self.header) or "").strip()
        return await _token_credentials(auth, db, raw, "api_key", "api_key", self.challenge)

    def openapi_scheme(self, app: Any) -> Mapping[str, Any]:
        """An API key in the header."""
        return {"type": "apiKey", "in": "header", "name": self.header}

    def __repr__(self) -> str:
        return f"APIKeyBackend(header={self.header!r})"
