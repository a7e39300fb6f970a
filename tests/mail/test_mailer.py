"""Mailer: default sender, settings, one per app."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

import pytest

from satchel import App, Settings
from satchel.errors import ConfigurationError
from satchel.mail import (
    ConsoleBackend,
    EmailMessage,
    FileBackend,
    Mailer,
    MemoryBackend,
    SMTPBackend,
    mailer_of,
    registered_mailer,
)
from satchel.settings import SettingsError


def test_fills_in_the_default_sender_only_when_missing() -> None:
    backend = MemoryBackend()
    mailer = Mailer(backend, default_from="Shop <shop@example.com>")
    anonymous = EmailMessage("Hi", "Body", "jane@example.com")
    signed = EmailMessage("Hi", "Body", "jane@example.com", from_email="boss@example.com")
    assert asyncio.run(mailer.send(anonymous, signed)) == 2
    assert [m.from_email for m in backend.outbox] == ["Shop <shop@example.com>", "boss@example.com"]
    assert anonymous.from_email is None  # the caller's message is left alone


def test_send_nothing() -> None:
    assert asyncio.run(Mailer(MemoryBackend()).send()) == 0


def test_default_from_is_checked() -> None:
    with pytest.raises(ValueError, match="default_from"):
        Mailer(MemoryBackend(), default_from="shop@example.com\r\nBcc: eve@evil.example")
    assert Mailer(MemoryBackend()).default_from == "webmaster@localhost"


def test_from_settings_smtp_by_default() -> None:
    settings = Settings(
        mail_host="smtp.example.com",
        mail_port=2525,
        mail_username="me",
        mail_password="pw",
        mail_use_ssl=True,
        mail_timeout=3.5,
        mail_default_from="shop@example.com",
    )
    mailer = Mailer.from_settings(settings)
    backend = mailer.backend
    assert isinstance(backend, SMTPBackend)
    assert (backend.host, backend.port, backend.username, backend.use_ssl, backend.timeout) == (
        "smtp.example.com",
        2525,
        "me",
        True,
        3.5,
    )
    assert not backend.use_tls
    assert mailer.default_from == "shop@example.com"
    assert Mailer.from_settings(Settings()).backend.port == 25  # type: ignore[attr-defined]


def test_from_settings_other_backends(tmp_path: Path) -> None:
    console = Mailer.from_settings(Settings(mail_backend="console"))
    memory = Mailer.from_settings(Settings(mail_backend="memory"))
    file = Mailer.from_settings(Settings(mail_backend="file", mail_file_path=str(tmp_path)))
    assert isinstance(console.backend, ConsoleBackend)
    assert isinstance(memory.backend, MemoryBackend)
    assert isinstance(file.backend, FileBackend)
    assert file.backend.directory == tmp_path


def test_settings_from_the_environment() -> None:
    environ = {
        "SATCHEL_MAIL_BACKEND": "smtp",
        "SATCHEL_MAIL_PORT": "587",
        "SATCHEL_MAIL_USE_TLS": "yes",
        "SATCHEL_MAIL_PASSWORD": "hunter2-mail",
    }
    settings = Settings.from_env(environ=environ, env_file=None)
    assert (settings.mail_port, settings.mail_use_tls) == (587, True)
    assert "hunter2-mail" not in repr(settings)


def test_settings_refuse_both_tls_modes_and_unknown_backends() -> None:
    both = {"SATCHEL_MAIL_USE_TLS": "1", "SATCHEL_MAIL_USE_SSL": "1"}
    with pytest.raises(SettingsError, match="SATCHEL_MAIL_USE_SSL: cannot be combined"):
        Settings.from_env(environ=both, env_file=None)
    with pytest.raises(SettingsError, match="SATCHEL_MAIL_BACKEND: expected one of"):
        Settings.from_env(environ={"SATCHEL_MAIL_BACKEND": "sendmail"}, env_file=None)


def test_mailer_of_uses_init_app() -> None:
    app = App(settings=Settings())
    mailer = Mailer(MemoryBackend())
    mailer.init_app(app)
    assert mailer_of(app) is mailer
    with pytest.raises(ConfigurationError, match="already has a Mailer"):
        Mailer(MemoryBackend()).init_app(app)


def test_mailer_of_falls_back_to_settings_once_per_app() -> None:
    app = App(settings=Settings(mail_backend="memory", mail_default_from="app@example.com"))
    other = App(settings=Settings(mail_backend="console"))
    fallback = mailer_of(app)
    assert isinstance(fallback.backend, MemoryBackend)
    assert fallback.default_from == "app@example.com"
    assert mailer_of(app) is fallback
    assert isinstance(mailer_of(other).backend, ConsoleBackend)
    configured = Mailer(MemoryBackend())
    configured.init_app(app)  # a later init_app wins over the fallback
    assert mailer_of(app) is configured


def test_apps_are_not_kept_alive() -> None:
    configured, fallback = App(settings=Settings()), App(settings=Settings(mail_backend="memory"))
    Mailer(MemoryBackend()).init_app(configured)
    mailer_of(fallback)
    references = [weakref.ref(configured), weakref.ref(fallback)]
    del configured, fallback
    gc.collect()
    assert [reference() for reference in references] == [None, None]


def test_a_bad_default_sender_fails_when_the_settings_are_made() -> None:
    # Once accepted here and refused by the first send without a sender: a 500.
    environ = {"SATCHEL_MAIL_BACKEND": "memory", "SATCHEL_MAIL_DEFAULT_FROM": "Shop <shop@x.com"}
    with pytest.raises(SettingsError, match="SATCHEL_MAIL_DEFAULT_FROM: expected one e-mail"):
        Settings.from_env(environ=environ, env_file=None)
    with pytest.raises(ValueError, match="mail_default_from"):
        Settings(mail_default_from="shop@example.com\u2028Bcc: eve@evil.example")


def test_registered_mailer_is_only_the_one_given_by_init_app() -> None:
    app = App(settings=Settings(mail_backend="memory"))
    assert registered_mailer(app) is None
    mailer_of(app)  # the settings fallback is not registered
    assert registered_mailer(app) is None
    given = Mailer(MemoryBackend())
    given.init_app(app)
    assert registered_mailer(app) is given
