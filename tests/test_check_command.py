"""``satchel check [--deploy]``: findings printed with their fix, exit status 1 when any."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from satchel.commands.check import check_command
from tests.support import importable_module

APP_SOURCE = """
from satchel import App, Settings
from satchel.openapi import OpenAPIConfig

KEY = "Jx8_qP2vL0mZ-3rT9wYb6cN1dK5hG7sF4aE2uI8oQ0lW3zX6vB9nM1jH5gR7tD"

secure = App(
    settings=Settings(secret_key=KEY, allowed_hosts=["example.com"]),
    openapi=OpenAPIConfig(path=None, docs_path=None),
)

insecure = App(
    settings=Settings(debug=True, secret_key="change-me", allowed_hosts=["example.com"]),
    openapi=OpenAPIConfig(path=None, docs_path=None),
)

from_environment = App(openapi=None)

not_an_app = object()
"""


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from importable_module(APP_SOURCE, tmp_path, monkeypatch, "satchel_check_app")


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(check_command, list(args), env=env)


def test_a_secure_app_passes(module: str) -> None:
    result = invoke(f"{module}:secure", "--deploy")
    assert result.exit_code == 0, result.output
    assert result.stdout == "No issues found.\n"


def test_findings_are_listed_with_their_fix_and_exit_1(module: str) -> None:
    result = invoke(f"{module}:insecure", "--deploy")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("security.W001: Debug mode is on")
    assert lines[1].startswith("    Fix: Set SATCHEL_DEBUG=false")
    assert lines[2].startswith("security.W003: secret_key looks like a placeholder")
    assert lines[3].startswith("    Fix: Set SATCHEL_SECRET_KEY")
    assert lines[4:] == ["", "2 issues found."]
    assert "change-me" not in result.stdout


def test_findings_can_be_ignored_by_id(module: str) -> None:
    # A public API may serve its docs on purpose: the step still passes once that is said.
    result = invoke(f"{module}:insecure", "--deploy", "--ignore", "security.W001")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("security.W003: ")
    assert result.stdout.endswith("\n1 issue found (1 ignored).\n")
    args = ["--ignore", "security.W001", "--ignore", "SECURITY.w003"]
    result = invoke(f"{module}:insecure", "--deploy", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "No issues found (2 ignored).\n"


def test_one_finding_is_counted_in_the_singular(module: str) -> None:
    env = {"SATCHEL_SECRET_KEY": "Jx8_qP2vL0mZ-3rT9wYb6cN1dK5hG7sF4aE2uI8oQ0lW3zX6vB9nM1jH5gR7tD"}
    env |= {"SATCHEL_ALLOWED_HOSTS": "example.com", "SATCHEL_HSTS_SECONDS": "0"}
    result = invoke(f"{module}:from_environment", "--deploy", env=env)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("security.W008: hsts_seconds is 0")
    assert result.stdout.endswith("\n1 issue found.\n")


def test_settings_come_from_the_environment(module: str) -> None:
    env = {"SATCHEL_DEBUG": "true", "SATCHEL_ALLOWED_HOSTS": "*"}
    result = invoke(f"{module}:from_environment", "--deploy", env=env)
    assert result.exit_code == 1
    found = [line.split(":")[0] for line in result.stdout.splitlines() if line[:1].isalpha()]
    assert found == ["security.W001", "security.W002", "security.W007"]


def test_without_deploy_only_general_checks_run(module: str) -> None:
    result = invoke(f"{module}:insecure")
    assert result.exit_code == 0, result.output
    assert result.stdout == "No issues found.\n"


def test_the_app_comes_from_satchel_app(module: str) -> None:
    result = invoke("--deploy", env={"SATCHEL_APP": f"{module}:insecure"})
    assert result.exit_code == 1
    assert "security.W001" in result.stdout


def test_not_an_app(module: str) -> None:
    result = invoke(f"{module}:not_an_app", "--deploy")
    assert result.exit_code != 0
    assert "is not a Satchel App" in result.output


def test_no_app_given(module: str) -> None:
    result = invoke("--deploy")
    assert result.exit_code == 2
    assert "no app given" in result.output


def test_help_mentions_the_exit_status() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "--deploy" in result.stdout
    assert "exit with status 1" in result.stdout
