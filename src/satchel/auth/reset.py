"""Password reset: signed, expiring, single-use tokens, and the e-mail that carries one.

A token is signed (:mod:`satchel.signing`, with a purpose of its own, so no other
signature of the app fits) and holds the user's id and a fingerprint of the
account's state: an HMAC, under the app's secret key, of its password hash, last
login and e-mail address (so nothing about them can be learnt or tried offline
from a token). The token dies
when any of them changes: once used (the password changed), after any other
password change, after the user logs in, and after ``max_age`` seconds.

>>> tokens = PasswordResetTokens(["secret key"], max_age=3600)
>>> tokens.user_id("not a token") is None
True
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa

from satchel.auth.models import email_field_of
from satchel.auth.throttle import caseless
from satchel.db import DbSession
from satchel.hosts import AllowedHosts
from satchel.mail import EmailMessage, mailer_of
from satchel.requests import Request
from satchel.signing import BadSignature, Signer
from satchel.templates import templates_of

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = [
    "RESET_EMAIL_BODY",
    "RESET_EMAIL_SUBJECT",
    "PasswordResetTokens",
    "fingerprint",
    "send_reset_mail",
    "users_for_reset",
]

#: The templates of the reset e-mail (plain text, so never HTML-escaped).
RESET_EMAIL_SUBJECT = "auth/password_reset_subject.txt"
RESET_EMAIL_BODY = "auth/password_reset_email.txt"

logger = logging.getLogger("satchel.auth")

_SALT = "satchel.auth.password-reset"
_FINGERPRINT_PURPOSE = b"satchel.auth.password-reset.fingerprint"
_Claim = tuple[int | str, str]
_decoder = msgspec.json.Decoder(_Claim)
# User models without an e-mail field that a reset was asked for (logged once each).
_no_email_field: set[type[Any]] = set()
# Sending tasks, kept referenced until done (the event loop holds only weak references).
_sending: set[asyncio.Task[None]] = set()


def fingerprint(user: Any, key: str | bytes) -> str:
    """A keyed digest of what a reset token is bound to: id, password hash, last login, e-mail.

    Changing any of them (setting a password, logging in, changing the address)
    changes the digest, and every token issued before stops verifying. It is an
    HMAC under a key derived from ``key`` (one of the app's secret keys): the token
    carries it readably, and without the key it confirms no guess of the password
    hash or the address.
    """
    last_login: datetime | None = getattr(user, "last_login", None)
    # Whole seconds, without time zone: the same whether read back from SQLite or PostgreSQL.
    login = "" if last_login is None else last_login.replace(microsecond=0, tzinfo=None).isoformat()
    state = "\x00".join((str(user.id), user.password or "", login, _address(user)))
    digest = hmac.digest(_purpose_key(key), state.encode("utf-8", "surrogatepass"), "sha256")
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


@functools.lru_cache(maxsize=8)
def _purpose_key(key: str | bytes) -> bytes:
    """A key for fingerprints only, derived from ``key`` once."""
    return hmac.digest(_bytes(key), _FINGERPRINT_PURPOSE, "sha256")


class PasswordResetTokens:
    """Makes and checks password-reset tokens.

    Args:
        keys: The app's secret keys, newest first (``app.secret_keys``).
        max_age: Seconds a token stays valid (``Auth(reset_timeout=...)``).
        clock: Wall-clock seconds; replaced in tests.
    """

    def __init__(
        self,
        keys: Sequence[str | bytes],
        *,
        max_age: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_age = max_age
        self._keys = tuple(keys)
        self._signer = Signer(keys, salt=_SALT, clock=clock, max_length=512)

    def make_token(self, user: Any) -> str:
        """A token for ``user`` (URL-safe: base64url and dots)."""
        claim = (_claim_id(user.id), fingerprint(user, self._keys[0]))
        return self._signer.sign(msgspec.json.encode(claim))

    def user_id(self, token: str) -> int | str | None:
        """The id of the user ``token`` was made for; None when it is bad or expired."""
        claim = self._claim(token)
        return None if claim is None else claim[0]

    def check_token(self, user: Any, token: str) -> bool:
        """Whether ``token`` is valid, unexpired, and for ``user`` as it is now."""
        claim = self._claim(token)
        # Canonical text on both sides: a UUID key comes back from JSON as a str.
        if claim is None or str(claim[0]) != str(_claim_id(user.id)):
            return False
        # Every key: a token outlives a key rotation while the old key is kept.
        return any(hmac.compare_digest(claim[1], fingerprint(user, key)) for key in self._keys)

    def _claim(self, token: str) -> _Claim | None:
        try:
            claim: _Claim = _decoder.decode(self._signer.unsign(token, max_age=self.max_age))
        except (BadSignature, msgspec.DecodeError):
            return None
        return claim


def _claim_id(user_id: Any) -> int | str:
    # JSON keeps ints and strings as they are; other keys (UUIDs) go as text.
    return user_id if isinstance(user_id, int | str) else str(user_id)


def _bytes(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else key.encode()


async def users_for_reset(db: DbSession, user_model: Any, email: str) -> list[Any]:
    """The users a reset for ``email`` goes to: active, with a usable password.

    The address is compared without regard to case (Unicode case folding). Users
    without a usable password are left out, as Django does: such an account signs
    in some other way, or was closed to passwords on purpose. A user model without
    an e-mail field (``EMAIL_FIELD``, else ``email``) has no one to send to: the
    answer is empty, and a warning is logged once.
    """
    field = _email_field(user_model)
    if field is None:
        if user_model not in _no_email_field:
            _no_email_field.add(user_model)
            logger.warning(
                "No password reset e-mail sent: the user model %s has no e-mail field "
                "(set EMAIL_FIELD to the name of its address column)",
                user_model.__qualname__,
            )
        return []
    column = getattr(user_model, field)
    # The database's lower() narrows the search, the same function on both sides: it
    # folds only ASCII on SQLite, so an address given in its stored case, or all in
    # lower or upper case, is found there too. The exact rule is applied below.
    spellings = sorted({email, email.lower(), email.upper()})
    lowered = [sa.func.lower(sa.literal(spelling)) for spelling in spellings]
    query = sa.select(user_model).where(sa.func.lower(column).in_(lowered))
    wanted = caseless(email)
    return [
        user
        for user in await db.scalars(query)
        if user.is_active
        and _usable(user.password)
        and caseless(getattr(user, field) or "") == wanted
    ]


def _usable(password: str | None) -> bool:
    # Imported here, not at the top: argon2 and the other hashers load with it.
    from satchel.auth.hashers import is_password_usable

    return password is not None and is_password_usable(password)


async def send_reset_mail(
    request: Request, users: Sequence[Any], tokens: PasswordResetTokens, link_route: str
) -> None:
    """Send each of ``users`` the reset e-mail, in the background.

    The link is absolute: ``link_route`` on the request's scheme and host, with the
    token in its query string (``?token=``), which access logs leave out. The host
    must be one ``Settings.allowed_hosts`` names: one allowed only by ``*`` could be
    any Host a client sent, and the link would take the token to the attacker's
    site, so then nothing is sent and a warning is logged (``satchel.auth``).

    Everything else (the tokens, the templates, the mail server) happens in a task
    of its own: the response does not wait for it, so its timing is the same whether
    or not an account matched. A failure to send is logged, never shown.
    """
    if not users:
        return
    host = request.host
    named = AllowedHosts(h for h in request.app.settings.allowed_hosts if h.strip() != "*")
    if not named.allows(host):
        logger.warning(
            "No password reset e-mail sent: the request's host %r is allowed only by '*' "
            "in allowed_hosts; list the site's names there",
            host,
        )
        return
    app = request.app
    base = f"{request.scheme}://{host}{app.url_for(link_route)}?token="
    env = templates_of(app).env
    mailer = mailer_of(app)
    # Read now: the task runs after the request, and its database session, ended.
    details = [(user, user.get_username(), _address(user)) for user in users]

    async def deliver() -> None:
        try:
            messages = [
                await _reset_message(env, user, username, address, tokens, base, host)
                for user, username, address in details
            ]
            await mailer.send(*messages)
        except Exception:
            logger.exception("Sending a password reset e-mail failed")

    task = asyncio.get_running_loop().create_task(deliver())
    _sending.add(task)
    task.add_done_callback(_sending.discard)


def _email_field(user_model: type[Any]) -> str | None:
    """The name of the model's e-mail attribute (``email_field_of``), if it has one."""
    name = email_field_of(user_model)
    return name if hasattr(user_model, name) else None


def _address(user: Any) -> str:
    """``user``'s e-mail address; "" when it has none, or its model no e-mail field."""
    field = _email_field(type(user))
    return "" if field is None else str(getattr(user, field) or "")


async def _reset_message(
    env: Environment,
    user: Any,
    username: str,
    address: str,
    tokens: PasswordResetTokens,
    base: str,
    site: str,
) -> EmailMessage:
    context = {
        "user": user,
        "username": username,
        "link": base + tokens.make_token(user),
        "site": site,
        "valid_for": tokens.max_age,
    }
    subject = await env.get_template(RESET_EMAIL_SUBJECT).render_async(context)
    body = await env.get_template(RESET_EMAIL_BODY).render_async(context)
    # A subject is one line: a template's line breaks would be a header injection.
    return EmailMessage(" ".join(subject.split()), body, [address])
