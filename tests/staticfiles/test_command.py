"""``satchel static collect``: the app's folders collected where its manifest says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from satchel.cli import load_app, main
from satchel.staticfiles import StaticFiles, static_url
from satchel.testing import TestClient
from tests.staticfiles.conftest import SITE_CSS, write
from tests.support import importable_module

APP_SOURCE = """
from satchel import App, Settings
from satchel.staticfiles import StaticFiles

app = App(settings=Settings())
StaticFiles(["static", "battery"], manifest="build/static/staticfiles.json").init_app(app)

unconfigured = App(settings=Settings())
StaticFiles("static").init_app(unconfigured)

missing_folder = App(settings=Settings())
StaticFiles(["static", "nowhere"], manifest="build/static/staticfiles.json").init_app(
    missing_folder
)

no_static = App(settings=Settings())

not_an_app = object()
"""


@pytest.fixture
def module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Path, battery: Path
) -> Iterator[str]:
    yield from importable_module(APP_SOURCE, tmp_path, monkeypatch, "satchel_static_app")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["static", "collect", *args])


def test_collects_into_the_manifest_folder(module: str, tmp_path: Path) -> None:
    result = invoke(f"{module}:app")
    assert result.exit_code == 0, result.output
    output = tmp_path / "build" / "static"
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Collected 7 files into {output}: ")
    assert lines[0].endswith(" written, manifest staticfiles.json.")
    assert lines[1].startswith("Precompressed: ")
    files = json.loads((output / "staticfiles.json").read_text())["files"]
    assert (output / files["css/site.css"]).read_bytes() == SITE_CSS
    assert (output / files["admin/admin.css"]).exists()


def test_a_rerun_writes_nothing(module: str, tmp_path: Path) -> None:
    assert invoke(f"{module}:app").exit_code == 0
    result = invoke(f"{module}:app")
    assert result.exit_code == 0, result.output
    assert ": 0 written," in result.stdout


def test_the_app_then_serves_the_hashed_files(module: str, tmp_path: Path) -> None:
    assert invoke(f"{module}:app").exit_code == 0
    write(tmp_path / "static", "css/site.css", b"edited after collecting")
    app = load_app(f"{module}:app")
    with TestClient(app) as client:
        response = client.get(static_url(app, "css/site.css"))
    assert response.content == SITE_CSS
    assert "immutable" in response.headers["cache-control"]


def test_output_and_no_compress_options(module: str, tmp_path: Path) -> None:
    result = invoke(f"{module}:unconfigured", "--output", "public", "--no-compress")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Collected 6 files into public: 13 written, manifest staticfiles.json."
    ]
    assert (tmp_path / "public" / "staticfiles.json").exists()
    assert not (tmp_path / "public" / "css" / "site.css.gz").exists()


def test_without_a_manifest_path_output_is_required(module: str) -> None:
    result = invoke(f"{module}:unconfigured")
    assert result.exit_code == 2
    assert "pass --output" in result.output


def test_a_missing_folder_is_reported(module: str) -> None:
    result = invoke(f"{module}:missing_folder")
    assert result.exit_code == 1
    assert "nowhere does not exist or is not a folder" in result.output


def test_an_app_without_staticfiles_is_reported(module: str) -> None:
    result = invoke(f"{module}:no_static")
    assert result.exit_code == 1
    assert "no StaticFiles for this app" in result.output


def test_not_an_app_is_refused(module: str) -> None:
    result = invoke(f"{module}:not_an_app")
    assert result.exit_code == 2
    assert "is not a Satchel App" in result.output


def test_the_command_is_listed() -> None:
    result = CliRunner().invoke(main, ["static", "--help"])
    assert result.exit_code == 0, result.output
    assert "collect" in result.stdout


def test_staticfiles_knows_its_folders(project: Path) -> None:
    static = StaticFiles([project], manifest="build/staticfiles.json")
    assert static.directories == [project.resolve()]
    assert static.manifest_path == Path("build/staticfiles.json").resolve()
