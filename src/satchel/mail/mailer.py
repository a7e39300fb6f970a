"""The app's mailer: a backend plus a default sender, configured from settings."""

from __future__ import annotations

import weakref
from typing import Any, Self

from satchel.errors import ConfigurationError
from satchel.mail.backends import ConsoleBackend, FileBackend, MailBackend, MemoryBackend
from satchel.mail.message import EmailMessage, check_address
from satchel.mail.smtp import SMTPBackend
from satchel.settings import Settings

__all__ = ["Mailer", "mailer_of", "registered_mailer"]

# Mailers given to apps by init_app, and those built from an app's settings on first
# use; weak, so a discarded app is not kept alive.
_mailers: weakref.WeakKeyDictionary[Any, Mailer] = weakref.WeakKeyDictionary()
_from_settings: weakref.WeakKeyDictionary[Any, Mailer] = weakref.WeakKeyDictionary()


class Mailer:
    """Sends messages through ``backend``, filling in ``default_from`` where none is set.

    Args:
        backend: Where mail goes.
        default_from: The sender of messages that name none.

    >>> import asyncio
    >>> from satchel.mail import MemoryBackend
    >>> mailer = Mailer(MemoryBackend(), default_from="shop@example.com")
    >>> asyncio.run(mailer.send(EmailMessage("Hi", "Hello!", "jane@example.com")))
    1
    >>> mailer.backend.outbox[0].from_email
    'shop@example.com'
    """

    def __init__(self, backend: MailBackend, default_from: str = "webmaster@localhost") -> None:
        self.backend = backend
        self.default_from = check_address(default_from, "default_from")

    def __repr__(self) -> str:
        return f"Mailer({self.backend!r}, default_from={self.default_from!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The Mailer ``settings.mail_*`` describe.

        >>> from satchel import Settings
        >>> Mailer.from_settings(Settings(mail_host="smtp.example.com", mail_use_tls=True))
        Mailer(SMTPBackend('smtp.example.com', 587, username=None, starttls), ...)
        """
        backend: MailBackend
        if settings.mail_backend == "console":
            backend = ConsoleBackend()
        elif settings.mail_backend == "file":
            backend = FileBackend(settings.mail_file_path)
        elif settings.mail_backend == "memory":
            backend = MemoryBackend()
        else:
            backend = SMTPBackend(
                settings.mail_host,
                settings.mail_port,
                settings.mail_username,
                settings.mail_password,
                use_tls=settings.mail_use_tls,
                use_ssl=settings.mail_use_ssl,
                timeout=settings.mail_timeout,
            )
        return cls(backend, settings.mail_default_from)

    def init_app(self, app: Any) -> None:
        """Make this the mailer :func:`mailer_of` returns for ``app``.

        Raises:
            ConfigurationError: ``app`` already has a Mailer.
        """
        if app in _mailers:
            raise ConfigurationError("this app already has a Mailer")
        _mailers[app] = self
        _from_settings.pop(app, None)

    async def send(self, *messages: EmailMessage) -> int:
        """Send ``messages`` (in one batch: one connection for SMTP); returns how many.

        Raises:
            MailError: Delivery failed.
        """
        if not messages:
            return 0
        filled = [
            message if message.from_email is not None else message.with_sender(self.default_from)
            for message in messages
        ]
        return await self.backend.send(filled)


def registered_mailer(app: Any) -> Mailer | None:
    """The Mailer given to ``app`` by ``init_app``, or None if none was.

    Unlike :func:`mailer_of`, never builds one from the settings: this tells what the
    app was given (the deployment checks read it).

    >>> from satchel import App
    >>> app = App()
    >>> registered_mailer(app) is None
    True
    >>> mailer = Mailer(MemoryBackend())
    >>> mailer.init_app(app)
    >>> registered_mailer(app) is mailer
    True
    """
    return _mailers.get(app)


def mailer_of(app: Any) -> Mailer:
    """The Mailer given to ``app`` by ``init_app``, else one built once from ``app.settings``."""
    mailer = _mailers.get(app) or _from_settings.get(app)
    if mailer is None:
        mailer = _from_settings[app] = Mailer.from_settings(app.settings)
    return mailer
