"""JSON Web Tokens: explicit algorithms, no "none", exp required, iss/aud checked, scopes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import jwt
import pytest

from satchel.auth import (
    Auth,
    CurrentUser,
    JWTBackend,
    SessionBackend,
    login_required,
    scopes_required,
)
from satchel.db import Database
from satchel.errors import ConfigurationError
from satchel.testing import AsyncTestClient
from tests.auth.conftest import AuthApp, create_user, make_app, run

SECRET = "jwt-test-secret-" + "s" * 64


def backend(**options: Any) -> JWTBackend:
    return JWTBackend(SECRET, algorithms=["HS256"], issuer="satchel", audience="api", **options)


def jwt_app(database: Database, jwt_backend: JWTBackend) -> AuthApp:
    target = make_app(database, Auth(backends=[SessionBackend(), jwt_backend]))

    @target.app.get("/me")
    async def me(user: CurrentUser) -> str:
        return user.get_username()

    @target.app.get("/write", dependencies=[scopes_required("write")])
    async def write() -> str:
        return "written"

    return target


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("algorithms", [[], ["none"], ["NONE", "HS256"], ["HS999"], "HS256"])
def test_algorithms_are_explicit_and_never_none(algorithms: Any) -> None:
    with pytest.raises(ConfigurationError):
        JWTBackend(SECRET, algorithms=algorithms)


def test_valid_tokens_authenticate_with_their_scopes(database: Database) -> None:
    issuer = backend(leeway=5)
    target = jwt_app(database, issuer)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            token = issuer.encode(user, timedelta(minutes=5), scopes=["read"])
            assert (await client.get("/me", headers=bearer(token))).text == "ada"
            assert (await client.get("/write", headers=bearer(token))).status_code == 403
            writer = issuer.encode(user, scopes=["read", "write"])
            assert (await client.get("/write", headers=bearer(writer))).text == "written"
            listed = jwt.encode(
                {**issuer.decode(token), "scope": None, "scopes": ["write"]}, SECRET, "HS256"
            )
            assert (await client.get("/write", headers=bearer(listed))).text == "written"

    run(scenario())


def test_bad_tokens_are_401(database: Database) -> None:
    issuer = backend()
    target = jwt_app(database, issuer)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            inactive = await create_user(target, "gone", is_active=False)
            now = datetime.now(UTC)
            good = {"sub": str(user.id), "iss": "satchel", "aud": "api", "exp": now + timedelta(60)}
            bad = {
                "alg none": jwt.encode(good, None, algorithm="none"),
                "wrong alg": jwt.encode(good, SECRET, algorithm="HS512"),
                "wrong key": jwt.encode(good, "another-secret-" + "x" * 64, algorithm="HS256"),
                "expired": jwt.encode({**good, "exp": now - timedelta(seconds=5)}, SECRET),
                "no exp": jwt.encode({k: v for k, v in good.items() if k != "exp"}, SECRET),
                "wrong aud": jwt.encode({**good, "aud": "other"}, SECRET),
                "wrong iss": jwt.encode({**good, "iss": "other"}, SECRET),
                "no user": jwt.encode({**good, "sub": "999999"}, SECRET),
                "inactive": issuer.encode(inactive),
                "garbage": "a.b.c",
            }
            for name, token in bad.items():
                response = await client.get("/me", headers=bearer(token))
                assert response.status_code == 401, name
                assert 'error="invalid_token"' in response.headers["www-authenticate"], name
            assert (await client.get("/me", headers=bearer(jwt.encode(good, SECRET)))).text == (
                "ada"
            )

    run(scenario())


#: An RSA public key: public, so anyone could sign HS256 tokens with it as the secret.
PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh
kd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ
0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg
cKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc
mwIDAQAB
-----END PUBLIC KEY-----
"""


def forge_hs256(claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token signed with ``secret``, whatever it is (PyJWT refuses PEM secrets)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(signature)}"


@pytest.mark.parametrize(
    "options",
    [
        {"key": "short secret", "algorithms": ["HS256"]},  # below the hash size (RFC 7518)
        {"key": "s" * 32, "algorithms": ["HS512"]},
        {"key": SECRET, "algorithms": ["HS256"], "leeway": -1},
        {"key": SECRET, "algorithms": ["HS256"], "leeway": 301},
        {"key": SECRET, "algorithms": ["HS256"], "leeway": float("nan")},
        {"key": SECRET, "algorithms": ["RS256"]},  # a secret is no RSA key
    ],
)
def test_weak_or_mismatched_configuration_is_refused(options: dict[str, Any]) -> None:
    key = options.pop("key")
    with pytest.raises(ConfigurationError):
        JWTBackend(key, **options)


