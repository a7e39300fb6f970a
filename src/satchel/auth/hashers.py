"""Password hashing: argon2id by default; PBKDF2, scrypt and bcrypt hashes still verify.

:class:`Passwords` hashes with its first hasher and verifies with any of them, so
hashes imported from another system (Django, Werkzeug/Flask, a raw bcrypt column)
keep working and are upgraded on the next login (``PasswordCheck.needs_update``).

Verification never raises for a bad stored value and always costs the same: an
unknown format, an unusable password, a missing hash, parameters too costly to
accept from an imported row, or a password over :data:`MAX_PASSWORD_LENGTH` all
verify a dummy hash of the preferred hasher and answer ``ok=False``.

>>> passwords = Passwords([PBKDF2Hasher(iterations=1_000)])
>>> encoded = passwords.hash_sync("correct horse battery staple")
>>> encoded.startswith("pbkdf2_sha256$1000$")
True
>>> passwords.verify_sync("correct horse battery staple", encoded)
PasswordCheck(ok=True, needs_update=False)
>>> passwords.verify_sync("wrong", encoded).ok
False
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from satchel.errors import MissingDependencyError
from satchel.threads import run_in_thread

try:
    import argon2
    import bcrypt
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
except ImportError as exc:  # pragma: no cover - the auth extra brings both
    raise MissingDependencyError(exc.name or "argon2-cffi", "auth") from exc

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "UNUSABLE_PASSWORD_PREFIX",
    "Argon2Hasher",
    "BCryptHasher",
    "PBKDF2Hasher",
    "PasswordCheck",
    "PasswordHasher",
    "PasswordTooLong",
    "Passwords",
    "ScryptHasher",
    "is_password_usable",
    "make_unusable_password",
]

#: Longest password accepted, in characters: hashing megabytes per request is a DoS.
MAX_PASSWORD_LENGTH = 4096

#: Stored passwords starting with this can never match (set-by-link-only accounts).
UNUSABLE_PASSWORD_PREFIX = "!"  # noqa: S105 - a marker, not a password

_MIB = 1024 * 1024
_DUMMY_PASSWORD = "dummy password, never stored"  # noqa: S105 - hashed for timing only


class PasswordTooLong(ValueError):
    """The password is longer than :data:`MAX_PASSWORD_LENGTH` characters."""

    def __init__(self) -> None:
        super().__init__(
            f"Passwords longer than {MAX_PASSWORD_LENGTH} characters are refused: "
            "choose a shorter one."
        )


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome of :meth:`Passwords.verify`.

    Attributes:
        ok: The password matches the stored hash.
        needs_update: It matches, and the hash should be replaced (re-hash the
            password now, while it is known): another hasher or weaker parameters.
    """

    ok: bool
    needs_update: bool = False


@runtime_checkable
class PasswordHasher(Protocol):
    """One hashing scheme. ``verify`` and ``needs_update`` may assume ``handles`` was true.

    ``verify`` must check the stored value's format and cost parameters *before* doing
    any work, raising ``ValueError`` when they are malformed or beyond its limits.
    """

    algorithm: str

    def handles(self, encoded: str) -> bool:
        """Whether ``encoded`` is in one of this hasher's formats."""
        ...

    def encode(self, password: str) -> str:
        """Hash ``password`` with a fresh salt."""
        ...

    def verify(self, password: str, encoded: str) -> bool:
        """Whether ``password`` matches; constant time in the comparison."""
        ...

    def needs_update(self, encoded: str) -> bool:
        """Whether ``encoded`` is weaker than what ``encode`` makes now."""
        ...


