"""JSON Web Tokens (PyJWT, the ``jwt`` extra): ``JWTBackend``.

The algorithms are named explicitly and ``none`` is refused, when the backend is
created and when a token is read; every token must carry ``exp`` and ``sub`` (the
user's id), and ``iss`` / ``aud`` when configured. The user must exist and be
active. Scopes come from the ``scope`` claim (space-separated, RFC 8693) or a
``scopes`` list. A JWT cannot be revoked before it expires: keep lifetimes short,
or use opaque tokens (``satchel.auth.tokens``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from satchel.auth.backends import Connection, Credentials, InvalidCredentials, bearer_challenge
from satchel.auth.tokens import bearer_value, looks_like_jwt
from satchel.errors import ConfigurationError, MissingDependencyError

try:
    import jwt
except ImportError as exc:
    raise MissingDependencyError("pyjwt", "jwt") from exc

if TYPE_CHECKING:
    from satchel.auth.auth import Auth
    from satchel.db import DbSession

__all__ = ["MAX_LEEWAY", "JWTBackend"]

_MAX_TOKEN_LENGTH = 8192
#: The most clock skew ``leeway`` may allow, in seconds.
MAX_LEEWAY: Final = 300


def _check_key(algorithm: str, key: Any) -> None:
    """Refuse ``key`` for ``algorithm``: unknown, ``none``, the wrong kind, or too short.

    Checked for every accepted algorithm, so a verification key is never usable
    by another family: an RSA public key cannot be the secret of HS256 (algorithm
    confusion), an HMAC secret shorter than its hash (RFC 7518 3.2) is refused.
    """
    if algorithm.lower() == "none":
        raise ConfigurationError("The 'none' algorithm signs nothing: it is refused")
    if algorithm not in jwt.algorithms.get_default_algorithms():
        raise ConfigurationError(f"Unknown JWT algorithm {algorithm!r}")
    implementation = jwt.get_algorithm_by_name(algorithm)
    try:
        prepared = implementation.prepare_key(key)
    except (jwt.InvalidKeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"The key does not suit {algorithm}: {exc}") from None
    weakness = implementation.check_key_length(prepared)
    if weakness is not None:
        raise ConfigurationError(f"The key is too weak for {algorithm}: {weakness}")


class JWTBackend:
    """Authenticates ``Authorization: Bearer <JWT>``; ``encode`` issues such tokens.

    Args:
        key: The signing key: a shared secret (HS256), or a private key (RS256,
            ES256, EdDSA) with ``verify_key`` the public one.
        algorithms: The accepted algorithms (the first signs); required, and
            never ``"none"``.
        verify_key: The key that verifies (a public key); None: ``key``.
        issuer: Required ``iss`` claim value, set by ``encode``.
        audience: Required ``aud`` claim value, set by ``encode``.
        leeway: Seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat``
            (at most ``MAX_LEEWAY``, 300).
        realm: The ``realm`` of its ``WWW-Authenticate`` challenges.

    Raises:
        ConfigurationError: no algorithm, ``"none"``, one PyJWT does not know, a
            key not of every algorithm's kind (an RSA key with HS256), an HMAC
            secret shorter than its hash (32 bytes for HS256), or a leeway out of bounds.
    """

    name: str = "jwtAuth"
    ambient: bool = False

    def __init__(
        self,
        key: Any,
        *,
        algorithms: Sequence[str],
        verify_key: Any = None,
        issuer: str | None = None,
        audience: str | None = None,
        leeway: float = 0,
        realm: str = "api",
    ) -> None:
        if isinstance(algorithms, str):
            raise ConfigurationError("algorithms is a list: algorithms=['HS256']")
        if not algorithms:
            raise ConfigurationError("JWTBackend needs its algorithms named: algorithms=['HS256']")
        if not 0 <= leeway <= MAX_LEEWAY:  # also refuses NaN
            raise ConfigurationError(f"leeway is 0 to {MAX_LEEWAY} seconds, not {leeway!r}")
        verifying = key if verify_key is None else verify_key
        for algorithm in algorithms:
            _check_key(algorithm, verifying)
        _check_key(algorithms[0], key)
        self.algorithms = tuple(algorithms)
        self._key = key
        self._verify_key = key if verify_key is None else verify_key
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.realm = realm
        self.challenge: str | None = bearer_challenge(realm)
        self._invalid_challenge = bearer_challenge(realm, "invalid_token")

    def __repr__(self) -> str:
        return f"JWTBackend(algorithms={list(self.algorithms)!r}, issuer={self.issuer!r})"

    def encode(
        self,
        user: Any,
        expires_in: timedelta = timedelta(minutes=15),
        scopes: Iterable[str] | None = None,
        *,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token for ``user``, expiring in ``expires_in``, limited to ``scopes``.

        ``scopes`` None: no ``scope`` claim, the token is unscoped (all the user's
        rights); an iterable, even empty: ``scope`` lists them, and the token may
        do only that. ``claims`` adds more (they cannot replace ``sub``, ``exp``
        or ``iat``).

        Raises:
            ValueError: ``expires_in`` is not positive, or a scope is empty or has a space.
        """
        if expires_in <= timedelta(0):
            raise ValueError("expires_in must be positive")
        now = datetime.now(UTC)
        payload: dict[str, Any] = dict(claims or {})
        payload.update(sub=str(user.id), iat=now, exp=now + expires_in)
        if self.issuer is not None:
            payload["iss"] = self.issuer
        if self.audience is not None:
            payload["aud"] = self.audience
        if scopes is not None:
            scope_list = list(scopes)
            if any(not s or " " in s for s in scope_list):
                raise ValueError("Scopes are non-empty and contain no spaces")
            payload["scope"] = " ".join(scope_list)
        return jwt.encode(payload, self._key, algorithm=self.algorithms[0])

    def decode(self, token: str) -> dict[str, Any]:
        """The claims of a valid token.

        Raises:
            jwt.PyJWTError: the token is malformed, forged, expired, or misses a claim.
        """
        required = ["exp", "sub"]
        if self.issuer is not None:
            required.append("iss")
        if self.audience is not None:
            required.append("aud")
        claims: dict[str, Any] = jwt.decode(
            token,
            self._verify_key,
            algorithms=list(self.algorithms),
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            options={"require": required},
        )
        return claims

    def present(self, connection: Connection) -> bool:
        """A bearer credential shaped like a JWT (three dot-separated parts)."""
        value = bearer_value(connection)
        return value is not None and looks_like_jwt(value)

    async def authenticate(self, auth: Auth, connection: Connection, db: DbSession) -> Credentials:
        """The token's user.

        Raises:
            InvalidCredentials: the token does not verify, or its user is missing or inactive.
        """
        token = bearer_value(connection) or ""
        if len(token) > _MAX_TOKEN_LENGTH:
            raise InvalidCredentials(self._invalid_challenge)
        try:
            claims = self.decode(token)
        except jwt.PyJWTError:
            raise InvalidCredentials(self._invalid_challenge) from None
        try:
            scopes = _scopes(claims)
        except ValueError:
            raise InvalidCredentials(self._invalid_challenge) from None
        subject = claims["sub"]  # PyJWT checks that it is a string
        user = await auth.get_user(db, subject) if isinstance(subject, str) else None
        if user is None or not user.is_active:
            raise InvalidCredentials(self._invalid_challenge)
        return Credentials(user, "jwt", scopes)

    def openapi_scheme(self, app: Any) -> Mapping[str, Any]:
        """HTTP bearer authentication with a JWT."""
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def _scopes(claims: Mapping[str, Any]) -> frozenset[str] | None:
    """The token's scopes: ``scope`` (text) or ``scopes`` (a list); None: unscoped.

    An absent (or null) claim is unscoped; an empty one (``""``, ``[]``) carries
    no scope at all, as an opaque token created with ``scopes=[]`` does.

    Raises:
        ValueError: the claim is there but neither (a scope claim that cannot be
            read must not make the token unscoped, that is all-powerful).
    """
    scope = claims.get("scope")
    if scope is None:
        scope = claims.get("scopes")
    if scope is None:
        return None
    if isinstance(scope, str):
        return frozenset(scope.split())
    if isinstance(scope, list) and all(isinstance(item, str) for item in scope):
        return frozenset(scope)
    raise ValueError("scope is a space-separated string or a list of strings")