def test_algorithm_confusion_is_impossible(database: Database) -> None:
    """A public key never becomes an HMAC secret: PEM keys are refused for HS256."""
    for key in (PUBLIC_PEM, PUBLIC_PEM.decode()):
        with pytest.raises(ConfigurationError, match="HS256"):
            JWTBackend(key, algorithms=["HS256"])
        with pytest.raises(ConfigurationError, match="HS256"):
            JWTBackend(SECRET, algorithms=["HS256"], verify_key=key)
    issuer = backend()
    target = jwt_app(database, issuer)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            exp = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
            claims = {"sub": str(user.id), "exp": exp, "iss": "satchel", "aud": "api"}
            forged = forge_hs256(claims, PUBLIC_PEM)
            assert (await client.get("/me", headers=bearer(forged))).status_code == 401
            genuine = forge_hs256(claims, SECRET.encode())
            assert (await client.get("/me", headers=bearer(genuine))).text == "ada"

    run(scenario())


def test_subjects_and_claims_of_the_wrong_shape_are_401(database: Database) -> None:
    issuer = backend(leeway=5)
    target = jwt_app(database, issuer)

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            now = datetime.now(UTC)
            good = {"sub": str(user.id), "iss": "satchel", "aud": "api", "exp": now + timedelta(60)}
            odd = [
                {"sub": user.id},  # not a string
                {"sub": True},
                {"sub": [str(user.id)]},
                {"sub": " " + str(user.id)},
                {"sub": "\u0661"},  # a digit int() reads, but no id
                {"sub": str(2**31)},  # beyond PostgreSQL's integer
                {"sub": "9" * 30},
                {"sub": ""},
                {"nbf": now + timedelta(minutes=5)},  # not yet valid, beyond the leeway
                {"exp": now - timedelta(seconds=30)},  # expired beyond the leeway
                {"scope": 7},  # an unreadable scope must not mean "every scope"
                {"scope": ["write", 7]},
                {"scopes": {"write": True}},
            ]
            for changes in odd:
                token = jwt.encode({**good, **changes}, SECRET, algorithm="HS256")
                response = await client.get("/me", headers=bearer(token))
                assert response.status_code == 401, changes
            restricted = jwt.encode({**good, "scope": None, "scopes": ["read"]}, SECRET)
            assert (await client.get("/me", headers=bearer(restricted))).text == "ada"
            assert (await client.get("/write", headers=bearer(restricted))).status_code == 403
            skewed = jwt.encode({**good, "exp": now - timedelta(seconds=2)}, SECRET)
            assert (await client.get("/me", headers=bearer(skewed))).text == "ada"  # leeway

    run(scenario())


@pytest.mark.parametrize(
    "token",
    [
        "a.b.c",
        "..",
        "e30.e30.",
        "e30.e30.e30",
        base64.urlsafe_b64encode(b'{"alg":"HS256"}').decode() + ".bm90IGpzb24.c2ln",
        "eyJhbGciOiJIUzI1NiJ9." + "A" * 10_000 + ".c2ln",
        "\u00e9.\u00e9.\u00e9",
    ],
)
def test_garbage_tokens_are_401(database: Database, token: str) -> None:
    target = jwt_app(database, backend())

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            headers = {b"Authorization": f"Bearer {token}".encode("latin-1")}
            response = await client.get("/me", headers=headers)
            assert response.status_code == 401
            assert 'error="invalid_token"' in response.headers["www-authenticate"]

    run(scenario())


def test_encode_needs_a_positive_lifetime() -> None:
    class Someone:
        id = 1

    with pytest.raises(ValueError, match="positive"):
        backend().encode(Someone(), timedelta(0))


def test_absent_scopes_are_unscoped_and_empty_ones_allow_nothing(database: Database) -> None:
    # The same rule as opaque tokens: None is unscoped, an empty list no scope at all.
    issuer = backend()
    target = jwt_app(database, issuer)

    @target.app.get("/private", dependencies=[login_required])
    async def private() -> str:
        return "private"

    async def scenario() -> None:
        async with AsyncTestClient(target.app) as client:
            user = await create_user(target)
            unscoped = issuer.encode(user)
            scopeless = issuer.encode(user, scopes=[])
            assert "scope" not in issuer.decode(unscoped)
            assert issuer.decode(scopeless)["scope"] == ""
            listed = jwt.encode({**issuer.decode(unscoped), "scopes": []}, SECRET, "HS256")
            for path in ("/private", "/write"):
                assert (await client.get(path, headers=bearer(unscoped))).status_code == 200
                for token in (scopeless, listed):
                    assert (await client.get(path, headers=bearer(token))).status_code == 403

    run(scenario())
    with pytest.raises(ValueError, match="spaces"):
        issuer.encode(SimpleNamespace(id=1), scopes=["two words"])
