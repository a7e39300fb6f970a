"""CookieStore: the session in a signed cookie, bounded in size."""

from __future__ import annotations

import base64
import json

from satchel import Settings
from satchel.sessions import CookieStore
from satchel.signing import Signer
from satchel.testing import TestClient
from tests.sessions.support import COOKIE, KEY, make_app, session_cookie

# The salt of session cookies: in Satchel's namespace, apart from any an app picks.
SALT = "satchel.sessions.cookie"


def test_the_data_is_signed_not_encrypted() -> None:
    harness = make_app()
    with TestClient(harness.app) as client:
        cookie = session_cookie(client.post("/set", json={"user": "ada"})) or ""
    payload = cookie.split(".")[0]
    session_id, data, created_at, last_seen = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert data == {"user": "ada"}
    assert created_at == last_seen == int(harness.clock.now)
    assert len(session_id) == 43  # 256 random bits


def test_cookies_signed_for_another_purpose_are_refused() -> None:
    # A value the app signed elsewhere (a signed cookie, its own Signer with an everyday
    # salt) is no session cookie, even when its payload is a well-formed session record.
    record = json.dumps(["x" * 43, {"user": "admin"}, 1_700_000_000, 1_700_000_000])
    harness = make_app()
    for salt in ("cookie", "session", "sessions", "session.id", "satchel"):
        forged = Signer([KEY], salt=salt).sign(record)
        with TestClient(harness.app, cookies={COOKIE: forged}) as client:
            assert client.get("/read").json() == {}, salt
    genuine = Signer([KEY], salt=SALT).sign(record)
    with TestClient(harness.app, cookies={COOKIE: genuine}) as client:
        assert client.get("/read").json() == {"user": "admin"}  # the salt is what differs


def test_a_well_signed_cookie_that_is_no_session_record_is_refused() -> None:
    harness = make_app()
    for payload in (b"not json", b'{"user": "admin"}', b'["id", {}, "later", 0]', b"\xff"):
        forged = Signer([KEY], salt=SALT).sign(payload)
        with TestClient(harness.app, cookies={COOKIE: forged}) as client:
            response = client.get("/read")
        assert response.status_code == 200
        assert response.json() == {}


def test_max_size() -> None:
    harness = make_app(CookieStore(max_size=512))
    with TestClient(harness.app) as client:
        cookie = session_cookie(client.post("/set", json={"a": "x" * 200})) or ""
        assert 400 < len(COOKIE) + 1 + len(cookie) <= 512
        assert client.post("/set", json={"b": "y" * 200}).status_code == 500


def test_an_oversized_cookie_from_the_client_is_ignored() -> None:
    harness = make_app(settings=Settings(secret_key=KEY))
    huge = Signer([KEY], salt=SALT).sign(
        json.dumps(["x" * 43, {"a": "y" * 5000}, 1_700_000_000, 1_700_000_000])
    )
    with TestClient(harness.app, cookies={COOKIE: huge}) as client:
        assert client.get("/read").json() == {}
