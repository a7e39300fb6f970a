"""E-mail address and header value checks, shared by ``satchel.mail`` and the settings.

The settings check ``mail_default_from`` at startup with the same rules that
``satchel.mail`` applies to every message, so the two cannot drift apart.
"""

from __future__ import annotations

import re

__all__ = ["check_address", "check_header_value", "check_text"]

# NUL and every character str.splitlines() breaks at: the stdlib refuses a header
# holding any of them, but only when the MIME is built (at send time).
_INJECTION = re.compile("[\0\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# A lone surrogate has no UTF-8 form: the message could not be encoded.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: RFC 5321 (4.5.3.1.1 and the 256-octet path limit less its angle brackets).
_MAX_LOCAL_PART = 64
_MAX_ADDRESS = 254
_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")
_DISPLAY_FORM = re.compile(r"([^<>]*)<([^<>]*)>\s*")


def check_text(value: str, what: str) -> str:
    """Return ``value`` if it is a ``str`` that UTF-8 can encode (no lone surrogate).

    Raises:
        TypeError: ``value`` is not a ``str``.
        ValueError: It holds a lone surrogate.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    if _SURROGATE.search(value):
        raise ValueError(f"{what} holds a lone surrogate, which has no UTF-8 encoding")
    return value


def check_header_value(value: str, what: str) -> str:
    """Return ``value`` if it can be a header's value: :func:`check_text`, no line break or NUL.

    Raises:
        TypeError: ``value`` is not a ``str``.
        ValueError: A line break or NUL (header injection), or a lone surrogate.
    """
    if _INJECTION.search(check_text(value, what)):
        raise ValueError(
            f"{what} must not contain line breaks (CR, LF, VT, FF, NEL, U+2028...) or NUL "
            "characters (header injection)"
        )
    return value


def check_address(value: str, what: str = "address") -> str:
    """Validate one address, ``jane@example.com`` or ``Jane Doe <jane@example.com>``.

    Returns:
        The address in canonical form (display name quoted when it needs to be).

    Raises:
        ValueError: A line break or NUL (header injection), a lone surrogate, more
            than one address, no ``local@domain`` part, a non-ASCII ``local@domain``
            (a display name may be any text), or one longer than RFC 5321 allows.

    >>> check_address('"Doe, Jane" <jane@example.com>')
    '"Doe, Jane" <jane@example.com>'
    >>> check_address("jane@example.com, eve@example.com")
    Traceback (most recent call last):
    ...
    ValueError: address: expected one e-mail address, got 'jane@example.com, eve@example.com'
    """
    check_header_value(value, what)
    # Imported here: the settings check one address at startup, and ``import satchel``
    # (which imports the settings) stays without the email package.
    from email.utils import formataddr, getaddresses, parseaddr

    name, addr = parseaddr(value)
    if "<" in value:
        # The parser is lenient: also require the text to be exactly "name <addr>".
        form = _DISPLAY_FORM.fullmatch(value.strip())
        well_formed = form is not None and form[2].strip() == addr and "@" not in name
    else:
        well_formed = value.strip() == addr and not name
    if not well_formed or len(getaddresses([value])) != 1 or not _ADDR_SPEC.fullmatch(addr):
        raise ValueError(f"{what}: expected one e-mail address, got {value!r}")
    _check_addr_spec(addr, value, what)
    return formataddr((name, addr))


def _check_addr_spec(addr: str, value: str, what: str) -> None:
    """Refuse what SMTP cannot carry: non-ASCII or over-long addresses."""
    if not addr.isascii():
        raise ValueError(
            f"{what}: {value!r} is not an ASCII address; internationalised addresses are "
            "not supported (write the domain in its IDNA form, xn--...)"
        )
    local = addr.rpartition("@")[0]
    if len(local) > _MAX_LOCAL_PART or len(addr) > _MAX_ADDRESS:
        raise ValueError(
            f"{what}: {value!r} is too long (RFC 5321: at most {_MAX_LOCAL_PART} characters "
            f"before the @ and {_MAX_ADDRESS} in all)"
        )
