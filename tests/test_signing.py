"""Signer (HMAC-SHA256 tokens, salts, expiry, key rotation) and the signed-cookie helpers."""

from __future__ import annotations

import base64
import hmac
import re
from typing import Any, cast

import pytest

from satchel import App, ConfigurationError, Request, Response, Settings
from satchel.signing import (
    DEFAULT_MAX_TOKEN_LENGTH,
    BadSignature,
    SignatureExpired,
    Signer,
    get_signed_cookie,
    set_signed_cookie,
)
from satchel.testing import TestClient

KEY = "signing-test-key-" + "s" * 40
TOKEN = re.compile(r"[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}")


class Clock:
    def __init__(self, now: float = 1_700_000_000.5) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def signer(*keys: str, salt: str = "test", clock: Clock | None = None) -> Signer:
    return Signer(keys or (KEY,), salt=salt, clock=clock or Clock())


# -- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"hello", b"hello"),
        ("h\u00e9llo \u2603", "h\u00e9llo \u2603".encode()),
        (b"", b""),
        (bytes(range(256)), bytes(range(256))),
        ("a.b.c", b"a.b.c"),
    ],
)
def test_round_trip(value: bytes | str, expected: bytes) -> None:
    token = signer().sign(value)
    assert TOKEN.fullmatch(token)
    assert signer().unsign(token) == expected


def test_the_payload_is_readable_not_secret() -> None:
    payload = signer().sign("user=ada").split(".")[0]
    assert base64.urlsafe_b64decode(payload + "==") == b"user=ada"


def test_str_and_bytes_keys_are_the_same_key() -> None:
    token = Signer([KEY], salt="test").sign("x")
    assert Signer([KEY.encode()], salt="test").unsign(token) == b"x"


def test_repr_hides_the_keys() -> None:
    assert KEY not in repr(signer())
    assert repr(Signer(["a", "b"], salt="s")) == "<Signer with 2 key(s)>"


# -- what is refused -------------------------------------------------------------------


