"""EmailMessage: addresses, header injection, the MIME it builds."""

from __future__ import annotations

import dataclasses
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from satchel.mail import EmailMessage, check_address

SENDER = "shop@example.com"


def test_plain_text_message() -> None:
    mime = EmailMessage("Hello", "Plain body.\n", "jane@example.com", from_email=SENDER).as_mime()
    assert mime["Subject"] == "Hello"
    assert mime["From"] == SENDER
    assert mime["To"] == "jane@example.com"
    assert mime.get_content_type() == "text/plain"
    assert mime.get_content_charset() == "utf-8"
    assert mime.get_content() == "Plain body.\n"
    assert parsedate_to_datetime(mime["Date"]).tzinfo is not None
    assert mime["Message-ID"].endswith("@example.com>")


def test_message_ids_are_unique() -> None:
    message = EmailMessage("Hi", "Body", "jane@example.com", from_email=SENDER)
    assert message.as_mime()["Message-ID"] != message.as_mime()["Message-ID"]


def test_html_alternative() -> None:
    message = EmailMessage(
        "Hi", "Text version", "jane@example.com", from_email=SENDER, html="<p>HTML version</p>"
    )
    mime = message.as_mime()
    assert mime.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in mime.iter_parts()]
    assert parts == ["text/plain", "text/html"]


def test_unicode_is_encoded() -> None:
    message = EmailMessage(
        "Größe 🎉", "Grüße\n", "Jürgen Müller <jm@example.com>", from_email=SENDER
    )
    wire = message.as_mime().as_bytes()
    assert wire.isascii()
    assert b"Subject: =?utf-8?" in wire


def test_recipients_and_bcc() -> None:
    message = EmailMessage(
        "Hi",
        "Body",
        ["Jane <jane@example.com>", "bob@example.com"],
        from_email=SENDER,
        cc="carol@example.com",
        bcc=("audit@example.com",),
        reply_to="help@example.com",
    )
    assert message.recipients() == [
        "jane@example.com",
        "bob@example.com",
        "carol@example.com",
        "audit@example.com",
    ]
    mime = message.as_mime()
    assert "Bcc" not in mime
    assert mime["Cc"] == "carol@example.com"
    assert mime["Reply-To"] == "help@example.com"
    assert mime["To"] == "Jane <jane@example.com>, bob@example.com"


def test_extra_headers_and_overrides() -> None:
    message = EmailMessage(
        "Hi",
        "Body",
        "jane@example.com",
        from_email=SENDER,
        headers={
            "List-Unsubscribe": "<https://example.com/u>",
            "Message-ID": "<fixed@example.com>",
        },
    )
    mime = message.as_mime()
    assert mime["List-Unsubscribe"] == "<https://example.com/u>"
    assert mime.get_all("Message-ID") == ["<fixed@example.com>"]


@pytest.mark.parametrize("header", ["From", "to", "BCC", "Subject", "Content-Type", "MIME-Version"])
def test_headers_cannot_replace_structural_ones(header: str) -> None:
    with pytest.raises(ValueError, match="with the message's arguments"):
        EmailMessage("Hi", "Body", "jane@example.com", headers={header: "x"})


@pytest.mark.parametrize("name", ["X Space", "X:Colon", "", "X-Ünicode", "X\r\nBcc"])
def test_invalid_header_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid header name"):
        EmailMessage("Hi", "Body", "jane@example.com", headers={name: "x"})


INJECTIONS = ["\r\nBcc: eve@evil.example", "\nBcc: eve@evil.example", "\rX: y", "nul\0byte"]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_header_injection_in_subject(payload: str) -> None:
    with pytest.raises(ValueError, match="header injection"):
        EmailMessage("Hello" + payload, "Body", "jane@example.com")


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize("field", ["to", "from_email", "cc", "bcc", "reply_to"])
def test_header_injection_in_addresses(field: str, payload: str) -> None:
    arguments: dict[str, Any] = {"to": "jane@example.com", field: "jane@example.com" + payload}
    with pytest.raises(ValueError, match="header injection"):
        EmailMessage("Hi", "Body", **arguments)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_header_injection_in_header_values(payload: str) -> None:
    with pytest.raises(ValueError, match="header injection"):
        EmailMessage("Hi", "Body", "jane@example.com", headers={"X-Tag": "a" + payload})


def test_frozen_so_checks_cannot_be_bypassed() -> None:
    message = EmailMessage("Hi", "Body", "jane@example.com")
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.subject = "Hi\r\nBcc: eve@evil.example"  # type: ignore[misc]


def test_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="at least one recipient"):
        EmailMessage("Hi", "Body", [])
    EmailMessage("Hi", "Body", bcc="audit@example.com")  # bcc alone is enough


