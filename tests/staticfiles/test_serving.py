"""StaticFiles through the test client: lookup, types, validators, ranges, variants, caching."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest

from satchel import App, Request, Settings
from satchel.errors import ConfigurationError
from satchel.files import FileResponse
from satchel.staticfiles import IMMUTABLE, StaticFiles, static_url, staticfiles_of
from satchel.testing import TestClient
from tests.staticfiles.conftest import APP_JS, MTIME_NS, SITE_CSS, write

LAST_MODIFIED = formatdate(MTIME_NS // 10**9, usegmt=True)


def make_app(*directories: Path, **options: Any) -> App[Any]:
    app = App(settings=Settings(access_log=False))
    StaticFiles(directories, **options).init_app(app)
    return app


@pytest.fixture
def client(project: Path, battery: Path) -> Iterator[TestClient]:
    with TestClient(make_app(project, battery)) as client:
        yield client


def plain(client: TestClient, url: str, **headers: str) -> Any:
    """GET ``url`` asking for no content-coding (httpx asks for gzip by default)."""
    return client.get(url, headers={"accept-encoding": "identity", **headers})


# -- finding files ---------------------------------------------------------------------------


def test_a_file_is_served_with_type_validators_and_cache_policy(client: TestClient) -> None:
    response = plain(client, "/static/css/site.css")
    assert response.status_code == 200
    assert response.content == SITE_CSS
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["etag"] == f'"{MTIME_NS:x}-{len(SITE_CSS):x}"'
    assert response.headers["last-modified"] == LAST_MODIFIED
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "no-cache"
    assert "vary" not in response.headers  # no precompressed sibling: nothing varies


def test_the_first_folder_wins_and_later_ones_are_searched(client: TestClient) -> None:
    assert plain(client, "/static/css/site.css").content == SITE_CSS
    assert plain(client, "/static/admin/admin.css").content == b".admin { margin: 0 }"


def test_add_directory_searches_after_the_others(project: Path, battery: Path) -> None:
    app = make_app(battery)
    staticfiles_of(app).add_directory(project)
    with TestClient(app) as client:
        assert plain(client, "/static/css/site.css").content == b"/* the battery's */"
        assert plain(client, "/static/hello.txt").status_code == 200


def test_a_single_folder_may_be_given_as_one_path(project: Path) -> None:
    app = App(settings=Settings(access_log=False))
    StaticFiles(project, prefix="/assets").init_app(app)
    with TestClient(app) as client:
        assert plain(client, "/assets/hello.txt").content == b"0123456789abcdefghij"
        assert plain(client, "/static/hello.txt").status_code == 404


def test_query_strings_are_ignored(client: TestClient) -> None:
    assert plain(client, "/static/hello.txt?v=3").status_code == 200


def test_names_are_percent_decoded(project: Path) -> None:
    write(project, "menu du café.txt", b"soup")
    with TestClient(make_app(project)) as client:
        assert plain(client, "/static/menu%20du%20caf%C3%A9.txt").content == b"soup"


def test_missing_files_and_folders_are_404_without_a_listing(client: TestClient) -> None:
    missing = plain(client, "/static/css/nope.css")
    assert missing.status_code == 404
    for url in ["/static/css", "/static/css/", "/static/", "/static"]:
        response = plain(client, url)
        assert response.status_code == 404, url
        assert "site.css" not in response.text
        assert "cache-control" not in response.headers


def test_a_fifo_is_404_without_blocking(project: Path) -> None:
    os.mkfifo(project / "pipe.txt")
    with TestClient(make_app(project)) as client:
        response = plain(client, "/static/pipe.txt")
    assert response.status_code == 404
    assert "cache-control" not in response.headers


def test_only_get_and_head_are_answered(client: TestClient) -> None:
    assert client.post("/static/hello.txt").status_code == 405
    assert client.delete("/static/hello.txt").status_code == 405


def test_the_route_is_named_for_url_for(client: TestClient, project: Path) -> None:
    app = App(settings=Settings())
    StaticFiles(project, name="assets").init_app(app)
    assert app.url_for("assets.file", path="css/site.css") == "/static/css/site.css"
    assert [r.path for r in app.routes_info() if r.name == "assets.file"] == ["/static/{path:path}"]


def test_a_file_can_be_served_at_another_path(project: Path) -> None:
    app = App(settings=Settings(access_log=False))
    static = StaticFiles(project)
    static.init_app(app)

    @app.get("/favicon.ico")
    async def favicon(request: Request) -> FileResponse:
        return await static.response(request, "img/logo.png")

    with TestClient(app) as client:
        response = plain(client, "/favicon.ico")
    assert response.content == b"\x89PNG\r\n\x1a\n"
    assert response.headers["content-type"] == "image/png"


# -- content types ---------------------------------------------------------------------------

TYPES = {
    "a.js": "text/javascript; charset=utf-8",
    "a.mjs": "text/javascript; charset=utf-8",
    "a.css": "text/css; charset=utf-8",
    "a.html": "text/html; charset=utf-8",
    "a.txt": "text/plain; charset=utf-8",
    "a.json": "application/json",
    "a.js.map": "application/json",
    "a.svg": "image/svg+xml",
    "a.png": "image/png",
    "a.ico": "image/x-icon",
    "a.woff2": "font/woff2",
    "a.wasm": "application/wasm",
    "a.webmanifest": "application/manifest+json",
    "A.PNG": "image/png",
    "archive.tar.gz": "application/gzip",
    "unknown.zzz": "application/octet-stream",
    "no-extension": "application/octet-stream",
}


@pytest.mark.parametrize(("name", "content_type"), TYPES.items())
def test_content_types(tmp_path: Path, name: str, content_type: str) -> None:
    write(tmp_path, name, b"x")
    with TestClient(make_app(tmp_path)) as client:
        response = plain(client, f"/static/{name}")
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"


# -- HEAD, conditional requests and ranges -------------------------------------------------------


def test_head_has_the_get_headers_and_no_body(client: TestClient) -> None:
    get = plain(client, "/static/css/site.css")
    head = client.head("/static/css/site.css", headers={"accept-encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(SITE_CSS))
    for name in ["content-type", "etag", "last-modified", "cache-control"]:
        assert head.headers[name] == get.headers[name]


def test_if_none_match_answers_304_with_the_cache_headers(client: TestClient) -> None:
    etag = plain(client, "/static/css/site.css").headers["etag"]
    response = plain(client, "/static/css/site.css", **{"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "no-cache"
    assert "content-type" not in response.headers
    head = client.head("/static/css/site.css", headers={"if-none-match": etag})
    assert head.status_code == 304


def test_if_modified_since_answers_304_unless_the_file_is_newer(client: TestClient) -> None:
    same = plain(client, "/static/hello.txt", **{"if-modified-since": LAST_MODIFIED})
    assert same.status_code == 304
    older = formatdate(MTIME_NS // 10**9 - 60, usegmt=True)
    assert plain(client, "/static/hello.txt", **{"if-modified-since": older}).status_code == 200


def test_ranges_answer_206_and_416(client: TestClient) -> None:
    part = plain(client, "/static/hello.txt", range="bytes=2-5")
    assert part.status_code == 206
    assert part.content == b"2345"
    assert part.headers["content-range"] == "bytes 2-5/20"
    beyond = plain(client, "/static/hello.txt", range="bytes=20-")
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == "bytes */20"


# -- precompressed variants ----------------------------------------------------------------------


@dataclass
class Sent:
    """A response with its body exactly as sent (httpx would decode gzip)."""

    status_code: int
    headers: httpx.Headers
    raw: bytes


def raw_get(client: TestClient, url: str, accept_encoding: str, **headers: str) -> Sent:
    request_headers = {"accept-encoding": accept_encoding, **headers}
    with client.stream("GET", url, headers=request_headers) as response:
        return Sent(response.status_code, response.headers, b"".join(response.iter_raw()))


def test_gzip_sibling_is_sent_to_clients_that_accept_gzip(
    client: TestClient, project: Path
) -> None:
    response = raw_get(client, "/static/js/app.js", "gzip, deflate")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.raw == (project / "js/app.js.gz").read_bytes()
    assert gzip.decompress(response.raw) == APP_JS
    assert response.headers["content-length"] == str(len(response.raw))
    assert response.headers["etag"].endswith('-gzip"')


def test_brotli_is_preferred_when_both_are_accepted(client: TestClient) -> None:
    response = raw_get(client, "/static/js/app.js", "gzip, deflate, br, zstd")
    assert response.headers["content-encoding"] == "br"
    assert response.raw == b"brotli stand-in"
    assert response.headers["etag"].endswith('-br"')


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("x-gzip", "gzip"),
        ("GZIP", "gzip"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("gzip;q=0", None),
        ("gzip;q=0.000, br;q=0", None),
        ("br;q=0.5, identity", None),
        ("*;q=0", None),
        ("gzip;q=2", None),
        ("deflate", None),
        ("identity", None),
        ("", None),
    ],
)
def test_accept_encoding_weights_are_respected(
    client: TestClient, accept_encoding: str, coding: str | None
) -> None:
    response = raw_get(client, "/static/js/app.js", accept_encoding)
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert response.headers["vary"] == "Accept-Encoding"
    if coding is None:
        assert response.raw == APP_JS


def test_no_accept_encoding_header_gets_the_file(client: TestClient) -> None:
    del client.headers["accept-encoding"]
    response = client.get("/static/js/app.js")
    assert "content-encoding" not in response.headers
    assert response.content == APP_JS
    assert response.headers["vary"] == "Accept-Encoding"


def test_each_variant_has_its_own_etag_and_304(client: TestClient) -> None:
    identity = raw_get(client, "/static/js/app.js", "identity").headers["etag"]
    gzipped = raw_get(client, "/static/js/app.js", "gzip").headers["etag"]
    brotli = raw_get(client, "/static/js/app.js", "br").headers["etag"]
    assert len({identity, gzipped, brotli}) == 3
    again = raw_get(client, "/static/js/app.js", "gzip", **{"if-none-match": gzipped})
    assert again.status_code == 304
    assert again.headers["vary"] == "Accept-Encoding"
    assert again.headers["etag"] == gzipped
    assert "content-encoding" not in again.headers
    # A tag of another variant does not match this one.
    other = raw_get(client, "/static/js/app.js", "gzip", **{"if-none-match": identity})
    assert other.status_code == 200


def test_ranges_are_served_from_the_uncompressed_file(client: TestClient) -> None:
    response = raw_get(client, "/static/js/app.js", "gzip, br", range="bytes=0-6")
    assert response.status_code == 206
    assert response.raw == APP_JS[:7]
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-range"] == f"bytes 0-6/{len(APP_JS)}"


def test_head_of_a_compressed_variant(client: TestClient, project: Path) -> None:
    response = client.head("/static/js/app.js", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-length"] == str((project / "js/app.js.gz").stat().st_size)
    assert response.content == b""


def test_a_sibling_older_than_the_file_is_ignored(project: Path) -> None:
    write(project, "js/app.js", APP_JS, MTIME_NS + 10)  # edited after compressing
    with TestClient(make_app(project)) as client:
        response = raw_get(client, "/static/js/app.js", "gzip, br")
    assert "content-encoding" not in response.headers
    assert response.raw == APP_JS


def test_a_sibling_linking_out_of_the_folder_is_ignored(project: Path, tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.gz", b"secret", MTIME_NS + 5)
    write(project, "plain.txt", b"plain text")
    (project / "plain.txt.gz").symlink_to(secret)
    with TestClient(make_app(project)) as client:
        response = raw_get(client, "/static/plain.txt", "gzip")
    assert response.raw == b"plain text"
    assert "content-encoding" not in response.headers


def test_precompressed_false_sends_the_file_itself(project: Path) -> None:
    with TestClient(make_app(project, precompressed=False)) as client:
        response = raw_get(client, "/static/js/app.js", "gzip, br")
    assert response.raw == APP_JS
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_a_sibling_requested_by_name_is_an_archive(client: TestClient) -> None:
    response = raw_get(client, "/static/js/app.js.gz", "gzip")
    assert response.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in response.headers


# -- caching -------------------------------------------------------------------------------------


def test_fingerprinted_names_are_immutable(project: Path) -> None:
    write(project, "js/app.3f2a9c1b04de.js", b"hashed")
    write(project, "js/vendor.3f2a9c1b.js", b"bundler-hashed")
    write(project, "reports/sales.20240101.csv", b"dated")
    with TestClient(make_app(project)) as client:
        for url in ["/static/js/app.3f2a9c1b04de.js", "/static/js/vendor.3f2a9c1b.js"]:
            assert plain(client, url).headers["cache-control"] == IMMUTABLE
        dated = plain(client, "/static/reports/sales.20240101.csv")
        assert dated.headers["cache-control"] == "no-cache"
        etag = plain(client, "/static/js/app.3f2a9c1b04de.js").headers["etag"]
        again = plain(client, "/static/js/app.3f2a9c1b04de.js", **{"if-none-match": etag})
        assert again.status_code == 304
        assert again.headers["cache-control"] == IMMUTABLE


def test_max_age_sets_the_policy_of_plain_names(project: Path) -> None:
    with TestClient(make_app(project, max_age=600)) as client:
        assert plain(client, "/static/hello.txt").headers["cache-control"] == "public, max-age=600"


# -- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["static", "/static/", "/", "/static/{x}", ""])
def test_a_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="prefix"):
        StaticFiles(prefix=prefix)


def test_a_negative_max_age_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="max_age"):
        StaticFiles(max_age=-1)


def test_one_staticfiles_per_app(project: Path) -> None:
    app = make_app(project)
    with pytest.raises(ConfigurationError, match="already has a StaticFiles"):
        StaticFiles(project).init_app(app)


def test_an_app_without_staticfiles_says_how_to_add_it() -> None:
    app = App(settings=Settings())
    with pytest.raises(ConfigurationError, match=r"StaticFiles\(...\).init_app\(app\)"):
        static_url(app, "css/site.css")


def test_repr_names_the_folders(project: Path) -> None:
    text = repr(StaticFiles(project, prefix="/assets"))
    assert str(project) in text
    assert "/assets" in text
