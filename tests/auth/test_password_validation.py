"""Password validators: each rule passing and failing, the defaults, the common list."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import pytest

from satchel.auth.password_validation import (
    CommonPassword,
    MaximumLength,
    MinimumLength,
    NumericPassword,
    PasswordValidationError,
    PasswordValidator,
    UserAttributeSimilarity,
    default_validators,
    password_help_texts,
    validate_password,
)


@dataclass
class Person:
    username: str = "jane_doe"
    email: str = "jane.doe@example.com"
    first_name: str = "Jane"
    last_name: str = "Doe"


def test_minimum_length() -> None:
    rule = MinimumLength(8)
    assert rule.validate("12345678") is None
    assert rule.validate("1234567") == "This password is too short: use at least 8 characters."
    assert "8 characters" in rule.help_text


def test_maximum_length_allows_at_least_64() -> None:
    rule = MaximumLength()
    assert rule.validate("x" * 256) is None
    assert rule.validate("x" * 257) == "This password is too long: use at most 256 characters."
    assert MaximumLength(64).validate("x" * 64) is None
    with pytest.raises(ValueError, match="at least 64"):
        MaximumLength(63)


def test_common_password_list_is_large_and_case_insensitive() -> None:
    rule = CommonPassword()
    assert len(rule.passwords) >= 10_000
    assert rule.validate("PassWord") is not None
    assert rule.validate(" qwerty ") is not None
    assert rule.validate("tangerine-bicycle-umbrella") is None
    message = rule.validate("123456")
    assert message is not None
    assert message.startswith("This password is too common: choose")


def test_common_password_list_loaded_once() -> None:
    assert CommonPassword().passwords is CommonPassword().passwords


def test_common_password_user_file(tmp_path: Path) -> None:
    path = tmp_path / "banned.txt"
    path.write_text("Hunter2\n\n  ourcompany2024  \n", encoding="utf-8")
    rule = CommonPassword(path)
    assert rule.passwords == {"hunter2", "ourcompany2024"}
    assert rule.validate("HUNTER2") is not None
    assert rule.validate("password") is None  # only the file's list


def test_common_password_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "banned.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        file.write("alpha\nbravo\n")
    rule = CommonPassword(str(path))
    assert rule.validate("Bravo") is not None
    assert rule.validate("charlie") is None


def test_numeric_password() -> None:
    rule = NumericPassword()
    assert (
        rule.validate("8675309123") == "This password is entirely numeric: add letters or symbols."
    )
    assert rule.validate("8675309a") is None


def test_similarity_to_username_and_email_parts() -> None:
    rule = UserAttributeSimilarity()
    person = Person()
    username = rule.validate("jane_doe1", person)
    assert username is not None
    assert "similar to your username" in username
    email = rule.validate("jane.doe@example.org", person)
    assert email is not None
    assert "similar to your email" in email
    assert rule.validate("DOEJANE", person) is not None  # case-insensitive, any order
    assert rule.validate("tangerine-bicycle-umbrella", person) is None


def test_similarity_names_the_attribute_plainly() -> None:
    message = UserAttributeSimilarity(["first_name"]).validate("janet", Person())
    assert message == (
        "This password is too similar to your first name: "
        "choose one that does not contain it or resemble it."
    )


@dataclass
class Operator:
    """A user model naming its username and address attributes itself."""

    login: str = "grace.hopper"
    contact: str = "admiral@navy.example"
    USERNAME_FIELD = "login"
    EMAIL_FIELD = "contact"


def test_similarity_reads_the_models_username_and_email_fields() -> None:
    rule = UserAttributeSimilarity()
    assert "similar to your login" in (rule.validate("grace.hopper1", Operator()) or "")
    assert "similar to your contact" in (rule.validate("Admiral!", Operator()) or "")
    assert rule.validate("entirely unrelated words", Operator()) is None
    assert "login" in (
        UserAttributeSimilarity(["login"]).validate("grace.hopper", Operator()) or ""
    )


def test_similarity_skips_missing_values_and_no_user() -> None:
    rule = UserAttributeSimilarity(["username", "nickname"])
    assert rule.validate("jane_doe", None) is None
    assert rule.validate("jane_doe", Person(username="")) is None


def test_similarity_long_inputs_cost_little() -> None:
    rule = UserAttributeSimilarity()
    person = Person(first_name="a" * 100_000)
    assert rule.validate("b" * 100_000 + "jane", person) is None  # linear, not quadratic
    assert rule.validate("a" * 100_000, person) is not None


def test_similarity_threshold_bounds() -> None:
    assert UserAttributeSimilarity(max_similarity=1.0).validate("jane_doe1", Person()) is None
    with pytest.raises(ValueError, match=r"between 0\.1 and 1\.0"):
        UserAttributeSimilarity(max_similarity=0.05)


def test_validate_password_reports_every_problem() -> None:
    with pytest.raises(PasswordValidationError) as info:
        validate_password("1234")
    assert info.value.messages == [
        "This password is too short: use at least 8 characters.",
        "This password is too common: choose one that is harder to guess, "
        "such as a few unrelated words.",
        "This password is entirely numeric: add letters or symbols.",
    ]
    assert isinstance(info.value, ValueError)
    assert "too short" in str(info.value)


def test_validate_password_with_user_and_custom_validators() -> None:
    validate_password("tangerine-bicycle-umbrella", user=Person())
    with pytest.raises(PasswordValidationError) as info:
        validate_password("jane_doe_2024", user=Person())
    assert len(info.value.messages) == 1
    validate_password("abc", validators=[NumericPassword()])
    validate_password("anything", validators=[])


def test_default_validators_and_help_texts() -> None:
    rules = default_validators()
    assert [type(rule) for rule in rules] == [
        MinimumLength,
        MaximumLength,
        CommonPassword,
        UserAttributeSimilarity,
        NumericPassword,
    ]
    assert all(isinstance(rule, PasswordValidator) for rule in rules)
    texts = password_help_texts()
    assert texts[0] == "Your password must contain at least 8 characters."
    assert len(texts) == 5
    assert password_help_texts([NumericPassword()]) == ["Your password can't be entirely numeric."]
