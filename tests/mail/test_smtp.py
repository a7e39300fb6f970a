"""SMTPBackend against a real SMTP server (aiosmtpd) in this process: plain, AUTH, TLS."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from satchel.errors import ConfigurationError
from satchel.mail import EmailMessage, MailError, SMTPBackend
from tests.mail.smtpserver import (
    PASSWORD,
    USERNAME,
    Recorder,
    TLSFiles,
    free_port,
    smtp_server,
)

SENDER = "Shop <shop@example.com>"


def message(
    to: str = "jane@example.com",
    *,
    html: str | None = None,
    cc: str | tuple[str, ...] = (),
    bcc: str | tuple[str, ...] = (),
) -> EmailMessage:
    return EmailMessage(
        "Your order", "It ships today.", to, from_email=SENDER, html=html, cc=cc, bcc=bcc
    )


def send(backend: SMTPBackend, *messages: EmailMessage) -> int:
    return asyncio.run(backend.send(messages))


def test_sends_a_batch_over_one_connection() -> None:
    with smtp_server() as (server, port):
        backend = SMTPBackend("127.0.0.1", port)
        sent = send(
            backend,
            message("jane@example.com", html="<p>It ships <b>today</b>.</p>"),
            message("Bob <bob@example.com>", cc="carol@example.com", bcc="audit@example.com"),
        )
    assert sent == 2
    first, second = server.received
    assert first.peer == second.peer  # the same client socket
    assert first.mail_from == "shop@example.com"
    assert first.rcpt_tos == ["jane@example.com"]
    assert second.rcpt_tos == ["bob@example.com", "carol@example.com", "audit@example.com"]
    assert "Bcc" not in second.message
    assert second.message["To"] == "Bob <bob@example.com>"
    assert first.message.get_content_type() == "multipart/alternative"
    html = first.message.get_body(("html",))
    assert html is not None
    assert "<b>today</b>" in html.get_content()
    assert not first.authenticated


def test_each_send_call_connects_again() -> None:
    with smtp_server() as (server, port):
        backend = SMTPBackend("127.0.0.1", port)
        send(backend, message())
        send(backend, message())
    assert server.received[0].peer != server.received[1].peer


def test_unicode_subject_and_body_arrive_intact() -> None:
    with smtp_server() as (server, port):
        text = "Ihre Bestellung: Größe 42, 5 € — danke!\n" + "lang " * 300 + "\n"
        send(
            SMTPBackend("127.0.0.1", port),
            EmailMessage("Grüße 🎉", text, "jane@example.com", from_email=SENDER),
        )
    received = server.received[0].message
    assert received["Subject"] == "Grüße 🎉"
    body = received.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == text  # CRLF on the wire


def test_login() -> None:
    with smtp_server() as (server, port):
        send(SMTPBackend("127.0.0.1", port, USERNAME, PASSWORD), message())
    assert server.received[0].authenticated


def test_wrong_password_is_a_mail_error() -> None:
    with smtp_server() as (server, port):
        backend = SMTPBackend("127.0.0.1", port, USERNAME, "wrong")
        with pytest.raises(MailError, match=rf"127\.0\.0\.1:{port} \(0 of 1 sent\).*535") as info:
            send(backend, message())
    assert info.value.sent == 0
    assert server.received == []


class RefusingSecond(Recorder):
    """Accepts the first message of a connection, refuses the next ones."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.received:
            return "550 5.7.1 Refused by policy"
        return await super().handle_DATA(server, session, envelope)


def test_refused_message_reports_what_was_sent() -> None:
    with smtp_server(RefusingSecond()) as (server, port):
        backend = SMTPBackend("127.0.0.1", port)
        with pytest.raises(MailError, match=r"\(1 of 2 sent\).*Refused by policy") as info:
            send(backend, message(), message())
    assert info.value.sent == 1
    assert len(server.received) == 1


def test_connection_refused_is_a_mail_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(MailError, match=rf"could not send mail through 127\.0\.0\.1:{port}"):
        send(SMTPBackend("127.0.0.1", port, timeout=5), message())


def test_message_without_sender_refused_before_connecting() -> None:
    backend = SMTPBackend("127.0.0.1", free_port())
    with pytest.raises(ValueError, match="no sender"):
        send(backend, EmailMessage("Hi", "Body", "jane@example.com"))


def test_empty_batch_sends_nothing() -> None:
    assert send(SMTPBackend("127.0.0.1", free_port())) == 0


def test_starttls(tls_files: TLSFiles) -> None:
    options: dict[str, Any] = {"tls_context": tls_files.server_context(), "require_starttls": True}
    with smtp_server(**options) as (server, port):
        backend = SMTPBackend(
            "127.0.0.1",
            port,
            USERNAME,
            PASSWORD,
            use_tls=True,
            ssl_context=tls_files.client_context(),
        )
        send(backend, message())
    assert server.received[0].authenticated


def test_starttls_required_by_server_but_not_used(tls_files: TLSFiles) -> None:
    options: dict[str, Any] = {"tls_context": tls_files.server_context(), "require_starttls": True}
    with smtp_server(**options) as (server, port), pytest.raises(MailError, match="STARTTLS"):
        send(SMTPBackend("127.0.0.1", port), message())
    assert server.received == []


def test_auth_required_over_tls(tls_files: TLSFiles) -> None:
    options: dict[str, Any] = {
        "tls_context": tls_files.server_context(),
        "require_starttls": True,
        "auth_required": True,
        "auth_require_tls": True,
    }
    client = tls_files.client_context()
    with smtp_server(**options) as (server, port):
        with pytest.raises(MailError, match="530"):
            send(SMTPBackend("127.0.0.1", port, use_tls=True, ssl_context=client), message())
        send(
            SMTPBackend("127.0.0.1", port, USERNAME, PASSWORD, use_tls=True, ssl_context=client),
            message(),
        )
    assert len(server.received) == 1


def test_certificates_are_verified_by_default(tls_files: TLSFiles) -> None:
    refused = pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED")
    with smtp_server(tls_context=tls_files.server_context()) as (server, port), refused:
        send(SMTPBackend("127.0.0.1", port, use_tls=True), message())
    assert server.received == []


def test_starttls_unsupported_never_falls_back_to_plain_text() -> None:
    with smtp_server() as (server, port), pytest.raises(MailError, match="STARTTLS"):
        send(SMTPBackend("127.0.0.1", port, use_tls=True), message())
    assert server.received == []


def test_implicit_tls(tls_files: TLSFiles) -> None:
    with smtp_server(ssl_context=tls_files.server_context()) as (server, port):
        backend = SMTPBackend(
            "127.0.0.1",
            port,
            USERNAME,
            PASSWORD,
            use_ssl=True,
            ssl_context=tls_files.client_context(),
        )
        send(backend, message())
    assert server.received[0].authenticated


def test_tls_modes_exclude_each_other() -> None:
    with pytest.raises(ConfigurationError, match="exclude each other"):
        SMTPBackend(use_tls=True, use_ssl=True)


def test_default_ports() -> None:
    assert SMTPBackend().port == 25
    assert SMTPBackend(use_tls=True).port == 587
    assert SMTPBackend(use_ssl=True).port == 465
    assert SMTPBackend(port=2525, use_ssl=True).port == 2525


def test_repr_hides_the_password() -> None:
    text = repr(SMTPBackend("smtp.example.com", username="me", password=PASSWORD, use_tls=True))
    assert text == "SMTPBackend('smtp.example.com', 587, username='me', starttls)"