class Argon2Hasher:
    """argon2id (argon2-cffi) with OWASP's parameters: 19 MiB, 2 passes, 1 lane.

    Stores standard PHC strings (``$argon2id$v=19$m=19456,t=2,p=1$...``) and also
    verifies Django's ``argon2$argon2id$...`` form and argon2i/argon2d hashes.

    Args:
        time_cost: Passes over memory.
        memory_cost: Memory in KiB.
        parallelism: Lanes.
        max_memory_cost: Largest ``m`` accepted from a stored hash (KiB); costlier
            imported hashes fail to verify rather than exhaust the server.
        max_time_cost: Largest ``t`` accepted from a stored hash.
        max_parallelism: Largest ``p`` accepted from a stored hash.
    """

    algorithm = "argon2"

    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_cost: int = 19_456,
        parallelism: int = 1,
        max_memory_cost: int = 262_144,
        max_time_cost: int = 16,
        max_parallelism: int = 16,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )
        self._max = (max_time_cost, max_memory_cost, max_parallelism)

    def handles(self, encoded: str) -> bool:
        return encoded.startswith(("$argon2", "argon2$argon2"))

    def encode(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password: str, encoded: str) -> bool:
        stored = _phc(encoded)
        params = argon2.extract_parameters(stored)  # InvalidHashError is a ValueError
        max_time, max_memory, max_lanes = self._max
        if (
            params.time_cost > max_time
            or params.memory_cost > max_memory
            or params.parallelism > max_lanes
        ):
            raise ValueError("argon2 parameters beyond the configured limits")
        try:
            return self._hasher.verify(stored, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError) as exc:  # undecodable: no work done
            raise ValueError("malformed argon2 hash") from exc

    def needs_update(self, encoded: str) -> bool:
        if encoded.startswith("argon2$"):
            return True  # Django's form: store the standard one instead
        stored = argon2.extract_parameters(encoded)
        wanted = self._hasher
        return (
            stored.type is not argon2.Type.ID
            or stored.version < argon2.low_level.ARGON2_VERSION
            or stored.memory_cost < wanted.memory_cost
            or stored.time_cost < wanted.time_cost
            or stored.hash_len < wanted.hash_len
            or stored.salt_len < wanted.salt_len
        )


def _phc(encoded: str) -> str:
    return encoded.removeprefix("argon2") if encoded.startswith("argon2$") else encoded


_PBKDF2_DIGESTS = frozenset({"sha1", "sha256", "sha512"})
_DJANGO_PBKDF2 = re.compile(r"pbkdf2_(sha1|sha256)\$(\d{1,10})\$([^$]{1,128})\$([A-Za-z0-9+/=]+)")
_WERKZEUG_PBKDF2 = re.compile(r"pbkdf2:(sha1|sha256|sha512):(\d{1,10})\$([^$]{1,128})\$([0-9a-f]+)")


class PBKDF2Hasher:
    """PBKDF2-HMAC, Django's format ``pbkdf2_sha256$<iterations>$<salt>$<base64>``.

    Also verifies Django's ``pbkdf2_sha1$...`` and Werkzeug's (Flask's)
    ``pbkdf2:sha256:<iterations>$<salt>$<hex>`` hashes.

    Args:
        iterations: Iterations for new hashes (OWASP: 600,000 for SHA-256).
        max_iterations: Most iterations accepted from a stored hash.
    """

    algorithm = "pbkdf2_sha256"

    def __init__(self, *, iterations: int = 600_000, max_iterations: int = 2_000_000) -> None:
        self.iterations = iterations
        self.max_iterations = max_iterations

    def handles(self, encoded: str) -> bool:
        return encoded.startswith(("pbkdf2_", "pbkdf2:"))

    def encode(self, password: str) -> str:
        salt = secrets.token_urlsafe(16)
        derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), self.iterations)
        return f"pbkdf2_sha256${self.iterations}${salt}${base64.b64encode(derived).decode()}"

    def verify(self, password: str, encoded: str) -> bool:
        digest, iterations, salt, expected = self._parse(encoded)
        if not 1 <= iterations <= self.max_iterations:
            raise ValueError("PBKDF2 iterations beyond the configured limits")
        derived = hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations, len(expected))
        return hmac.compare_digest(derived, expected)

    def needs_update(self, encoded: str) -> bool:
        _, iterations, _, _ = self._parse(encoded)
        return not encoded.startswith("pbkdf2_sha256$") or iterations < self.iterations

    @staticmethod
    def _parse(encoded: str) -> tuple[str, int, bytes, bytes]:
        if match := _DJANGO_PBKDF2.fullmatch(encoded):
            expected = _b64decode(match[4])
        elif match := _WERKZEUG_PBKDF2.fullmatch(encoded):
            expected = bytes.fromhex(match[4])  # ValueError for an odd length
        else:
            raise ValueError("malformed PBKDF2 hash")
        if not 16 <= len(expected) <= 128 or match[1] not in _PBKDF2_DIGESTS:
            raise ValueError("malformed PBKDF2 hash")
        return match[1], int(match[2]), match[3].encode(), expected


_DJANGO_SCRYPT = re.compile(
    r"scrypt\$(\d{1,10})\$([^$]{1,128})\$(\d{1,4})\$(\d{1,4})\$([A-Za-z0-9+/=]+)"
)
_WERKZEUG_SCRYPT = re.compile(r"scrypt:(\d{1,10}):(\d{1,4}):(\d{1,4})\$([^$]{1,128})\$([0-9a-f]+)")


