"""Words that mark a name (a setting, a local variable, a header) as holding a secret.

Two lists, different on purpose. A secret setting has its value hidden from reprs *and*
from error messages, so a false positive hides a value the user needs to fix a
misconfiguration (``session_cookie_name``, ``cache_key_prefix``): the list is short and
documented in ``docs/settings.md``, and a field can opt in or out explicitly. The debug
page is the other way round: a false positive hides one value from a developer, a false
negative shows a credential on a page, so it redacts anything that might be one.
Nothing here imports from satchel: every layer may use it.
"""

from __future__ import annotations

__all__ = ["DEBUG_PAGE_SECRET_WORDS", "SETTINGS_SECRET_WORDS", "looks_secret"]

SETTINGS_SECRET_WORDS = ("secret", "password", "token")
"""A setting whose field name contains one of these is secret (``docs/settings.md``)."""

DEBUG_PAGE_SECRET_WORDS = (
    *SETTINGS_SECRET_WORDS,
    "passwd", "api_key", "apikey", "key", "auth", "cookie", "session", "csrf", "signature",
    "credential",
)  # fmt: skip
"""The debug page redacts locals, headers, cookies and query parameters named so."""


def looks_secret(name: str, words: tuple[str, ...]) -> bool:
    """Whether ``name``, lower-cased, contains one of ``words``.

    >>> looks_secret("DB_Password", SETTINGS_SECRET_WORDS)
    True
    >>> [looks_secret("session_id", w) for w in (SETTINGS_SECRET_WORDS, DEBUG_PAGE_SECRET_WORDS)]
    [False, True]
    """
    lowered = str.lower(name)  # unbound: a str subclass cannot override it
    return any(word in lowered for word in words)
