"""Host and Origin values: one reading for the Host allow-list, CORS and CSRF."""

from __future__ import annotations

import pytest

from satchel.origins import normalize_origin


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://example.com", "https://example.com"),
        ("HTTPS://Example.COM:443", "https://example.com"),
        (" https://example.com", None),
        ("http://example.com:80", "http://example.com"),
        ("http://localhost:5173", "http://localhost:5173"),
        ("https://example.com:80", "https://example.com:80"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("wss://chat.example.com:443", "wss://chat.example.com"),
        ("chrome-extension://abcdef", "chrome-extension://abcdef"),
        ("https://example.com/", None),
        ("https://example.com/path", None),
        ("https://user@example.com", None),
        ("https://*.example.com", None),
        ("https://", None),
        ("example.com", None),
        ("://example.com", None),
        ("1http://example.com", None),
        ("https://exa mple.com", None),
        ("https://example.com:8o", None),
        ("null", None),
        ("*", None),
    ],
)
def test_normalize_origin(value: str, origin: str | None) -> None:
    # One reading of origins for CORS and CSRF alike.
    assert normalize_origin(value) == origin
