"""URLs of static files and the manifest: plain names in development, hashed ones in production."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from satchel import App, Settings
from satchel.errors import ConfigurationError
from satchel.staticfiles import (
    IMMUTABLE,
    StaticFiles,
    UnknownStaticFileError,
    collect_static,
    static_url,
)
from satchel.testing import LifespanFailed, TestClient
from tests.staticfiles.conftest import SITE_CSS, write


def make_app(static: StaticFiles, *, debug: bool = False) -> App[Any]:
    app = App(settings=Settings(access_log=False), debug=debug)
    static.init_app(app)
    return app


# -- without a manifest --------------------------------------------------------------------------


def test_plain_urls_without_a_manifest(project: Path) -> None:
    app = make_app(StaticFiles(project))
    assert static_url(app, "css/site.css") == "/static/css/site.css"
    assert static_url(app, "/css/site.css") == "/static/css/site.css"
    assert static_url(app, "icons.svg#home") == "/static/icons.svg#home"
    assert static_url(app, "a.css?v=2") == "/static/a.css?v=2"
    assert static_url(app, "menu du café.txt") == "/static/menu%20du%20caf%C3%A9.txt"
    assert static_url(app, "100%.txt") == "/static/100%25.txt"


def test_no_manifest_means_no_check_even_in_debug(project: Path) -> None:
    app = make_app(StaticFiles(project), debug=True)
    assert static_url(app, "not/there.css") == "/static/not/there.css"


@pytest.mark.parametrize("name", ["", "/", "?v=1", "#x"])
def test_a_url_needs_a_file_name(project: Path, name: str) -> None:
    with pytest.raises(ValueError, match="no file name"):
        StaticFiles(project).url(name)


def test_a_configured_but_missing_manifest_serves_the_folders(
    project: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    static = StaticFiles(project, manifest=tmp_path / "build" / "staticfiles.json")
    app = make_app(static)
    with caplog.at_level(logging.WARNING, "satchel.staticfiles"), TestClient(app) as client:
        assert client.get("/static/css/site.css").content == SITE_CSS
    assert static.manifest is None
    assert static_url(app, "css/site.css") == "/static/css/site.css"
    assert "no static manifest at" in caplog.text


# -- with a manifest -----------------------------------------------------------------------------


@pytest.fixture
def collected(project: Path, tmp_path: Path) -> Path:
    """The project's folder collected into ``build/``; returns the manifest."""
    return collect_static([project], tmp_path / "build", compress=False).manifest


def test_manifest_urls_are_hashed(project: Path, collected: Path) -> None:
    app = make_app(StaticFiles(project, manifest=collected))
    files = json.loads(collected.read_text())["files"]
    assert static_url(app, "css/site.css") == "/static/" + files["css/site.css"]
    assert (
        static_url(app, "css/site.css?x=1#top") == "/static/" + files["css/site.css"] + "?x=1#top"
    )
    assert files["css/site.css"].startswith("css/site.")


def test_unknown_names_raise_in_debug(project: Path, collected: Path) -> None:
    app = make_app(StaticFiles(project, manifest=collected), debug=True)
    with pytest.raises(UnknownStaticFileError, match=r"'css/missing\.css' is not in the manifest"):
        static_url(app, "css/missing.css")


def test_unknown_names_get_their_plain_url_in_production(
    project: Path, collected: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(StaticFiles(project, manifest=collected))
    with caplog.at_level(logging.WARNING, "satchel.staticfiles"):
        assert static_url(app, "css/missing.css") == "/static/css/missing.css"
        assert static_url(app, "css/missing.css") == "/static/css/missing.css"
    assert caplog.text.count("'css/missing.css' is not in the manifest") == 1


def test_manifest_mode_serves_the_collected_folder_only(
    project: Path, collected: Path, tmp_path: Path
) -> None:
    write(project, "added-after-collect.txt", b"new")
    app = make_app(StaticFiles(project, manifest=collected))
    with TestClient(app) as client:
        hashed = client.get(static_url(app, "css/site.css"))
        assert hashed.content == SITE_CSS
        assert hashed.headers["cache-control"] == IMMUTABLE
        by_plain_name = client.get("/static/css/site.css")
        assert by_plain_name.content == SITE_CSS
        assert by_plain_name.headers["cache-control"] == "no-cache"
        assert client.get("/static/added-after-collect.txt").status_code == 404


def test_a_broken_manifest_stops_startup(project: Path, tmp_path: Path) -> None:
    manifest = write(tmp_path, "staticfiles.json", b"{not json")
    app = make_app(StaticFiles(project, manifest=manifest))
    with pytest.raises(LifespanFailed, match="is not a static manifest"), TestClient(app):
        pass


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"version": 2, "files": {}}', "manifest version 2"),
        (b'{"version": 1, "files": {"a": 1}}', "is not a static manifest"),
        (b'{"version": 1}', "is not a static manifest"),
        (b"[]", "is not a static manifest"),
    ],
)
def test_a_manifest_of_another_shape_is_refused(
    project: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    manifest = write(tmp_path, "staticfiles.json", content)
    with pytest.raises(ConfigurationError, match=message):
        StaticFiles(project, manifest=manifest).url("a")


def test_an_unreadable_manifest_is_refused(project: Path, tmp_path: Path) -> None:
    (tmp_path / "staticfiles.json").mkdir()
    with pytest.raises(ConfigurationError, match="cannot read the static manifest"):
        StaticFiles(project, manifest=tmp_path / "staticfiles.json").url("a")
