"""``satchel openapi``: the document on standard output or in a file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openapi_spec_validator import validate

from satchel.cli import main
from tests.support import importable_module

APP_SOURCE = """
from satchel import App, Settings
from satchel.openapi import OpenAPIConfig

app = App(settings=Settings(), openapi=OpenAPIConfig(title="Shop", path=None, docs_path=None))


@app.get("/items/{item_id}")
async def get_item(item_id: int, q: str | None = None) -> dict[str, int]:
    return {"id": item_id}


off = App(settings=Settings(), openapi=None)

clash = App(settings=Settings())


@clash.get("/a", operation_id="same")
async def a() -> str:
    return "a"


@clash.get("/b", operation_id="same")
async def b() -> str:
    return "b"


not_an_app = object()
"""


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from importable_module(APP_SOURCE, tmp_path, monkeypatch, "satchel_openapi_app")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["openapi", *args])


def test_prints_the_document_indented(module: str) -> None:
    result = invoke(f"{module}:app")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    validate(document)
    assert document["info"]["title"] == "Shop"
    item = document["paths"]["/items/{item_id}"]["get"]
    assert [p["name"] for p in item["parameters"]] == ["item_id", "q"]
    assert result.stdout.startswith('{\n  "openapi": "3.1.0",\n')
    assert result.stdout.endswith("}\n")


def test_indent_zero_writes_one_line(module: str) -> None:
    result = invoke(f"{module}:app", "--indent", "0")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout)["openapi"] == "3.1.0"


def test_indent_four(module: str) -> None:
    result = invoke(f"{module}:app", "--indent", "4")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('{\n    "openapi"')


def test_writes_a_file(module: str, tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    result = invoke(f"{module}:app", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["info"]["title"] == "Shop"


def test_app_from_the_group_option(module: str) -> None:
    result = CliRunner().invoke(main, ["--app", f"{module}:app", "openapi", "--indent", "0"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["info"]["title"] == "Shop"


def test_listed_in_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "openapi" in result.output


@pytest.mark.parametrize(
    ("attribute", "exit_code", "message"),
    [
        ("off", 1, "the app has OpenAPI switched off (App(openapi=None))"),
        ("clash", 1, "cannot document the app: operation_id 'same' is used by"),
        ("not_an_app", 2, "'object' object is not a Satchel App"),
        ("nope", 2, "has no attribute 'nope'"),
    ],
    ids=["openapi-off", "misconfigured", "not-an-app", "missing-app"],
)
def test_refusals(module: str, attribute: str, exit_code: int, message: str) -> None:
    result = invoke(f"{module}:{attribute}")
    assert result.exit_code == exit_code
    assert message in result.stderr
