"""Path traversal and information leaks through StaticFiles.

Static-file handlers have been walked out of their folder by encoded dot segments,
backslashes, absolute and UNC paths, drive letters, NTFS streams, Windows device
names and symlinks, and have served hidden files (``.env``, ``.git/config``). Every
such request gets exactly the answer a missing file gets (the same status, headers
and body: nothing tells a prober which rule refused it), except paths the core
refuses before routing (dot segments, NUL, invalid UTF-8), which get 400.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import pytest

from satchel import App, Settings
from satchel.staticfiles import StaticFiles
from tests.security.helpers import answers_quickly, assert_refused
from tests.support import RawResponse, call_asgi, open_files_under

SECRET = b"the secret"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    served = tmp_path / "root"
    (served / "css").mkdir(parents=True)
    (served / "css" / "site.css").write_bytes(b"body {}")
    (served / "hello.txt").write_bytes(b"hello")
    (served / ".env").write_bytes(SECRET)
    (served / ".git").mkdir()
    (served / ".git" / "config").write_bytes(SECRET)
    (served / "hidden-link.txt").symlink_to(served / ".env")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "root-private").mkdir()  # shares the served folder's name as a prefix
    (tmp_path / "root-private" / "secret.txt").write_bytes(SECRET)
    (served / "link.txt").symlink_to(tmp_path / "secret.txt")
    (served / "up").symlink_to(tmp_path)
    os.mkfifo(served / "pipe.txt")
    # A "precompressed sibling" that leads out of the folder.
    (served / "page.txt").write_bytes(b"page")
    (tmp_path / "secret.txt.gz").write_bytes(gzip.compress(SECRET))
    (served / "page.txt.gz").symlink_to(tmp_path / "secret.txt.gz")
    return served


def static_app(root: Path) -> App[Any]:
    app = App(settings=Settings(access_log=False))
    StaticFiles(root).init_app(app)
    return app


def get(app: App[Any], raw_path: bytes, *headers: tuple[bytes, bytes]) -> RawResponse:
    with answers_quickly():
        return call_asgi(app, raw_path=raw_path, path=raw_path.decode("latin-1"), headers=headers)


REFUSED_BEFORE_ROUTING = [
    b"/static/../secret.txt",
    b"/static/..%2Fsecret.txt",
    b"/static/%2e%2e/secret.txt",
    b"/static/.%2E/secret.txt",
    b"/static/%2e%2e%2fsecret.txt",
    b"/static/..%2Froot-private%2Fsecret.txt",
    b"/static/./hello.txt",
    b"/static/%00",
    b"/static/..%00/secret.txt",
    b"/static/hello.txt%00.png",
    b"/static/%C0%AE%C0%AE/secret.txt",
]

ANSWERED_LIKE_A_MISSING_FILE = [
    # backslashes, absolute and UNC paths, drive letters, NTFS streams
    b"/static/..%5Csecret.txt",
    b"/static/%5C..%5Csecret.txt",
    b"/static/%5c..%5csecret.txt",
    b"/static//etc/passwd",
    b"/static/%2Fetc%2Fpasswd",
    b"/static/%5C%5Cserver%5Cshare%5Csecret.txt",
    b"/static/C:%5Csecret.txt",
    b"/static/C:/secret.txt",
    b"/static/hello.txt::$DATA",
    # Windows device names, with or without an extension, in any case
    b"/static/CON",
    b"/static/con.txt",
    b"/static/Com1.css",
    b"/static/NUL",
    b"/static/nul.txt",
    b"/static/css/AUX.png",
    b"/static/LPT9",
    # names Windows trims to another file
    b"/static/hello.txt.",
    b"/static/hello.txt%20",
    # symlinks out of the folder, and to hidden files in it
    b"/static/link.txt",
    b"/static/up/secret.txt",
    b"/static/up/root-private/secret.txt",
    b"/static/hidden-link.txt",
    # hidden files and folders
    b"/static/.env",
    b"/static/%2Eenv",
    b"/static/.git/config",
    b"/static/css/.site.css",
    # folders (no listing) and what is not a regular file
    b"/static/css",
    b"/static/css/",
    b"/static/up",
    b"/static/pipe.txt",
    # Unicode look-alikes of '.', '/' and '\\'
    b"/static/%EF%BC%8E%EF%BC%8E/secret.txt",
    b"/static/..%EF%BC%8Fsecret.txt",
    b"/static/..%EF%BC%BCsecret.txt",
]


@pytest.mark.parametrize("raw_path", REFUSED_BEFORE_ROUTING, ids=repr)
def test_dot_segments_and_nul_are_refused_before_routing(root: Path, raw_path: bytes) -> None:
    """aiohttp CVE-2024-23334, Starlette CVE-2023-29159, Litestar CVE-2024-32982."""
    result = get(static_app(root), raw_path)
    assert_refused(result, 400)
    assert SECRET not in result.body
    assert open_files_under(root.parent) == []


@pytest.mark.parametrize("raw_path", ANSWERED_LIKE_A_MISSING_FILE, ids=repr)
@pytest.mark.parametrize("accept", [b"*/*", b"text/html"], ids=["api", "browser"])
def test_refusals_look_exactly_like_a_missing_file(
    root: Path, raw_path: bytes, accept: bytes
) -> None:
    """aiohttp CVE-2024-42367 (symlinks), Starlette CVE-2026-48818 (UNC paths on Windows),
    Werkzeug CVE-2025-66221 and CVE-2026-27199 (Windows device names, alone and after
    other segments, hang a read), and hidden files served as static files."""
    app = static_app(root)
    missing = get(app, b"/static/missing.txt", (b"accept", accept))
    result = get(app, raw_path, (b"accept", accept))
    assert result.status == 404
    assert result.raw_headers == missing.raw_headers
    assert result.body == missing.body
    assert SECRET not in result.body
    assert open_files_under(root.parent) == []


def test_a_sibling_leading_out_of_the_folder_is_never_sent(root: Path) -> None:
    result = get(static_app(root), b"/static/page.txt", (b"accept-encoding", b"gzip"))
    assert result.status == 200
    assert result.body == b"page"
    assert result.header("content-encoding") is None


def test_files_in_the_folder_are_still_served(root: Path) -> None:
    app = static_app(root)
    assert get(app, b"/static/hello.txt").body == b"hello"
    assert get(app, b"/static/css/site.css").body == b"body {}"
