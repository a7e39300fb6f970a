"""E-mail: messages built with the stdlib, sent through SMTP, or kept for development and tests.

Standard library only: this package needs no extra. ``import satchel`` does not load it.

>>> import asyncio
>>> from satchel.mail import EmailMessage, Mailer, MemoryBackend
>>> mailer = Mailer(MemoryBackend(), default_from="Shop <shop@example.com>")
>>> message = EmailMessage("Your order", "It ships today.", "jane@example.com")
>>> asyncio.run(mailer.send(message))
1
>>> mailer.backend.outbox[0].subject
'Your order'
"""

from satchel.mail.backends import ConsoleBackend, FileBackend, MailBackend, MailError, MemoryBackend
from satchel.mail.mailer import Mailer, mailer_of, registered_mailer
from satchel.mail.message import EmailMessage, check_address
from satchel.mail.smtp import SMTPBackend

__all__ = [
    "ConsoleBackend",
    "EmailMessage",
    "FileBackend",
    "MailBackend",
    "MailError",
    "Mailer",
    "MemoryBackend",
    "SMTPBackend",
    "check_address",
    "mailer_of",
    "registered_mailer",
]