def test_sender_missing_until_filled_in() -> None:
    message = EmailMessage("Hi", "Body", "jane@example.com")
    with pytest.raises(ValueError, match="no sender"):
        message.as_mime()
    filled = message.with_sender("Shop <shop@example.com>")
    assert filled.sender() == "shop@example.com"
    assert filled.as_mime()["From"] == "Shop <shop@example.com>"
    with pytest.raises(ValueError, match="expected one e-mail address"):
        message.with_sender("not an address")


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  jane@example.com ", "jane@example.com"),
        ("Jane Doe <jane@example.com>", "Jane Doe <jane@example.com>"),
        ('"Doe, Jane" <jane@example.com>', '"Doe, Jane" <jane@example.com>'),
        ("<jane@example.com>", "jane@example.com"),
    ],
)
def test_valid_addresses(value: str, canonical: str) -> None:
    assert check_address(value) == canonical


@pytest.mark.parametrize(
    "value",
    [
        "",
        "jane",
        "jane@",
        "@example.com",
        "jane@@example.com",
        "jane@example.com, eve@example.com",
        "jane@example.com; eve@example.com",
        "Doe, Jane <jane@example.com>",
        "alice@example.org)<bob@example.org>",  # CVE-2023-27043's shape
        "Jane <jane@example.com> eve@example.com",
        "Jane <jane@example.com",
        '"eve@evil.example" <jane@example.com>',
        "jane doe@example.com",
    ],
)
def test_invalid_addresses(value: str) -> None:
    with pytest.raises(ValueError, match="expected one e-mail address"):
        check_address(value)


def test_address_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        EmailMessage("Hi", "Body", [b"jane@example.com"])  # type: ignore[list-item]


# Every character that str.splitlines() breaks at: the stdlib refuses them in a header,
# but only in as_mime(), so a message holding one once failed at send time (a 500).
LINE_BREAKS = ["\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def test_every_line_break_the_stdlib_refuses_is_known() -> None:
    breaking = [chr(c) for c in range(0x110000) if len(f"a{chr(c)}b".splitlines()) > 1]
    assert sorted(breaking) == sorted(["\n", "\r", *LINE_BREAKS])


@pytest.mark.parametrize("character", LINE_BREAKS)
def test_unusual_line_breaks_are_refused_when_the_message_is_made(character: str) -> None:
    payload = f"Hello{character}Bcc: eve@evil.example"
    with pytest.raises(ValueError, match="header injection"):
        EmailMessage(payload, "Body", "jane@example.com")
    with pytest.raises(ValueError, match="header injection"):
        EmailMessage("Hi", "Body", "jane@example.com", headers={"X-Tag": payload})
    with pytest.raises(ValueError, match="header injection"):
        check_address(f"Jane{character} <jane@example.com>")


def test_other_characters_are_accepted_and_can_be_sent() -> None:
    # A tab or another control character is not a line break: the stdlib encodes it.
    subject = "Tab\there, bell\x07 and DEL\x7f"
    message = EmailMessage(subject, "Body", "jane@example.com", from_email=SENDER)
    assert message.as_mime().as_bytes().isascii()


SURROGATE = "\ud800"


@pytest.mark.parametrize(
    "arguments",
    [
        {"subject": f"Hi {SURROGATE}"},
        {"body": f"Body {SURROGATE}"},
        {"html": f"<p>{SURROGATE}</p>"},
        {"to": f"Jane {SURROGATE} <jane@example.com>"},
        {"from_email": f"{SURROGATE} <shop@example.com>"},
        {"headers": {"X-Tag": SURROGATE}},
    ],
    ids=["subject", "body", "html", "to", "from_email", "header"],
)
def test_a_lone_surrogate_is_refused_when_the_message_is_made(arguments: dict[str, Any]) -> None:
    complete: dict[str, Any] = {"subject": "Hi", "body": "Body", "to": "jane@example.com"}
    with pytest.raises(ValueError, match="lone surrogate"):
        EmailMessage(**(complete | arguments))


def test_the_body_must_be_text() -> None:
    with pytest.raises(TypeError, match="body must be a str, got bytes"):
        EmailMessage("Hi", b"Body", "jane@example.com")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="html must be a str, got bytes"):
        EmailMessage("Hi", "Body", "jane@example.com", html=b"<p>")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["jürgen@example.com", "jm@exämple.com", "Jürgen <jm@bü.de>"])
def test_non_ascii_addresses_are_refused_clearly(value: str) -> None:
    with pytest.raises(ValueError, match=r"not an ASCII address.*IDNA form"):
        check_address(value)
    assert check_address("Jürgen <jm@xn--b-eha.de>") == "=?utf-8?q?J=C3=BCrgen?= <jm@xn--b-eha.de>"


@pytest.mark.parametrize(
    "value",
    [
        "a" * 65 + "@example.com",
        "jane@" + "d" * 250,
        f"Jane <{'a' * 65}@example.com>",
    ],
)
def test_addresses_longer_than_rfc_5321_allows_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="too long"):
        check_address(value)


def test_addresses_at_rfc_5321_limits_are_accepted() -> None:
    local = "a" * 64
    longest = local + "@" + "d" * (254 - 65)
    assert check_address(longest) == longest
    message = EmailMessage("Hi", "Body", longest, from_email=SENDER)
    assert message.as_mime().as_bytes().isascii()
