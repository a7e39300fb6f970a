"""collect_static: hashed copies, the manifest, precompressed siblings, CSS references, reruns."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from satchel.staticfiles import (
    MANIFEST_NAME,
    CollectError,
    collect_static,
    hashed_name,
    is_fingerprinted,
)
from tests.staticfiles.conftest import APP_JS, PNG, SITE_CSS, write

HAS_BROTLI = any(importlib.util.find_spec(m) for m in ("brotli", "brotlicffi"))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def manifest_of(output: Path) -> dict[str, str]:
    data = json.loads((output / MANIFEST_NAME).read_text())
    assert data["version"] == 1
    files: dict[str, str] = data["files"]
    return files


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_files_are_copied_under_plain_and_hashed_names(project: Path, tmp_path: Path) -> None:
    output = tmp_path / "build"
    result = collect_static([project], output, compress=False)
    manifest = manifest_of(output)
    assert manifest["css/site.css"] == f"css/site.{digest(SITE_CSS)}.css"
    assert manifest["img/logo.png"] == f"img/logo.{digest(PNG)}.png"
    assert set(manifest) == {
        "css/site.css",
        "hello.txt",
        "img/logo.png",
        "js/app.js",
        "js/app.js.br",
        "js/app.js.gz",
    }
    for plain_name, hashed in manifest.items():
        assert (output / plain_name).read_bytes() == (project / plain_name).read_bytes()
        assert (output / hashed).read_bytes() == (project / plain_name).read_bytes()
        assert is_fingerprinted(hashed)
    assert result.files == 6
    assert result.written == 13  # 6 plain, 6 hashed, the manifest
    assert result.manifest == output / MANIFEST_NAME
    assert result.codings == ()


def test_hashed_names() -> None:
    assert hashed_name("a/b/app.min.js", "0123456789ab") == "a/b/app.min.0123456789ab.js"
    assert hashed_name("LICENSE", "0123456789ab") == "LICENSE.0123456789ab"


def test_a_rerun_changes_nothing(project: Path, tmp_path: Path) -> None:
    output = tmp_path / "build"
    collect_static([project], output)
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*")}
    result = collect_static([project], output)
    assert result.written == 0
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*")} == before


def test_a_changed_file_gets_a_new_hashed_name_and_the_old_one_stays(
    project: Path, tmp_path: Path
) -> None:
    output = tmp_path / "build"
    collect_static([project], output, compress=False)
    old = manifest_of(output)["css/site.css"]
    write(project, "css/site.css", b"body { color: red }")
    result = collect_static([project], output, compress=False)
    new = manifest_of(output)["css/site.css"]
    assert new != old
    assert (output / old).read_bytes() == SITE_CSS  # pages still open may ask for it
    assert (output / new).read_bytes() == b"body { color: red }"
    assert (output / "css/site.css").read_bytes() == b"body { color: red }"
    assert result.written == 3  # plain, hashed, manifest


def test_the_first_folder_provides_a_name(project: Path, battery: Path, tmp_path: Path) -> None:
    output = tmp_path / "build"
    result = collect_static([project, battery], output, compress=False)
    assert (output / "css/site.css").read_bytes() == SITE_CSS
    assert (output / "admin/admin.css").read_bytes() == b".admin { margin: 0 }"
    assert result.files == 7


def test_what_the_server_refuses_is_not_collected(project: Path, tmp_path: Path) -> None:
    write(project, ".env", b"SECRET=1")
    write(project, ".git/config", b"[core]")
    write(project, "css/.hidden.css", b"x")
    write(project, "con.txt", b"device name")
    write(project, "trailing-dot.", b"x")
    write(tmp_path / "outside", "secret.txt", b"secret")
    (project / "link.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (project / "linked-folder").symlink_to(tmp_path / "outside")
    write(project, "real.txt", b"real")
    (project / "alias.txt").symlink_to(project / "real.txt")  # inside the folder: fine
    output = tmp_path / "build"
    collect_static([project], output, compress=False)
    names = set(manifest_of(output))
    assert names == {
        "alias.txt",
        "css/site.css",
        "hello.txt",
        "img/logo.png",
        "js/app.js",
        "js/app.js.br",
        "js/app.js.gz",
        "real.txt",
    }
    assert not any(b"secret" in data or b"SECRET" in data for data in tree(output).values())


def test_text_files_get_gzip_siblings_when_smaller(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write(source, "css/site.css", SITE_CSS)
    write(source, "tiny.txt", b"x")  # gzip would make it bigger
    write(source, "img/logo.png", b"\x89PNG" * 100)  # compressible bytes, but an image type
    output = tmp_path / "build"
    result = collect_static([source], output)
    hashed = manifest_of(output)["css/site.css"]
    for name in ["css/site.css", hashed]:
        packed = (output / (name + ".gz")).read_bytes()
        assert gzip.decompress(packed) == SITE_CSS
        assert len(packed) < len(SITE_CSS)
    assert not (output / "tiny.txt.gz").exists()
    assert not (output / "img/logo.png.gz").exists()
    assert "gzip" in result.codings
    assert ("br" in result.codings) == HAS_BROTLI
    assert (output / "css/site.css.br").exists() == HAS_BROTLI


def test_no_compress_writes_no_siblings(project: Path, tmp_path: Path) -> None:
    output = tmp_path / "build"
    collect_static([project], output, compress=False)
    assert not (output / "css/site.css.gz").exists()


def test_a_projects_own_precompressed_file_is_kept(project: Path, tmp_path: Path) -> None:
    output = tmp_path / "build"
    collect_static([project], output)
    assert (output / "js/app.js.br").read_bytes() == b"brotli stand-in"
    assert gzip.decompress((output / "js/app.js.gz").read_bytes()) == APP_JS


def test_gzip_output_is_deterministic(project: Path, tmp_path: Path) -> None:
    collect_static([project], tmp_path / "one")
    collect_static([project], tmp_path / "two")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


# -- stylesheets ---------------------------------------------------------------------------------

STYLESHEET = """\
@import "base.css";
@import url('theme/dark.css') screen;
.logo { background: url(../img/logo.png) }
.icon { background: url( "../img/icons.svg#home" ) }
.font { src: url('../fonts/a.woff2?v=3') format('woff2') }
.abs { background: url(/static/img/logo.png) }
.data { background: url(data:image/png;base64,AAAA) }
.ext { background: url(https://cdn.example.com/x.png) }
.proto { background: url(//cdn.example.com/x.png) }
.missing { background: url(../img/missing.png) }
.out { background: url(../../../etc/passwd) }
.frag { filter: url(#blur) }
.encoded { background: url(../img/my%20photo.jpg) }
"""


@pytest.fixture
def styled(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    write(source, "css/site.css", STYLESHEET.encode())
    write(source, "css/base.css", b".base { background: url(../img/logo.png) }")
    write(source, "css/theme/dark.css", b"body { background: #000 }")
    write(source, "img/logo.png", b"png")
    write(source, "img/icons.svg", b"<svg/>")
    write(source, "img/my photo.jpg", b"jpg")
    write(source, "fonts/a.woff2", b"woff2")
    return source


def test_stylesheet_references_point_at_hashed_names(styled: Path, tmp_path: Path) -> None:
    output = tmp_path / "build"
    collect_static([styled], output, compress=False)
    manifest = manifest_of(output)

    def base(name: str) -> str:
        return manifest[name].rpartition("/")[2]

    css = (output / manifest["css/site.css"]).read_text()
    assert f'@import "{base("css/base.css")}";' in css
    assert f"@import url('theme/{base('css/theme/dark.css')}') screen;" in css
    assert f"url(../img/{base('img/logo.png')})" in css
    assert f'url( "../img/{base("img/icons.svg")}#home" )' in css
    assert f"url('../fonts/{base('fonts/a.woff2')}?v=3')" in css
    assert "url(../img/my%20photo." in css
    for unchanged in [
        "url(/static/img/logo.png)",
        "url(data:image/png;base64,AAAA)",
        "url(https://cdn.example.com/x.png)",
        "url(//cdn.example.com/x.png)",
        "url(../img/missing.png)",
        "url(../../../etc/passwd)",
        "url(#blur)",
    ]:
        assert unchanged in css
    assert (output / "css/site.css").read_text() == css
    assert manifest["css/site.css"] == f"css/site.{digest(css.encode())}.css"


def test_a_stylesheet_hash_follows_its_images(styled: Path, tmp_path: Path) -> None:
    output = tmp_path / "build"
    collect_static([styled], output, compress=False)
    before = manifest_of(output)
    write(styled, "img/logo.png", b"a new logo")
    collect_static([styled], output, compress=False)
    after = manifest_of(output)
    assert after["css/site.css"] != before["css/site.css"]
    assert after["css/base.css"] != before["css/base.css"]
    assert after["css/theme/dark.css"] == before["css/theme/dark.css"]


def test_an_import_cycle_ends(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write(source, "a.css", b'@import "b.css";')
    write(source, "b.css", b'@import "a.css";')
    output = tmp_path / "build"
    collect_static([source], output, compress=False)
    manifest = manifest_of(output)
    a = (output / manifest["a.css"]).read_text()
    b = (output / manifest["b.css"]).read_text()
    assert a == f'@import "{manifest["b.css"]}";'
    assert b == '@import "a.css";'  # the reference back into the cycle stays plain


def test_bytes_that_are_not_utf8_are_kept(tmp_path: Path) -> None:
    source = tmp_path / "src"
    latin1 = '@charset "iso-8859-1"; .x::after { content: "caf\xe9" }'.encode("latin-1")
    write(source, "old.css", latin1)
    output = tmp_path / "build"
    collect_static([source], output, compress=False)
    assert (output / "old.css").read_bytes() == latin1


# -- refusals ------------------------------------------------------------------------------------


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CollectError, match="does not exist"):
        collect_static([tmp_path / "nope"], tmp_path / "build")


@pytest.mark.parametrize("output", ["static", "static/build", "."])
def test_output_overlapping_a_folder_is_an_error(
    project: Path, tmp_path: Path, output: str
) -> None:
    with pytest.raises(CollectError, match="overlap"):
        collect_static([project], tmp_path / output)


def test_a_source_named_like_the_manifest_is_an_error(project: Path, tmp_path: Path) -> None:
    write(project, MANIFEST_NAME, b"{}")
    with pytest.raises(CollectError, match="has the name of the manifest"):
        collect_static([project], tmp_path / "build")
    collect_static([project], tmp_path / "build", manifest_name="assets.json")
    assert (tmp_path / "build" / "assets.json").exists()
