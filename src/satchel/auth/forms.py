"""The forms of the login, password change and password reset pages.

Each input carries the ``autocomplete`` token password managers look for
(``username``, ``current-password``, ``new-password``, ``email``), and every form
renders its CSRF field. The messages are the ones the views show.

>>> form = LoginForm({"username": "alice", "password": "secret", "remember": "on"})
>>> form.validate(), form.data
(True, {'username': 'alice', 'password': 'secret', 'remember': True})
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, TypeVar

from satchel.auth.hashers import MAX_PASSWORD_LENGTH
from satchel.auth.models import USERNAME_MAX_LENGTH
from satchel.forms import BooleanField, EmailField, Form, PasswordField, StringField

__all__ = [
    "INVALID_LOGIN",
    "PASSWORD_MISMATCH",
    "WRONG_OLD_PASSWORD",
    "LoginForm",
    "PasswordChangeForm",
    "PasswordResetForm",
    "SetPasswordForm",
    "with_password_help",
    "with_username_length",
]

F = TypeVar("F", bound=Form)

#: The one message for an unknown user, a wrong password and an inactive account.
INVALID_LOGIN: Final = "Please enter a correct username and password."
PASSWORD_MISMATCH: Final = "The two password fields didn't match."  # noqa: S105  (a message)
WRONG_OLD_PASSWORD: Final = "Your old password was entered incorrectly. Please enter it again."  # noqa: S105  (a message)

# The longest password a hasher accepts: longer input is refused by the field,
# before any hashing.
_MAX_PASSWORD = MAX_PASSWORD_LENGTH
_NO_AUTOCORRECT = {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}


def _username(max_length: int) -> StringField:
    return StringField(
        "Username",
        max_length=max_length,
        attrs={"autocomplete": "username", "autofocus": True, **_NO_AUTOCORRECT},
    )


def _new_password(label: str, help_text: str = "") -> PasswordField:
    return PasswordField(
        label, max_length=_MAX_PASSWORD, help_text=help_text, attrs={"autocomplete": "new-password"}
    )


class LoginForm(Form):
    """Username, password and "remember me".

    The username may be as long as ``UserMixin``'s column; :func:`with_username_length`
    fits the form to another model's.
    """

    username = _username(USERNAME_MAX_LENGTH)
    password = PasswordField(
        "Password", max_length=_MAX_PASSWORD, attrs={"autocomplete": "current-password"}
    )
    remember = BooleanField("Remember me")


class _NewPasswordTwice(Form):
    """Checks that the new password was typed the same twice."""

    def clean(self, data: dict[str, Any]) -> None:
        first, second = data.get("new_password1"), data.get("new_password2")
        if first is not None and second is not None and first != second:
            self.add_error("new_password2", PASSWORD_MISMATCH)


class SetPasswordForm(_NewPasswordTwice):
    """A new password, typed twice (the last step of a reset)."""

    new_password1 = _new_password("New password")
    new_password2 = _new_password("New password confirmation")


class PasswordChangeForm(_NewPasswordTwice):
    """The current password, then a new one typed twice."""

    old_password = PasswordField(
        "Old password",
        max_length=_MAX_PASSWORD,
        attrs={"autocomplete": "current-password", "autofocus": True},
    )
    new_password1 = _new_password("New password")
    new_password2 = _new_password("New password confirmation")


class PasswordResetForm(Form):
    """The e-mail address to send a reset link to."""

    email = EmailField("Email", attrs={"autocomplete": "email", "autofocus": True})


def with_password_help(form: type[F], help_texts: Iterable[str]) -> type[F]:
    """``form`` (which has ``new_password1``), with the password rules as that field's help.

    The help is tied to the input with ``aria-describedby``.
    """
    help_text = " ".join(help_texts)
    if not help_text:
        return form
    fields = {"new_password1": _new_password("New password", help_text)}
    return type(form.__name__, (form,), {**fields, "__module__": form.__module__})


def with_username_length(form: type[F], max_length: int) -> type[F]:
    """``form`` (which has ``username``), taking usernames of up to ``max_length`` characters."""
    if max_length == USERNAME_MAX_LENGTH:
        return form
    fields = {"username": _username(max_length)}
    return type(form.__name__, (form,), {**fields, "__module__": form.__module__})
