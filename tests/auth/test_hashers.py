"""Password hashing: argon2id by default, imported hashes, cost bounds, the dummy-hash path."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import threading

import argon2
import bcrypt
import pytest

from satchel.auth.hashers import (
    MAX_PASSWORD_LENGTH,
    UNUSABLE_PASSWORD_PREFIX,
    Argon2Hasher,
    BCryptHasher,
    PasswordCheck,
    PasswordHasher,
    Passwords,
    PasswordTooLong,
    PBKDF2Hasher,
    ScryptHasher,
    is_password_usable,
    make_unusable_password,
)

PASSWORD = "correct horse battery staple"
OK = PasswordCheck(ok=True, needs_update=False)
OK_STALE = PasswordCheck(ok=True, needs_update=True)
REFUSED = PasswordCheck(ok=False, needs_update=False)


def fast_argon2() -> Argon2Hasher:
    return Argon2Hasher(time_cost=1, memory_cost=64)


def fast_passwords() -> Passwords:
    """Every hasher, cheap parameters: for tests about formats rather than cost."""
    return Passwords(
        [
            fast_argon2(),
            PBKDF2Hasher(iterations=1_000),
            ScryptHasher(n=2**10),
            BCryptHasher(rounds=4),
        ]
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class CountingHasher:
    """A PBKDF2 hasher that counts the hashes it computed: shows when dummy work is done."""

    algorithm = "counting"

    def __init__(self) -> None:
        self.inner = PBKDF2Hasher(iterations=1_000)
        self.encoded = 0
        self.verified = 0

    def handles(self, encoded: str) -> bool:
        return self.inner.handles(encoded)

    def encode(self, password: str) -> str:
        self.encoded += 1
        return self.inner.encode(password)

    def verify(self, password: str, encoded: str) -> bool:
        result = self.inner.verify(password, encoded)  # raises before any work, if it does
        self.verified += 1
        return result

    def needs_update(self, encoded: str) -> bool:
        return self.inner.needs_update(encoded)


# --- the default: argon2id ----------------------------------------------------------


def test_default_hash_is_argon2id_with_owasp_parameters() -> None:
    passwords = Passwords()
    encoded = passwords.hash_sync(PASSWORD)
    params = argon2.extract_parameters(encoded)
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == (
        argon2.Type.ID,
        19_456,
        2,
        1,
    )
    assert passwords.verify_sync(PASSWORD, encoded) == OK
    assert passwords.verify_sync(PASSWORD + "!", encoded) == REFUSED


def test_salts_differ() -> None:
    passwords = Passwords([fast_argon2()])
    assert passwords.hash_sync(PASSWORD) != passwords.hash_sync(PASSWORD)


def test_every_hasher_is_a_password_hasher() -> None:
    for hasher in Passwords().hashers:
        assert isinstance(hasher, PasswordHasher)


def test_no_hashers_refused() -> None:
    with pytest.raises(ValueError, match="at least one hasher"):
        Passwords([])


def test_argon2_weaker_parameters_need_update() -> None:
    weak = Argon2Hasher(time_cost=1, memory_cost=8_192).encode(PASSWORD)
    assert Passwords().verify_sync(PASSWORD, weak) == OK_STALE


def test_argon2_other_lanes_or_stronger_parameters_do_not() -> None:
    preferred = Argon2Hasher(time_cost=1, memory_cost=64)
    stronger = argon2.PasswordHasher(time_cost=2, memory_cost=128, parallelism=2).hash(PASSWORD)
    assert Passwords([preferred]).verify_sync(PASSWORD, stronger) == OK


def test_argon2i_and_short_hashes_need_update() -> None:
    argon2i = argon2.PasswordHasher(time_cost=1, memory_cost=64, type=argon2.Type.I).hash(PASSWORD)
    short = argon2.PasswordHasher(time_cost=1, memory_cost=64, hash_len=16).hash(PASSWORD)
    passwords = Passwords([fast_argon2()])
    assert passwords.verify_sync(PASSWORD, argon2i) == OK_STALE
    assert passwords.verify_sync(PASSWORD, short) == OK_STALE


def test_argon2_django_form_verifies_and_is_rewritten() -> None:
    imported = "argon2" + argon2.PasswordHasher(time_cost=1, memory_cost=64).hash(PASSWORD)
    passwords = Passwords([fast_argon2()])
    assert passwords.verify_sync(PASSWORD, imported) == OK_STALE
    assert passwords.verify_sync("wrong", imported) == REFUSED


def test_argon2_costs_beyond_limits_refused_without_the_work() -> None:
    encoded = fast_argon2().encode(PASSWORD)
    huge_memory = encoded.replace("m=64", "m=4194304")  # 4 GiB: never attempted
    many_passes = encoded.replace("t=1", "t=1000")
    many_lanes = encoded.replace("p=1", "p=255")
    passwords = Passwords([fast_argon2()])
    for stored in (huge_memory, many_passes, many_lanes):
        assert passwords.verify_sync(PASSWORD, stored) == REFUSED


def test_argon2_limits_are_configurable() -> None:
    encoded = argon2.PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)
    strict = Passwords([Argon2Hasher(time_cost=1, memory_cost=64, max_memory_cost=512)])
    assert strict.verify_sync(PASSWORD, encoded) == REFUSED


# --- PBKDF2 ---------------------------------------------------------------------------


def test_pbkdf2_default_iterations_are_owasp() -> None:
    encoded = PBKDF2Hasher().encode(PASSWORD)
    algorithm, iterations, salt, hashed = encoded.split("$")
    assert (algorithm, iterations) == ("pbkdf2_sha256", "600000")
    assert len(base64.b64decode(hashed)) == 32
    assert len(salt) >= 22


def test_pbkdf2_django_sha256_imported() -> None:
    derived = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), b"seasalt", 1_000)
    imported = f"pbkdf2_sha256$1000$seasalt${b64(derived)}"
    assert Passwords([PBKDF2Hasher(iterations=1_000)]).verify_sync(PASSWORD, imported) == OK
    assert Passwords([PBKDF2Hasher(iterations=2_000)]).verify_sync(PASSWORD, imported) == OK_STALE
    assert fast_passwords().verify_sync(PASSWORD, imported) == OK_STALE  # argon2 preferred
    assert fast_passwords().verify_sync("wrong", imported) == REFUSED


def test_pbkdf2_django_sha1_imported_needs_update() -> None:
    derived = hashlib.pbkdf2_hmac("sha1", PASSWORD.encode(), b"seasalt", 1_000)
    imported = f"pbkdf2_sha1$1000$seasalt${b64(derived)}"
    assert Passwords([PBKDF2Hasher(iterations=1_000)]).verify_sync(PASSWORD, imported) == OK_STALE


def test_pbkdf2_werkzeug_imported() -> None:
    derived = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), b"Wz8salt", 1_000)
    imported = f"pbkdf2:sha256:1000$Wz8salt${derived.hex()}"
    passwords = Passwords([PBKDF2Hasher(iterations=1_000)])
    assert passwords.verify_sync(PASSWORD, imported) == OK_STALE  # rewritten in Django's form
    assert passwords.verify_sync("wrong", imported) == REFUSED


def test_pbkdf2_absurd_iterations_refused() -> None:
    derived = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), b"salt", 1)
    for iterations in (0, 2_000_001, 9_999_999_999):
        stored = f"pbkdf2_sha256${iterations}$salt${b64(derived)}"
        assert fast_passwords().verify_sync(PASSWORD, stored) == REFUSED


def test_pbkdf2_iterations_limit_configurable() -> None:
    derived = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), b"salt", 1_000)
    stored = f"pbkdf2_sha256$1000$salt${b64(derived)}"
    strict = Passwords([PBKDF2Hasher(iterations=100, max_iterations=999)])
    assert strict.verify_sync(PASSWORD, stored) == REFUSED


# --- scrypt ---------------------------------------------------------------------------


def test_scrypt_roundtrip_and_format() -> None:
    hasher = ScryptHasher(n=2**10)
    encoded = hasher.encode(PASSWORD)
    name, n, _salt, r, p, hashed = encoded.split("$")
    assert (name, n, r, p) == ("scrypt", "1024", "8", "1")
    assert len(base64.b64decode(hashed)) == 64
    assert Passwords([hasher]).verify_sync(PASSWORD, encoded) == OK
    assert Passwords([ScryptHasher(n=2**11)]).verify_sync(PASSWORD, encoded) == OK_STALE


def test_scrypt_defaults_are_owasp() -> None:
    hasher = ScryptHasher()
    assert (hasher.n, hasher.r, hasher.p) == (2**17, 8, 1)


def test_scrypt_django_imported() -> None:
    derived = hashlib.scrypt(PASSWORD.encode(), salt=b"djsalt", n=2**10, r=8, p=5, dklen=64)
    imported = f"scrypt$1024$djsalt$8$5${b64(derived)}"
    assert fast_passwords().verify_sync(PASSWORD, imported) == OK_STALE
    assert fast_passwords().verify_sync("wrong", imported) == REFUSED


def test_scrypt_werkzeug_imported() -> None:
    derived = hashlib.scrypt(PASSWORD.encode(), salt=b"wzsalt", n=2**10, r=8, p=1, dklen=64)
    imported = f"scrypt:1024:8:1$wzsalt${derived.hex()}"
    assert fast_passwords().verify_sync(PASSWORD, imported) == OK_STALE


def test_scrypt_costly_or_invalid_parameters_refused() -> None:
    derived = b64(b"\0" * 64)
    for n, r, p in ((2**24, 8, 1), (2**10, 8, 1000), (1000, 8, 1), (1, 8, 1), (2**10, 0, 1)):
        stored = f"scrypt${n}$salt${r}${p}${derived}"
        assert fast_passwords().verify_sync(PASSWORD, stored) == REFUSED


# --- bcrypt ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["2a", "2b", "2y"])
def test_bcrypt_raw_hashes_imported(variant: str) -> None:
    raw = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    imported = raw.replace("$2b$", f"${variant}$", 1)
    assert fast_passwords().verify_sync(PASSWORD, imported) == OK_STALE
    assert fast_passwords().verify_sync("wrong", imported) == REFUSED


def test_bcrypt_django_forms_imported() -> None:
    plain = "bcrypt$" + bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    prehashed = hashlib.sha256(PASSWORD.encode()).hexdigest().encode()
    sha256 = "bcrypt_sha256$" + bcrypt.hashpw(prehashed, bcrypt.gensalt(4)).decode()
    only_bcrypt = Passwords([BCryptHasher(rounds=4)])
    assert only_bcrypt.verify_sync(PASSWORD, plain) == OK
    assert only_bcrypt.verify_sync(PASSWORD, sha256) == OK_STALE
    assert only_bcrypt.verify_sync("wrong", sha256) == REFUSED


def test_bcrypt_encode_and_rounds_update() -> None:
    encoded = BCryptHasher(rounds=4).encode(PASSWORD)
    assert encoded.startswith("bcrypt$$2b$04$")
    assert Passwords([BCryptHasher(rounds=5)]).verify_sync(PASSWORD, encoded) == OK_STALE


def test_bcrypt_never_truncates() -> None:
    long_password = "x" * 72
    stored = bcrypt.hashpw(long_password.encode(), bcrypt.gensalt(4)).decode()
    # bcrypt itself would accept anything sharing the first 72 bytes.
    assert fast_passwords().verify_sync(long_password, stored).ok
    assert fast_passwords().verify_sync(long_password + "y", stored) == REFUSED
    multibyte = "é" * 37  # 74 bytes in UTF-8
    with pytest.raises(ValueError, match="72 bytes"):
        BCryptHasher(rounds=4).encode(multibyte)
    with pytest.raises(ValueError, match="NUL"):
        BCryptHasher(rounds=4).encode("nul\0inside")


def test_bcrypt_costly_rounds_refused() -> None:
    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    assert fast_passwords().verify_sync(PASSWORD, stored.replace("$04$", "$31$")) == REFUSED
    assert fast_passwords().verify_sync(PASSWORD, stored.replace("$04$", "$03$")) == REFUSED


# --- unusable, missing, malformed, too long: dummy work, ok=False -------------------------


def test_unusable_passwords() -> None:
    first, second = make_unusable_password(), make_unusable_password()
    assert first.startswith(UNUSABLE_PASSWORD_PREFIX)
    assert first != second
    assert not is_password_usable(first)
    assert not is_password_usable(None)
    assert is_password_usable(PBKDF2Hasher(iterations=1).encode(PASSWORD))


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "!",
        "!unusable",
        "",
        "plaintext",
        "md5$salt$0123456789abcdef0123456789abcdef",
        "pbkdf2_sha256$1000$salt$not base64!",
        "pbkdf2_sha256$1000$salt$" + b64(b"short"),
        "pbkdf2_md5$1000$salt$" + b64(b"\0" * 32),
        "pbkdf2:sha256:1000$salt$abc",
        "pbkdf2:sha256$salt$" + "00" * 32,
        "scrypt$1024$salt$8$1",
        "bcrypt$$2b$04$tooshort",
        "$2x$04$" + "a" * 53,
        "$argon2id$v=19$m=64,t=1,p=1$bad",
        "$argon2id$garbage",
        "argon2$nonsense",
    ],
)
def test_dummy_work_for_what_cannot_be_checked(stored: str | None) -> None:
    counting = CountingHasher()
    passwords = Passwords([counting, fast_argon2(), ScryptHasher(n=2**10), BCryptHasher(rounds=4)])
    assert passwords.verify_sync(PASSWORD, stored) == REFUSED
    assert counting.verified == 1  # the dummy hash, made once and verified


def test_dummy_hash_made_once() -> None:
    counting = CountingHasher()
    passwords = Passwords([counting])
    for _ in range(3):
        assert passwords.verify_sync(PASSWORD, None) == REFUSED
    assert (counting.encoded, counting.verified) == (1, 3)


def test_dummy_work_with_bcrypt_preferred_and_a_long_password() -> None:
    passwords = Passwords([BCryptHasher(rounds=4)])
    assert passwords.verify_sync("x" * 100, None) == REFUSED


def test_too_long_refused_before_hashing() -> None:
    counting = CountingHasher()
    passwords = Passwords([counting])
    with pytest.raises(PasswordTooLong, match="shorter"):
        passwords.hash_sync("x" * (MAX_PASSWORD_LENGTH + 1))
    with pytest.raises(PasswordTooLong):
        asyncio.run(passwords.hash("x" * (MAX_PASSWORD_LENGTH + 1)))
    assert counting.encoded == 0
    assert isinstance(PasswordTooLong(), ValueError)


def test_too_long_never_verifies_but_costs_the_same() -> None:
    counting = CountingHasher()
    passwords = Passwords([counting])
    longest = "x" * MAX_PASSWORD_LENGTH
    stored = passwords.hash_sync(longest)
    assert passwords.verify_sync(longest, stored) == OK
    verified = counting.verified
    assert passwords.verify_sync(longest + "x", stored) == REFUSED
    assert counting.verified == verified + 1  # the dummy, not the real hash


def test_mangled_hashes_never_raise() -> None:
    passwords = fast_passwords()
    valid = [hasher.encode(PASSWORD) for hasher in passwords.hashers]
    chooser = random.Random(7)
    alphabet = "$:,=+/.0123456789abcdefmtpv\0\n"
    for encoded in valid:
        for _ in range(25):
            chars = list(encoded)
            for _ in range(chooser.randint(1, 3)):
                position = chooser.randrange(len(chars))
                if chooser.random() < 0.5:
                    chars[position] = chooser.choice(alphabet)
                else:
                    del chars[position]
            check = passwords.verify_sync(PASSWORD, "".join(chars))
            assert isinstance(check, PasswordCheck)


# --- async: the work runs in worker threads -----------------------------------------------


class GatedHasher(CountingHasher):
    """Blocks in encode/verify until the event loop, still running, opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.opened: list[bool] = []

    def encode(self, password: str) -> str:
        self.opened.append(self.gate.wait(timeout=10))
        return super().encode(password)

    def verify(self, password: str, encoded: str) -> bool:
        self.opened.append(self.gate.wait(timeout=10))
        return super().verify(password, encoded)


def test_async_hash_and_verify_leave_the_loop_free() -> None:
    gated = GatedHasher()
    passwords = Passwords([gated])

    async def open_gate_after_ticks() -> int:
        ticks = 0
        for _ in range(3):
            await asyncio.sleep(0)
            ticks += 1
        gated.gate.set()
        return ticks

    async def main() -> None:
        encoded, ticks = await asyncio.gather(passwords.hash(PASSWORD), open_gate_after_ticks())
        assert ticks == 3
        gated.gate.clear()
        check, _ = await asyncio.gather(
            passwords.verify(PASSWORD, encoded), open_gate_after_ticks()
        )
        assert check == OK

    asyncio.run(main())
    assert gated.opened == [True, True]  # a blocked loop could not have opened the gate


def test_async_argon2_concurrently() -> None:
    passwords = Passwords()

    async def main() -> None:
        first, second = await asyncio.gather(passwords.hash("first"), passwords.hash("second"))
        checks = await asyncio.gather(
            passwords.verify("first", first),
            passwords.verify("second", second),
            passwords.verify("second", first),
            passwords.verify("first", None),
        )
        assert list(checks) == [OK, OK, REFUSED, REFUSED]

    asyncio.run(main())