class ScryptHasher:
    """scrypt (hashlib), Django's format ``scrypt$<n>$<salt>$<r>$<p>$<base64>``.

    Also verifies Werkzeug's ``scrypt:<n>:<r>:<p>$<salt>$<hex>`` hashes.

    Args:
        n: CPU/memory cost for new hashes (OWASP: 2**17, with r=8, p=1).
        r: Block size.
        p: Parallelism.
        max_memory: Most memory, in bytes, a stored hash may need (``128 * n * r``).
        max_parallelism: Largest ``p`` accepted from a stored hash.
    """

    algorithm = "scrypt"

    def __init__(
        self,
        *,
        n: int = 2**17,
        r: int = 8,
        p: int = 1,
        max_memory: int = 256 * _MIB,
        max_parallelism: int = 16,
    ) -> None:
        self.n, self.r, self.p = n, r, p
        self.max_memory = max_memory
        self.max_parallelism = max_parallelism

    def handles(self, encoded: str) -> bool:
        return encoded.startswith(("scrypt$", "scrypt:"))

    def encode(self, password: str) -> str:
        salt = secrets.token_urlsafe(16)
        derived = _scrypt(password, salt.encode(), self.n, self.r, self.p, 64)
        hashed = base64.b64encode(derived).decode()
        return f"scrypt${self.n}${salt}${self.r}${self.p}${hashed}"

    def verify(self, password: str, encoded: str) -> bool:
        n, r, p, salt, expected = self._parse(encoded)
        if n < 2 or n & (n - 1) or r < 1 or not 1 <= p <= self.max_parallelism:
            raise ValueError("scrypt parameters out of range")
        if 128 * n * r > self.max_memory:
            raise ValueError("scrypt parameters beyond the configured limits")
        return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(expected)), expected)

    def needs_update(self, encoded: str) -> bool:
        n, r, p, _, _ = self._parse(encoded)
        return not encoded.startswith("scrypt$") or n < self.n or r < self.r or p < self.p

    @staticmethod
    def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes]:
        if match := _DJANGO_SCRYPT.fullmatch(encoded):
            n, salt, r, p = match[1], match[2], match[3], match[4]
            expected = _b64decode(match[5])
        elif match := _WERKZEUG_SCRYPT.fullmatch(encoded):
            n, r, p, salt = match[1], match[2], match[3], match[4]
            expected = bytes.fromhex(match[5])
        else:
            raise ValueError("malformed scrypt hash")
        if not 16 <= len(expected) <= 128:
            raise ValueError("malformed scrypt hash")
        return int(n), int(r), int(p), salt.encode(), expected


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # hashlib refuses work needing more than maxmem (32 MiB by default): allow what
    # the parameters need, which the callers have bounded.
    maxmem = 128 * r * (n + p + 2) + _MIB
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)


_BCRYPT = re.compile(r"(bcrypt\$|bcrypt_sha256\$)?(\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53})")
_BCRYPT_LIMIT = 72  # bytes: bcrypt ignores the rest, so longer passwords are refused


class BCryptHasher:
    """bcrypt, stored as Django does: ``bcrypt$$2b$12$...``.

    Also verifies raw ``$2a$``/``$2b$``/``$2y$`` hashes and Django's
    ``bcrypt_sha256$...``. bcrypt reads only 72 bytes: a longer password (or one
    with a NUL) is refused by ``encode`` and never matches, rather than being
    silently truncated.

    Args:
        rounds: log2 of the work factor for new hashes.
        max_rounds: Largest work factor accepted from a stored hash.
    """

    algorithm = "bcrypt"

    def __init__(self, *, rounds: int = 12, max_rounds: int = 15) -> None:
        self.rounds = rounds
        self.max_rounds = max_rounds

    def handles(self, encoded: str) -> bool:
        return encoded.startswith(("bcrypt$", "bcrypt_sha256$", "$2a$", "$2b$", "$2y$"))

    def encode(self, password: str) -> str:
        secret = password.encode()
        if len(secret) > _BCRYPT_LIMIT or b"\0" in secret:
            raise ValueError("bcrypt cannot hash passwords over 72 bytes or with NUL characters")
        return "bcrypt$" + bcrypt.hashpw(secret, bcrypt.gensalt(self.rounds)).decode()

    def verify(self, password: str, encoded: str) -> bool:
        prefix, stored, rounds = self._parse(encoded)
        if not 4 <= rounds <= self.max_rounds:
            raise ValueError("bcrypt rounds beyond the configured limits")
        secret = password.encode()
        if prefix == "bcrypt_sha256$":
            secret = hashlib.sha256(secret).hexdigest().encode()
        if len(secret) > _BCRYPT_LIMIT or b"\0" in secret:
            raise ValueError("bcrypt cannot check this password without truncating it")
        return bcrypt.checkpw(secret, stored.encode())

    def needs_update(self, encoded: str) -> bool:
        prefix, _, rounds = self._parse(encoded)
        return prefix != "bcrypt$" or rounds < self.rounds

    @staticmethod
    def _parse(encoded: str) -> tuple[str, str, int]:
        match = _BCRYPT.fullmatch(encoded)
        if match is None:
            raise ValueError("malformed bcrypt hash")
        return match[1] or "", match[2], int(match[3])


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("malformed base64") from exc


