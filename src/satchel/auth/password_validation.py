"""Password rules checked when a password is set: length, common passwords, similarity.

Each validator answers one question and returns a message saying what to do, or
``None``; :func:`validate_password` runs them all and reports every problem at once.

>>> validate_password("correct horse battery staple")
>>> try:
...     validate_password("12345678")
... except PasswordValidationError as exc:
...     print(*exc.messages, sep="\\n")
This password is too common: choose one that is harder to guess, such as a few unrelated words.
This password is entirely numeric: add letters or symbols.
"""

from __future__ import annotations

import functools
import gzip
import os
import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from pathlib import Path
from typing import Protocol, runtime_checkable

from satchel.errors import MissingDependencyError

__all__ = [
    "CommonPassword",
    "MaximumLength",
    "MinimumLength",
    "NumericPassword",
    "PasswordValidationError",
    "PasswordValidator",
    "UserAttributeSimilarity",
    "default_validators",
    "password_help_texts",
    "validate_password",
]


class PasswordValidationError(ValueError):
    """The password breaks one or more rules; ``messages`` says which and what to do."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__(" ".join(self.messages))


@runtime_checkable
class PasswordValidator(Protocol):
    """One rule: ``validate`` returns a message when ``password`` breaks it."""

    @property
    def help_text(self) -> str:
        """The rule, phrased for a form's help text."""
        ...

    def validate(self, password: str, user: object | None = None) -> str | None:
        """A message saying what to change, or ``None`` when the password passes."""
        ...


class MinimumLength:
    """At least ``min_length`` characters (default 8)."""

    def __init__(self, min_length: int = 8) -> None:
        self.min_length = min_length

    @property
    def help_text(self) -> str:
        return f"Your password must contain at least {self.min_length} characters."

    def validate(self, password: str, user: object | None = None) -> str | None:
        if len(password) >= self.min_length:
            return None
        return f"This password is too short: use at least {self.min_length} characters."


class MaximumLength:
    """At most ``max_length`` characters (default 256; never below 64, so passphrases fit)."""

    def __init__(self, max_length: int = 256) -> None:
        if max_length < 64:
            raise ValueError("max_length must allow passwords of at least 64 characters")
        self.max_length = max_length

    @property
    def help_text(self) -> str:
        return f"Your password can contain up to {self.max_length} characters."

    def validate(self, password: str, user: object | None = None) -> str | None:
        if len(password) <= self.max_length:
            return None
        return f"This password is too long: use at most {self.max_length} characters."


