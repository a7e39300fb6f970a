"""The words that mark a name as secret, for settings and for the debug page."""

from __future__ import annotations

import pytest

from satchel.secret_names import DEBUG_PAGE_SECRET_WORDS, SETTINGS_SECRET_WORDS, looks_secret


def test_debug_page_redacts_everything_settings_hide() -> None:
    assert set(SETTINGS_SECRET_WORDS) <= set(DEBUG_PAGE_SECRET_WORDS)


@pytest.mark.parametrize("name", ["SECRET_KEY", "db_password", "Api_Token"])
def test_secret_in_both(name: str) -> None:
    assert looks_secret(name, SETTINGS_SECRET_WORDS)
    assert looks_secret(name, DEBUG_PAGE_SECRET_WORDS)


@pytest.mark.parametrize("name", ["session_cookie_name", "cache_key_prefix", "auth_backend"])
def test_only_the_debug_page_hides_config_like_names(name: str) -> None:
    assert not looks_secret(name, SETTINGS_SECRET_WORDS)
    assert looks_secret(name, DEBUG_PAGE_SECRET_WORDS)


def test_str_subclass_cannot_dodge_lowering() -> None:
    class Sneaky(str):
        def lower(self) -> str:
            return "harmless"

    assert looks_secret(Sneaky("PASSWORD"), SETTINGS_SECRET_WORDS)