def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def _tampered(token: str) -> dict[str, str]:
    payload, timestamp, signature = token.split(".")
    return {
        "payload": f"{_flip(payload, 0)}.{timestamp}.{signature}",
        "timestamp": f"{payload}.{_flip(timestamp, 0)}.{signature}",
        "signature": f"{payload}.{timestamp}.{_flip(signature, 5)}",
        "payload swapped": f"{signer().sign('other').split('.')[0]}.{timestamp}.{signature}",
        "truncated": token[:-1],
        "cut in half": token[: len(token) // 2],
        "extended": token + "A",
        "extra dot": token + ".",
        "extra part": f"{payload}.{payload}.{timestamp}.{signature}",
        "two parts": f"{payload}.{signature}",
        "no dots": token.replace(".", ""),
        "padding": f"{payload}=.{timestamp}.{signature}",
        "standard base64": f"{payload}+/.{timestamp}.{signature}",
        "non-ascii": token[:3] + "\u00e9" + token[4:],
        "non-ascii lookalike": "\u0391" + token[1:],
        "nul": token[:3] + "\0" + token[4:],
        "whitespace": f" {token}",
        "empty": "",
        "dots only": "..",
    }


@pytest.mark.parametrize("case", list(_tampered(signer().sign("secret data"))))
def test_tampered_tokens_are_refused(case: str) -> None:
    token = _tampered(signer().sign("secret data"))[case]
    with pytest.raises(BadSignature) as info:
        signer().unsign(token)
    assert not isinstance(info.value, SignatureExpired)


def test_a_non_canonical_signature_encoding_is_refused() -> None:
    token = signer().sign("x")
    head, signature = token.rsplit(".", 1)
    # The last base64 character carries 2 padding bits: other characters decode alike.
    last = signature[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(last) ^ 1]
    forged = f"{head}.{signature[:-1]}{twin}"
    assert base64.urlsafe_b64decode(forged.rsplit(".", 1)[1] + "=") == base64.urlsafe_b64decode(
        signature + "="
    )
    with pytest.raises(BadSignature):
        signer().unsign(forged)


def test_non_strings_are_refused() -> None:
    token = signer().sign("x")
    with pytest.raises(BadSignature):
        signer().unsign(cast(str, token.encode()))
    with pytest.raises(BadSignature):
        signer().unsign(cast(str, None))


def test_huge_tokens_are_refused_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[Any] = []

    def spy(a: Any, b: Any) -> bool:
        compared.append(a)
        return False

    monkeypatch.setattr(hmac, "compare_digest", spy)
    huge = signer().sign("x") + "A" * DEFAULT_MAX_TOKEN_LENGTH
    with pytest.raises(BadSignature):
        signer().unsign(huge)
    assert compared == []


def test_max_length_is_configurable() -> None:
    small = Signer([KEY], salt="test", max_length=80)
    token = small.sign("x" * 10)
    assert small.unsign(token) == b"x" * 10
    with pytest.raises(ValueError, match="longer than 80"):
        small.sign("x" * 100)
    with pytest.raises(BadSignature):
        small.unsign(signer().sign("x" * 100))


def test_signatures_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    token = signer().sign("x")
    assert signer().unsign(token) == b"x"
    assert calls == [(token.rsplit(".", 1)[1], token.rsplit(".", 1)[1])]
    with pytest.raises(BadSignature):
        signer().unsign(_tampered(token)["signature"])
    assert len(calls) == 2


# -- purposes --------------------------------------------------------------------------


def test_a_token_for_one_salt_never_verifies_for_another() -> None:
    token = signer(salt="session").sign("ada")
    for other in ("session.id", "Session", "session ", "password-reset"):
        with pytest.raises(BadSignature):
            signer(salt=other).unsign(token)


def test_the_salt_derives_a_key_rather_than_signing_with_the_raw_key() -> None:
    token = signer(salt="test").sign("x")
    head, signature = token.rsplit(".", 1)
    raw = hmac.new(KEY.encode(), head.encode(), "sha256").digest()
    assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != signature


def _independent_signature(key: str, salt: str, head: str) -> str:
    derived = hmac.digest(key.encode(), b"satchel.signing." + salt.encode(), "sha256")
    digest = hmac.digest(derived, head.encode(), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_the_token_format() -> None:
    token = signer(clock=Clock(1_700_000_000.9)).sign("hi")
    assert token.startswith("aGk.ZVPxAA.")  # base64url("hi"), 1700000000 in 4 bytes
    head = token.rsplit(".", 1)[0]
    assert token == f"{head}.{_independent_signature(KEY, 'test', head)}"


def test_a_genuine_signature_over_an_undecodable_payload_is_refused() -> None:
    head = "A.ZVPxAA"  # one base64 character: not a whole byte
    token = f"{head}.{_independent_signature(KEY, 'test', head)}"
    with pytest.raises(BadSignature):
        signer().unsign(token)


def test_a_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(BadSignature):
        signer("other " * 8).unsign(signer().sign("x"))


# -- expiry ----------------------------------------------------------------------------


def test_expiry() -> None:
    clock = Clock(1000.0)
    token = signer(clock=clock).sign("x")
    clock.now = 1060.0
    assert signer(clock=clock).unsign(token, max_age=60) == b"x"
    assert signer(clock=clock).unsign(token) == b"x"  # no max_age: no expiry
    clock.now = 1061.0
    with pytest.raises(SignatureExpired, match="older than 60 seconds") as info:
        signer(clock=clock).unsign(token, max_age=60)
    assert info.value.signed_at == 1000
    assert isinstance(info.value, BadSignature)


def test_expiry_is_judged_only_for_a_valid_signature() -> None:
    clock = Clock(1000.0)
    token = signer(clock=clock).sign("x")
    clock.now = 5000.0
    with pytest.raises(BadSignature) as info:
        signer(clock=clock).unsign(_tampered(token)["signature"], max_age=60)
    assert not isinstance(info.value, SignatureExpired)


# -- key rotation ----------------------------------------------------------------------


def test_key_rotation() -> None:
    old_token = signer("old key " * 5).sign("x")
    rotated = signer("new key " * 5, "old key " * 5)
    assert rotated.unsign(old_token) == b"x"  # the old key is a fallback
    new_token = rotated.sign("y")  # signed with the newest key
    assert signer("new key " * 5).unsign(new_token) == b"y"
    with pytest.raises(BadSignature):
        signer("old key " * 5).unsign(new_token)
    with pytest.raises(BadSignature):
        signer("new key " * 5).unsign(old_token)  # the old key was removed


# -- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "salt", "message"),
    [
        ([], "s", "at least one key"),
        ([""], "s", "must not be empty"),
        ([KEY, b""], "s", "must not be empty"),
        ([KEY], "", "needs a salt"),
    ],
)
def test_configuration_errors(keys: list[str | bytes], salt: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Signer(keys, salt=salt)


@pytest.mark.parametrize("key", [KEY, KEY.encode()])
def test_a_single_key_instead_of_a_list_is_refused(key: str | bytes) -> None:
    with pytest.raises(TypeError, match="sequence of keys"):
        Signer(cast(Any, key), salt="s")


# -- signed cookies --------------------------------------------------------------------


def cookie_app(settings: Settings | None = None) -> App[Any]:
    app = App(settings=settings or Settings(secret_key=KEY))

    @app.get("/set")
    async def set_cookie(request: Request) -> Response:
        response = Response("set")
        set_signed_cookie(response, request, "__Host-prefs", "theme=dark; lang=\u00e9")
        set_signed_cookie(response, request, "other", "x", salt="purpose", max_age=60)
        return response

    @app.get("/get")
    async def get_cookie(request: Request) -> dict[str, str | None]:
        return {
            "prefs": get_signed_cookie(request, "__Host-prefs"),
            "other": get_signed_cookie(request, "other", salt="purpose"),
            "wrong salt": get_signed_cookie(request, "other"),
        }

    @app.get("/expired")
    async def expired(request: Request) -> dict[str, str | None]:
        return {"prefs": get_signed_cookie(request, "__Host-prefs", max_age=0)}

    return app


def test_signed_cookie_round_trip() -> None:
    with TestClient(cookie_app()) as client:
        response = client.get("/set")
        prefs, other = response.headers.get_list("set-cookie")
        assert prefs.endswith("; Path=/; Secure; HttpOnly; SameSite=Lax")
        assert "Max-Age=60" in other
        assert client.get("/get").json() == {
            "prefs": "theme=dark; lang=\u00e9",
            "other": "x",
            "wrong salt": None,
        }


def test_missing_signed_cookies_read_as_none() -> None:
    with TestClient(cookie_app()) as client:
        assert client.get("/get").json() == {"prefs": None, "other": None, "wrong salt": None}


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-1],
        lambda token: _flip(token, 2),
        lambda token: token + "." + token,
        lambda token: "x" * 10_000,
        lambda token: "",
    ],
    ids=["truncated", "flipped", "doubled", "huge", "empty"],
)
def test_hostile_signed_cookies_read_as_none(forge: Any) -> None:
    app = cookie_app()
    with TestClient(app) as client:
        client.get("/set")
        token = client.cookies["__Host-prefs"]
    with TestClient(app, cookies={"__Host-prefs": forge(token)}) as client:
        response = client.get("/get")
    assert response.status_code == 200
    assert response.json()["prefs"] is None


def test_a_signed_value_is_bound_to_its_cookie_name() -> None:
    app = cookie_app()
    with TestClient(app) as client:
        client.get("/set")
        other = client.cookies["other"]
    with TestClient(app, cookies={"__Host-prefs": other, "other": other}) as client:
        assert client.get("/get").json() == {"prefs": None, "other": "x", "wrong salt": None}


def test_expired_signed_cookies_read_as_none() -> None:
    with TestClient(cookie_app()) as client:
        client.get("/set")
        assert client.get("/expired").json() == {"prefs": None}


def test_signed_cookies_follow_key_rotation() -> None:
    with TestClient(cookie_app(Settings(secret_key="old " * 10))) as client:
        client.get("/set")
        token = client.cookies["__Host-prefs"]
    rotated = Settings(secret_key="new " * 10, secret_key_fallbacks=["old " * 10])
    with TestClient(cookie_app(rotated), cookies={"__Host-prefs": token}) as client:
        assert client.get("/get").json()["prefs"] == "theme=dark; lang=\u00e9"
    with TestClient(
        cookie_app(Settings(secret_key="new " * 10)), cookies={"__Host-prefs": token}
    ) as client:
        assert client.get("/get").json()["prefs"] is None