class CommonPassword:
    """Not in a list of common passwords, compared case-insensitively.

    Args:
        path: A file of passwords, one per line (gzip-compressed if it ends in
            ``.gz``). Default: zxcvbn's list of the 30,000 most common passwords.
            Loaded on first use, once.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = path

    @functools.cached_property
    def passwords(self) -> frozenset[str]:
        """The list, lower-cased."""
        if self.path is None:
            return _zxcvbn_passwords()
        return _read_password_file(Path(self.path))

    @property
    def help_text(self) -> str:
        return "Your password can't be a commonly used password."

    def validate(self, password: str, user: object | None = None) -> str | None:
        if password.strip().lower() not in self.passwords:
            return None
        return (
            "This password is too common: choose one that is harder to guess, "
            "such as a few unrelated words."
        )


@functools.cache
def _zxcvbn_passwords() -> frozenset[str]:
    try:
        # zxcvbn ships no type information; the list is a plain dict of lists of str.
        from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]
    except ImportError as exc:
        raise MissingDependencyError("zxcvbn", "auth") from exc
    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def _read_password_file(path: Path) -> frozenset[str]:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as file:
            lines = file.read().splitlines()
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(stripped.lower() for line in lines if (stripped := line.strip()))


class UserAttributeSimilarity:
    """Not too similar to the user's username, e-mail address or name.

    Each attribute is compared whole and in parts (split on non-word characters:
    the e-mail ``jane.doe@example.com`` also gives ``jane`` and ``doe``) with
    ``difflib.SequenceMatcher.quick_ratio``, which is linear in the input; pairs whose
    lengths alone rule out ``max_similarity`` are skipped.

    The user's ``USERNAME_FIELD`` and ``EMAIL_FIELD`` (the names a user model gives
    its username and address attributes) are compared too, so a model whose username
    is ``login`` is covered without listing it.

    Args:
        attributes: Attribute names read from the user (missing or empty ones skipped).
        max_similarity: Refuse at this ratio or above (0.1 to 1.0).
    """

    def __init__(
        self,
        attributes: Iterable[str] = ("username", "email", "first_name", "last_name"),
        max_similarity: float = 0.7,
    ) -> None:
        if not 0.1 <= max_similarity <= 1.0:
            raise ValueError("max_similarity must be between 0.1 and 1.0")
        self.attributes = tuple(attributes)
        self.max_similarity = max_similarity

    @property
    def help_text(self) -> str:
        return "Your password can't be too similar to your other personal information."

    def validate(self, password: str, user: object | None = None) -> str | None:
        if user is None:
            return None
        lowered = password.lower()
        for attribute in self._attributes_of(user):
            value = getattr(user, attribute, None)
            if not isinstance(value, str) or not value:
                continue
            value = value.lower()
            parts = {value, *(part for part in re.split(r"\W+", value) if part)}
            if any(self._similar(lowered, part) for part in parts):
                label = attribute.replace("_", " ")
                return (
                    f"This password is too similar to your {label}: "
                    "choose one that does not contain it or resemble it."
                )
        return None

    def _attributes_of(self, user: object) -> tuple[str, ...]:
        named = (getattr(user, field, None) for field in ("USERNAME_FIELD", "EMAIL_FIELD"))
        extra = (n for n in named if isinstance(n, str) and n and n not in self.attributes)
        return (*self.attributes, *dict.fromkeys(extra))

    def _similar(self, password: str, value: str) -> bool:
        # The ratio is 2 * matches / (len(a) + len(b)) and matches <= the shorter
        # length: when that bound is already below the limit, skip the comparison.
        shorter = min(len(password), len(value))
        if 2 * shorter < self.max_similarity * (len(password) + len(value)):
            return False
        return SequenceMatcher(a=password, b=value).quick_ratio() >= self.max_similarity


class NumericPassword:
    """Not made of digits only."""

    @property
    def help_text(self) -> str:
        return "Your password can't be entirely numeric."

    def validate(self, password: str, user: object | None = None) -> str | None:
        if not password.isdigit():
            return None
        return "This password is entirely numeric: add letters or symbols."


def default_validators() -> list[PasswordValidator]:
    """The rules on by default: 8 to 256 characters, not common, not like the user, not digits."""
    return [
        MinimumLength(8),
        MaximumLength(256),
        CommonPassword(),
        UserAttributeSimilarity(),
        NumericPassword(),
    ]


def validate_password(
    password: str,
    *,
    user: object | None = None,
    validators: Sequence[PasswordValidator] | None = None,
) -> None:
    """Check ``password`` against every rule.

    Args:
        password: The candidate password.
        user: The account it is for (similarity checks read its attributes); ``None``
            skips those checks.
        validators: The rules; :func:`default_validators` when ``None``.

    Raises:
        PasswordValidationError: With one message per broken rule.
    """
    rules = default_validators() if validators is None else validators
    messages = [message for rule in rules if (message := rule.validate(password, user)) is not None]
    if messages:
        raise PasswordValidationError(messages)


def password_help_texts(validators: Sequence[PasswordValidator] | None = None) -> list[str]:
    """The rules' help texts, for a password form; :func:`default_validators` when ``None``."""
    rules = default_validators() if validators is None else validators
    return [rule.help_text for rule in rules]
