"""E-mail messages: checked addresses and headers, built into MIME by the stdlib ``email``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from email.message import EmailMessage as MIMEMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr

from satchel.mailaddresses import check_address, check_header_value, check_text

__all__ = ["EmailMessage", "check_address"]

# Bodies in quoted-printable or base64, never raw 8-bit: a server that does not
# announce 8BITMIME may mangle them, and smtplib does not check for it.
_POLICY = SMTP.clone(cte_type="7bit")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII but ":" (RFC 5322 field name)
# Set from the constructor's arguments or by the MIME structure, never by ``headers``.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


def _addresses(values: str | Iterable[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    return tuple(check_address(value, what) for value in values)


@dataclass(frozen=True, init=False)
class EmailMessage:
    """One e-mail: plain text, optionally with an HTML alternative.

    Everything is checked here, so that a message made is a message that can be sent:
    a line break or NUL in the subject, an address or a header (header injection)
    raises ``ValueError``, as do a lone surrogate anywhere (it has no UTF-8 form) and
    an address that is not one ASCII ``local@domain`` within RFC 5321's lengths.

    Args:
        subject: The subject line.
        body: The plain-text body.
        to: Recipient address, or addresses.
        from_email: The sender; ``None`` lets :class:`~satchel.mail.Mailer` fill in its
            ``default_from``.
        html: An HTML version of ``body``, sent as an alternative.
        cc: Copied addresses.
        bcc: Blind-copied addresses (in the SMTP envelope only, never in a header).
        reply_to: Addresses replies go to.
        headers: Extra headers (``List-Unsubscribe``, ``Date``, ``Message-ID`` overrides);
            not the ones the arguments above set.

    >>> message = EmailMessage("Hi", "Hello, Jane.", "jane@example.com", from_email="a@example.com")
    >>> mime = message.as_mime()
    >>> mime["To"], mime.get_content_type(), mime["Message-ID"].endswith("@example.com>")
    ('jane@example.com', 'text/plain', True)
    """

    subject: str
    body: str
    to: tuple[str, ...]
    from_email: str | None
    html: str | None
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    reply_to: tuple[str, ...]
    headers: Mapping[str, str]

    def __init__(
        self,
        subject: str,
        body: str,
        to: str | Iterable[str] = (),
        *,
        from_email: str | None = None,
        html: str | None = None,
        cc: str | Iterable[str] = (),
        bcc: str | Iterable[str] = (),
        reply_to: str | Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        fields = {
            "subject": check_header_value(subject, "subject"),
            "body": check_text(body, "body"),
            "to": _addresses(to, "to"),
            "from_email": None if from_email is None else check_address(from_email, "from_email"),
            "html": None if html is None else check_text(html, "html"),
            "cc": _addresses(cc, "cc"),
            "bcc": _addresses(bcc, "bcc"),
            "reply_to": _addresses(reply_to, "reply_to"),
            "headers": _check_headers(headers or {}),
        }
        if not (fields["to"] or fields["cc"] or fields["bcc"]):
            raise ValueError("a message needs at least one recipient (to, cc or bcc)")
        for name, value in fields.items():
            object.__setattr__(self, name, value)  # frozen: set once, here

    def with_sender(self, from_email: str) -> EmailMessage:
        """A copy sent by ``from_email``."""
        return replace(self, from_email=from_email)

    def recipients(self) -> list[str]:
        """Every recipient's bare address (to, cc and bcc), for the SMTP envelope."""
        return [parseaddr(value)[1] for value in (*self.to, *self.cc, *self.bcc)]

    def sender(self) -> str:
        """The sender's bare address, for the SMTP envelope.

        Raises:
            ValueError: The message has no sender.
        """
        if self.from_email is None:
            raise ValueError(
                "the message has no sender: pass from_email, or send it through a Mailer "
                "(which fills in its default_from)"
            )
        return parseaddr(self.from_email)[1]

    def as_mime(self) -> MIMEMessage:
        """The message as the stdlib builds it: UTF-8, with ``Date`` and ``Message-ID``.

        Raises:
            ValueError: The message has no sender.
        """
        domain = self.sender().rpartition("@")[2]
        mime = MIMEMessage(policy=_POLICY)
        mime["Subject"] = self.subject
        mime["From"] = self.from_email
        for name, values in (("To", self.to), ("Cc", self.cc), ("Reply-To", self.reply_to)):
            if values:
                mime[name] = ", ".join(values)
        extra = {name.lower(): (name, value) for name, value in self.headers.items()}
        mime["Date"] = extra.pop("date", ("Date", formatdate(usegmt=True)))[1]
        mime["Message-ID"] = extra.pop("message-id", ("Message-ID", make_msgid(domain=domain)))[1]
        for name, value in extra.values():
            mime[name] = value
        mime.set_content(self.body)
        if self.html is not None:
            mime.add_alternative(self.html, subtype="html")
        return mime


def _check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"invalid header name {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"set {name} with the message's arguments, not headers")
        checked[name] = check_header_value(value, f"header {name}")
    return checked