def make_unusable_password() -> str:
    """A stored value no password matches, random so that no two accounts share it."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def is_password_usable(encoded: str | None) -> bool:
    """Whether ``encoded`` could match some password (not None, not unusable)."""
    return encoded is not None and not encoded.startswith(UNUSABLE_PASSWORD_PREFIX)


class Passwords:
    """Hash with the first hasher; verify with whichever handles the stored value.

    Args:
        hashers: The hashers, preferred first. Default: argon2id, then PBKDF2,
            scrypt and bcrypt for hashes imported from other systems.
    """

    def __init__(self, hashers: Sequence[PasswordHasher] | None = None) -> None:
        if hashers is None:
            hashers = (Argon2Hasher(), PBKDF2Hasher(), ScryptHasher(), BCryptHasher())
        if not hashers:
            raise ValueError("Passwords needs at least one hasher")
        self.hashers: tuple[PasswordHasher, ...] = tuple(hashers)
        self._dummy: str | None = None

    @property
    def preferred(self) -> PasswordHasher:
        """The hasher new hashes are made with."""
        return self.hashers[0]

    def hash_sync(self, password: str) -> str:
        """Hash ``password`` with the preferred hasher (blocks: use :meth:`hash` in async code).

        Raises:
            PasswordTooLong: Over :data:`MAX_PASSWORD_LENGTH` characters (checked first).
        """
        if len(password) > MAX_PASSWORD_LENGTH:
            raise PasswordTooLong
        return self.preferred.encode(password)

    async def hash(self, password: str) -> str:
        """:meth:`hash_sync` in a worker thread, so the event loop keeps serving."""
        if len(password) > MAX_PASSWORD_LENGTH:
            raise PasswordTooLong
        return await run_in_thread(self.preferred.encode, password)

    def verify_sync(self, password: str, encoded: str | None) -> PasswordCheck:
        """Check ``password`` against the stored ``encoded`` value; never raises for it.

        Blocks: use :meth:`verify` in async code.
        """
        hasher = self._hasher_for(encoded) if len(password) <= MAX_PASSWORD_LENGTH else None
        if hasher is not None and encoded is not None:
            try:
                ok = hasher.verify(password, encoded)
            except ValueError:
                pass  # malformed or too costly, found before any work: do the dummy's
            else:
                if not ok:
                    return PasswordCheck(ok=False)
                stale = hasher is not self.preferred or hasher.needs_update(encoded)
                return PasswordCheck(ok=True, needs_update=stale)
        self._verify_dummy()
        return PasswordCheck(ok=False)

    async def verify(self, password: str, encoded: str | None) -> PasswordCheck:
        """:meth:`verify_sync` in a worker thread, so the event loop keeps serving."""
        return await run_in_thread(self.verify_sync, password, encoded)

    def _hasher_for(self, encoded: str | None) -> PasswordHasher | None:
        if encoded is None or not is_password_usable(encoded):
            return None
        return next((hasher for hasher in self.hashers if hasher.handles(encoded)), None)

    def _verify_dummy(self) -> None:
        """Spend what a real verification costs, so a missing account cannot be timed.

        The cost does not depend on the password, so a fixed one is checked: that
        works for every hasher (bcrypt refuses long ones) and hashes no huge input.
        """
        if self._dummy is None:
            # Made once; two threads racing here each make one, which is harmless.
            self._dummy = self.preferred.encode(_DUMMY_PASSWORD)
        self.preferred.verify(_DUMMY_PASSWORD[::-1], self._dummy)
