"""Path traversal: in file-serving routes, and in the file names of uploads.

The files app serves ``root`` the documented way, a ``{name:path}`` route and
:func:`satchel.safe_join`. A secret sits next to ``root``, and ``root`` holds a
symlink to it: no request may read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from satchel import App, FileResponse, NotFound, Settings, safe_join
from tests.security.helpers import answers_quickly, assert_refused, multipart
from tests.security.served_app import build_app
from tests.support import Receiver, call_asgi, open_files_under

SECRET = b"the secret"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    served = tmp_path / "root"
    served.mkdir()
    (served / "hello.txt").write_bytes(b"hello")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "root-private").mkdir()  # shares the served folder's name as a prefix
    (tmp_path / "root-private" / "secret.txt").write_bytes(SECRET)
    (served / "link.txt").symlink_to(tmp_path / "secret.txt")
    (served / "up").symlink_to(tmp_path)
    return served


def files_app(root: Path) -> App[Any]:
    app = App(settings=Settings(access_log=False))

    @app.get("/static/{name:path}")
    async def static(name: str) -> FileResponse:
        path = safe_join(root, name)
        if path is None:
            raise NotFound()
        return FileResponse(path)

    return app


# Each raw request path and its exact answer: 400 for paths refused before routing
# (dot segments, invalid escapes, NUL), 404 for names safe_join refuses.
TRAVERSALS = {
    b"/static/../secret.txt": 400,
    b"/static/..%2Fsecret.txt": 400,
    b"/static/%2e%2e/secret.txt": 400,
    b"/static/.%2E/secret.txt": 400,
    b"/static/%2e%2e%2fsecret.txt": 400,
    b"/static/..%5Csecret.txt": 404,
    b"/static/%5C..%5Csecret.txt": 404,
    b"/static//etc/passwd": 404,
    b"/static/%2Fetc%2Fpasswd": 404,
    b"/static/%5C%5Cserver%5Cshare%5Csecret.txt": 404,
    b"/static/C:%5Csecret.txt": 404,
    b"/static/%00": 400,
    b"/static/..%00/secret.txt": 400,
    b"/static/%C0%AE%C0%AE/secret.txt": 400,
    b"/static/..%2Froot-private%2Fsecret.txt": 400,
    b"/static/link.txt": 404,
    b"/static/up/secret.txt": 404,
    b"/static/hello.txt%00.png": 400,
    b"/static/hello.txt::$DATA": 404,
    b"/static/CON": 404,
    b"/static/%EF%BC%8E%EF%BC%8E/secret.txt": 404,
    b"/static/..%EF%BC%8Fsecret.txt": 404,
    b"/static/..%EF%BC%BCsecret.txt": 404,
}


@pytest.mark.parametrize(("raw_path", "status"), TRAVERSALS.items(), ids=lambda v: repr(v))
def test_traversal_out_of_the_served_folder_is_refused(
    root: Path, raw_path: bytes, status: int
) -> None:
    """aiohttp CVE-2024-23334 and CVE-2024-42367, Litestar CVE-2024-32982 (GHSA-83pv-qr33-2vcf),
    Starlette CVE-2023-29159 (a sibling folder sharing the root's name as a prefix) and
    CVE-2026-48818 (GHSA-wqp7-x3pw-xc5r, UNC paths on Windows).

    Encoded dot segments, backslashes, absolute and UNC paths, drive letters and
    symlinks walked static-file handlers out of their folder; Unicode look-alikes of
    ``.``, ``/`` and ``\\`` do the same where something normalizes them (NFKC, or
    Windows "best fit" code pages).
    """
    path = raw_path.decode("latin-1")
    with answers_quickly():
        result = call_asgi(files_app(root), raw_path=raw_path, path=path)
    assert_refused(result, status)
    assert SECRET not in result.body
    assert open_files_under(root.parent) == []


def test_files_in_the_folder_are_still_served(root: Path) -> None:
    result = call_asgi(files_app(root), path="/static/hello.txt")
    assert (result.status, result.body) == (200, b"hello")


@pytest.mark.parametrize(
    ("filename", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/etc/cron.d/job", "job"),
        ("\\\\server\\share\\x.txt", "x.txt"),
        ("..", ""),
        ("dir/../c.txt", "c.txt"),
    ],
)
def test_upload_file_names_carry_no_path(filename: str, stored: str) -> None:
    """Django CVE-2021-31542 and CVE-2021-28658, python-multipart CVE-2026-24486.

    An upload's file name reached storage code with its directory parts: ``../`` wrote
    outside the upload folder.
    """
    body = multipart([("f", filename, b"data")])
    content_type = (b"content-type", b"multipart/form-data; boundary=B0und")
    result = call_asgi(
        build_app(), method="POST", path="/form", headers=[content_type], receive=Receiver([body])
    )
    assert result.status == 200
    assert result.json()["files"] == [[stored, 4]]
