"""Sending through an SMTP server (stdlib ``smtplib``, in a worker thread)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage as MIMEMessage

from satchel.errors import ConfigurationError
from satchel.mail.backends import MailError
from satchel.mail.message import EmailMessage
from satchel.threads import run_in_thread

__all__ = ["SMTPBackend"]

_Prepared = tuple[MIMEMessage, str, list[str]]


class SMTPBackend:
    """Sends through an SMTP server: one connection per :meth:`send` call, for the batch.

    Args:
        host: The server.
        port: Its port; None picks 465 with ``use_ssl``, 587 with ``use_tls``, else 25.
        username: Log in with this name (and ``password``) when set.
        password: The password for ``username``.
        use_tls: Upgrade the connection with STARTTLS (refused by the server: an error,
            never plain text).
        use_ssl: Speak TLS from the start (SMTPS). Not with ``use_tls``.
        timeout: Seconds to wait for the server on each operation.
        ssl_context: Certificates and protocols for TLS; the system's default
            (certificate and host name verified) when ``None``.

    Raises:
        ConfigurationError: ``use_tls`` and ``use_ssl`` both set.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        *,
        use_tls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if use_tls and use_ssl:
            raise ConfigurationError(
                "SMTPBackend: use_tls (STARTTLS) and use_ssl (implicit TLS) exclude each other"
            )
        self.host = host
        self.port = port if port is not None else 465 if use_ssl else 587 if use_tls else 25
        self.username = username or None
        self._password = password or ""
        self.use_tls = use_tls
        self.use_ssl = use_ssl
        self.timeout = timeout
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        mode = "ssl" if self.use_ssl else "starttls" if self.use_tls else "plain"
        return f"SMTPBackend({self.host!r}, {self.port}, username={self.username!r}, {mode})"

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        """Send ``messages`` over one connection; returns how many were sent.

        Raises:
            MailError: Connecting, TLS, login or a delivery failed (``sent`` says how
                many went out first).
            ValueError: A message cannot be built (no sender): nothing was sent.
        """
        if not messages:
            return 0
        prepared = [
            (message.as_mime(), message.sender(), message.recipients()) for message in messages
        ]
        return await run_in_thread(self._deliver, prepared)

    def _deliver(self, prepared: list[_Prepared]) -> int:
        sent = 0
        try:
            with self._connect() as smtp:
                if self.username is not None:
                    smtp.login(self.username, self._password)
                for mime, sender, recipients in prepared:
                    smtp.send_message(mime, sender, recipients)
                    sent += 1
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"could not send mail through {self.host}:{self.port} "
                f"({sent} of {len(prepared)} sent): {exc}",
                sent=sent,
            ) from exc
        return sent

    def _connect(self) -> smtplib.SMTP:
        context = self._ssl_context or ssl.create_default_context()
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.use_tls:
            try:
                smtp.starttls(context=context)
            except BaseException:
                smtp.close()
                raise
        return smtp
