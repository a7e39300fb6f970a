"""FileResponse and safe_join, through the ASGI adapter and a real Granian server."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from satchel import App, FileResponse, Headers, NotFound, Request, Settings, safe_join
from satchel.files import MAX_RANGE_HEADER, content_disposition_value
from tests.servers import ServerKind, serve

MTIME = 1_700_000_000
HELLO = b"0123456789abcdefghij"
BIG = bytes(range(256)) * 1200  # several read chunks
ETAG = f'"{MTIME * 10**9:x}-{len(HELLO):x}"'
LAST_MODIFIED = formatdate(MTIME, usegmt=True)
REPO_ROOT = Path(__file__).resolve().parent.parent
HOSTILE_TIME_BOUND_S = 2.0

HOSTILE_RANGES = [
    "bytes=" + "0-1," * 10_000,
    "bytes=" + " " * 100_000 + "0-1",
    "bytes=" + "9" * 100_000 + "-",
    "bytes=-" + "9" * 100_000,
    "bytes=" + ",".join(f"{i}-{i}" for i in range(5_000)),
    "bytes=" + "\t ," * 30_000 + "0-1",
]


def populate(root: Path) -> None:
    """Write the files the tests serve, with a fixed modification time."""
    files = {
        "hello.txt": HELLO,
        "page.html": b"<p>hi</p>",
        "image.png": b"\x89PNG\r\n\x1a\n",
        "data.json": b"{}",
        "archive.tar.gz": b"\x1f\x8b",
        "blob": b"\x00\x01",
        "empty.txt": b"",
        "big.bin": BIG,
        "docs/guide.txt": b"guide",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, ns=(MTIME * 10**9, MTIME * 10**9))


def build_app(root: Path) -> App[Any]:
    """An app serving ``root`` the way a handler should: user paths through safe_join."""
    app = App(settings=Settings(access_log=False))

    @app.route("/files/{name:path}", ("GET", "POST"))
    async def files(name: str) -> FileResponse:
        path = safe_join(root, name)
        if path is None:
            raise NotFound()
        return FileResponse(path, headers={"cache-control": "max-age=60"})

    @app.get("/download/{name:path}")
    async def download(request: Request, name: str) -> FileResponse:
        filename = request.query_params.get("as") or name
        return FileResponse(root / name, filename=filename)

    @app.get("/inline")
    async def inline() -> FileResponse:
        return FileResponse(root / "page.html", content_disposition="inline")

    @app.get("/typed")
    async def typed() -> FileResponse:
        return FileResponse(root / "blob", media_type="text/csv")

    @app.get("/tagged")
    async def tagged() -> FileResponse:
        return FileResponse(root / "hello.txt", headers={"etag": 'W/"v1"'})

    @app.get("/not-found-page")
    async def not_found_page() -> FileResponse:
        return FileResponse(root / "page.html", status_code=404)

    @app.get("/known-stat")
    async def known_stat() -> FileResponse:
        path = root / "hello.txt"
        return FileResponse(path, stat_result=path.stat())

    return app


def app_from_env() -> App[Any]:
    """The factory the Granian subprocess calls."""
    return build_app(Path(os.environ["SATCHEL_TEST_FILES_ROOT"]))


# -- calling the ASGI app directly -------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: Headers
    body: bytes


def asgi_request(
    app: App[Any], method: str, path: str, headers: Mapping[str, str] | None = None
) -> Reply:
    """Send one request to ``app`` through its ASGI entry and collect the answer."""
    path, _, query = path.partition("?")
    raw_headers = [(b"host", b"testserver")]
    raw_headers += [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    start, *bodies = messages
    assert start["type"] == "http.response.start"
    decoded = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return Reply(start["status"], Headers(decoded), b"".join(m.get("body", b"") for m in bodies))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    served = tmp_path / "root"
    served.mkdir()
    populate(served)
    return served


@pytest.fixture
def app(root: Path) -> App[Any]:
    return build_app(root)


def get(app: App[Any], path: str, **headers: str) -> Reply:
    return asgi_request(app, "GET", path, {k.replace("_", "-"): v for k, v in headers.items()})


# -- whole files, types and validators ---------------------------------------------------------


def test_whole_file_with_validators(app: App[Any]) -> None:
    reply = get(app, "/files/hello.txt")
    assert reply.status == 200
    assert reply.body == HELLO
    assert reply.headers["content-length"] == str(len(HELLO))
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert reply.headers["etag"] == ETAG
    assert reply.headers["last-modified"] == LAST_MODIFIED
    assert reply.headers["accept-ranges"] == "bytes"
    assert reply.headers["cache-control"] == "max-age=60"
    assert "content-disposition" not in reply.headers


def test_big_file_is_sent_whole(app: App[Any]) -> None:
    reply = get(app, "/files/big.bin")
    assert reply.status == 200
    assert reply.body == BIG
    assert reply.headers["content-length"] == str(len(BIG))


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("page.html", "text/html; charset=utf-8"),
        ("image.png", "image/png"),
        ("data.json", "application/json"),
        ("archive.tar.gz", "application/gzip"),
        ("blob", "application/octet-stream"),
        ("docs/guide.txt", "text/plain; charset=utf-8"),
    ],
)
def test_media_type_is_guessed_from_the_name(app: App[Any], name: str, media_type: str) -> None:
    assert get(app, f"/files/{name}").headers["content-type"] == media_type


def test_explicit_media_type_wins(app: App[Any]) -> None:
    assert get(app, "/typed").headers["content-type"] == "text/csv; charset=utf-8"


def test_empty_file(app: App[Any]) -> None:
    reply = get(app, "/files/empty.txt")
    assert (reply.status, reply.body, reply.headers["content-length"]) == (200, b"", "0")
    assert reply.headers["etag"] == f'"{MTIME * 10**9:x}-0"'


def test_known_stat_result_is_used(app: App[Any]) -> None:
    reply = get(app, "/known-stat")
    assert (reply.status, reply.body, reply.headers["etag"]) == (200, HELLO, ETAG)


def test_other_status_sends_whole_file_and_ignores_conditions(app: App[Any]) -> None:
    reply = get(app, "/not-found-page", if_none_match="*", range="bytes=0-1")
    assert (reply.status, reply.body) == (404, b"<p>hi</p>")


# -- missing and unreadable files --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/files/nope.txt", "/files/docs", "/files/hello.txt/x"])
def test_missing_file_or_directory_is_404(app: App[Any], path: str) -> None:
    reply = get(app, path)
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert b'"status":404' in reply.body
    # The developer's headers were for the file, not for an error.
    assert "cache-control" not in reply.headers
    assert "etag" not in reply.headers


def test_missing_file_for_a_browser_is_an_html_404(app: App[Any]) -> None:
    reply = get(app, "/files/nope.txt", accept="text/html")
    assert reply.status == 404
    assert reply.headers["content-type"].startswith("text/html")


def test_missing_file_on_head_has_no_body(app: App[Any]) -> None:
    reply = asgi_request(app, "HEAD", "/files/nope.txt")
    assert (reply.status, reply.body) == (404, b"")


def test_symlink_loop_is_404(root: Path) -> None:
    (root / "loop").symlink_to(root / "loop")
    reply = get(build_app(root), "/download/loop")
    assert reply.status == 404


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_404_without_blocking(root: Path) -> None:
    os.mkfifo(root / "pipe")
    assert get(build_app(root), "/download/pipe").status == 404


def test_path_with_nul_is_404(root: Path) -> None:
    app = App(settings=Settings(access_log=False))

    @app.get("/")
    async def index() -> FileResponse:
        return FileResponse(f"{root}/hello.txt\0")

    assert get(app, "/").status == 404


def test_unreadable_file_is_404(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # CI runs as root, which reads any file whatever its mode: make open() refuse instead.
    real_open = os.open

    def refuse(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("hello.txt"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    assert get(build_app(root), "/files/hello.txt").status == 404


# -- conditional requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "if_none_match",
    [ETAG, f"W/{ETAG}", f'"other", {ETAG}', "*", f' "x" ,W/{ETAG} '],
)
def test_if_none_match_gives_304(app: App[Any], if_none_match: str) -> None:
    reply = get(app, "/files/hello.txt", if_none_match=if_none_match)
    assert reply.status == 304
    assert reply.body == b""
    assert reply.headers["etag"] == ETAG
    assert reply.headers["last-modified"] == LAST_MODIFIED
    assert reply.headers["cache-control"] == "max-age=60"
    assert "content-type" not in reply.headers


@pytest.mark.parametrize("if_none_match", ['"other"', 'W/"other"', "", "garbage"])
def test_if_none_match_mismatch_gives_200(app: App[Any], if_none_match: str) -> None:
    assert get(app, "/files/hello.txt", if_none_match=if_none_match).status == 200


def test_if_none_match_on_post_gives_412(app: App[Any]) -> None:
    reply = asgi_request(app, "POST", "/files/hello.txt", {"if-none-match": ETAG})
    assert reply.status == 412


def test_head_if_none_match_gives_304(app: App[Any]) -> None:
    reply = asgi_request(app, "HEAD", "/files/hello.txt", {"if-none-match": ETAG})
    assert (reply.status, reply.body) == (304, b"")


@pytest.mark.parametrize(
    ("since", "status"),
    [
        (LAST_MODIFIED, 304),
        (formatdate(MTIME + 3600, usegmt=True), 304),
        (formatdate(MTIME - 1, usegmt=True), 200),
        ("Tue, 14 Nov 2023 23:13:20 +0100", 200),  # not an HTTP-date (GMT only): ignored
        ("Tuesday, 14-Nov-23 22:13:20 GMT", 304),  # obsolete RFC 850 form
        ("Tue Nov 14 22:13:20 2023", 304),
        ("not a date", 200),
        ("x" * 10_000, 200),
    ],
)
def test_if_modified_since(app: App[Any], since: str, status: int) -> None:
    assert get(app, "/files/hello.txt", if_modified_since=since).status == status


def test_if_none_match_takes_precedence_over_if_modified_since(app: App[Any]) -> None:
    reply = get(app, "/files/hello.txt", if_none_match='"other"', if_modified_since=LAST_MODIFIED)
    assert reply.status == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"if-match": '"other"'}, 412),
        ({"if-match": f"W/{ETAG}"}, 412),  # If-Match compares strongly
        ({"if-match": ETAG}, 200),
        ({"if-match": f'"a", {ETAG}'}, 200),
        ({"if-match": "*"}, 200),
        ({"if-unmodified-since": formatdate(MTIME - 1, usegmt=True)}, 412),
        ({"if-unmodified-since": LAST_MODIFIED}, 200),
        ({"if-unmodified-since": "nonsense"}, 200),
        # If-Match is evaluated instead of If-Unmodified-Since.
        ({"if-match": ETAG, "if-unmodified-since": formatdate(0, usegmt=True)}, 200),
    ],
)
def test_preconditions(app: App[Any], headers: dict[str, str], status: int) -> None:
    reply = asgi_request(app, "GET", "/files/hello.txt", headers)
    assert reply.status == status
    if status == 412:
        assert reply.body == b""
        assert "content-type" not in reply.headers


def test_developer_etag_is_used(app: App[Any]) -> None:
    reply = get(app, "/tagged")
    assert reply.headers.getall("etag") == ['W/"v1"']
    assert get(app, "/tagged", if_none_match='"v1"').status == 304
    # A weak tag never satisfies If-Range, so the whole file comes back.
    assert get(app, "/tagged", if_range='W/"v1"', range="bytes=0-1").status == 200


# -- ranges ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-4", 0, 5),
        ("bytes=5-", 5, 20),
        ("bytes=-3", 17, 20),
        ("bytes=0-0", 0, 1),
        ("bytes=19-19", 19, 20),
        ("bytes=10-999", 10, 20),
        ("bytes=-999", 0, 20),
        ("Bytes=1-2", 1, 3),
        ("bytes= 1-2 ", 1, 3),
        ("bytes=1-2,", 1, 3),
        ("bytes=0-" + "9" * 1000, 0, 20),
    ],
)
def test_single_range_gives_206(app: App[Any], header: str, start: int, end: int) -> None:
    reply = get(app, "/files/hello.txt", range=header)
    assert reply.status == 206
    assert reply.body == HELLO[start:end]
    assert reply.headers["content-range"] == f"bytes {start}-{end - 1}/{len(HELLO)}"
    assert reply.headers["content-length"] == str(end - start)
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert reply.headers["etag"] == ETAG


def test_range_of_a_big_file(app: App[Any]) -> None:
    reply = get(app, "/files/big.bin", range="bytes=1000-200000")
    assert reply.status == 206
    assert reply.body == BIG[1000:200001]


@pytest.mark.parametrize(
    ("name", "header", "size"),
    [
        ("hello.txt", "bytes=20-", 20),
        ("hello.txt", "bytes=100-200", 20),
        ("hello.txt", "bytes=-0", 20),
        ("empty.txt", "bytes=0-", 0),
        ("empty.txt", "bytes=-5", 0),
    ],
)
def test_unsatisfiable_range_gives_416(app: App[Any], name: str, header: str, size: int) -> None:
    reply = get(app, f"/files/{name}", range=header)
    assert reply.status == 416
    assert reply.headers["content-range"] == f"bytes */{size}"
    assert reply.body == b""
    assert "content-type" not in reply.headers


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,5-6",  # several ranges: multipart/byteranges is not supported
        "bytes=0-1, 3-",
        "bytes=5-2",
        "bytes=-",
        "bytes=abc",
        "bytes=1 - 2",
        "bytes=0x1-2",
        "bytes=+1-2",
        "bytes=\u00b2-3",  # a superscript two is a digit to str.isdigit
        "items=0-1",
        "bytes",
        "",
        "bytes=0-" + "9" * MAX_RANGE_HEADER,
    ],
)
def test_ignored_range_gives_whole_file(app: App[Any], header: str) -> None:
    reply = get(app, "/files/hello.txt", range=header)
    assert (reply.status, reply.body) == (200, HELLO)
    assert "content-range" not in reply.headers


def test_range_on_post_is_ignored(app: App[Any]) -> None:
    reply = asgi_request(app, "POST", "/files/hello.txt", {"range": "bytes=0-1"})
    assert (reply.status, reply.body) == (200, HELLO)


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        (ETAG, 206),
        ('"other"', 200),
        (f"W/{ETAG}", 200),
        (LAST_MODIFIED, 206),
        (formatdate(MTIME - 1, usegmt=True), 200),
        (formatdate(MTIME + 1, usegmt=True), 200),
        ("garbage", 200),
    ],
)
def test_if_range(app: App[Any], if_range: str, status: int) -> None:
    reply = get(app, "/files/hello.txt", range="bytes=0-1", if_range=if_range)
    assert reply.status == status
    assert reply.body == (HELLO[:2] if status == 206 else HELLO)


def test_hostile_range_headers_answer_fast(app: App[Any]) -> None:
    started = time.perf_counter()
    for header in HOSTILE_RANGES:
        reply = get(app, "/files/hello.txt", range=header)
        assert (reply.status, reply.body) == (200, HELLO)
    assert time.perf_counter() - started < HOSTILE_TIME_BOUND_S


# -- HEAD --------------------------------------------------------------------------------------


def test_head_has_headers_and_no_body(app: App[Any]) -> None:
    reply = asgi_request(app, "HEAD", "/files/big.bin")
    assert reply.status == 200
    assert reply.body == b""
    assert reply.headers["content-length"] == str(len(BIG))
    assert reply.headers["etag"] == f'"{MTIME * 10**9:x}-{len(BIG):x}"'


def test_head_with_range(app: App[Any]) -> None:
    reply = asgi_request(app, "HEAD", "/files/hello.txt", {"range": "bytes=2-5"})
    assert (reply.status, reply.body) == (206, b"")
    assert reply.headers["content-length"] == "4"
    assert reply.headers["content-range"] == "bytes 2-5/20"


# -- Content-Disposition -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        ("my report.pdf", 'attachment; filename="my report.pdf"'),
        (
            'say "hi".txt',
            "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt",
        ),
        (
            "evil\r\nSet-Cookie: a=b;.txt",
            'attachment; filename="evilSet-Cookie: a=b_.txt"; '
            "filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20a%3Db%3B.txt",
        ),
        (
            "r\u00e9sum\u00e9.pdf",
            "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        (
            "\u62a5\u544a.pdf",
            "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf",
        ),
        ("a\\b/c.txt", "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%5Cb%2Fc.txt"),
        ("\r\n", "attachment; filename=\"download\"; filename*=UTF-8''%0D%0A"),
    ],
)
def test_content_disposition(root: Path, filename: str, expected: str) -> None:
    response = FileResponse(root / "hello.txt", filename=filename)
    value = response.headers["content-disposition"]
    assert value == expected
    assert not any(c in value for c in "\r\n\0")
    if "filename*=" in value:
        assert unquote(value.split("UTF-8''", 1)[1], errors="strict") == filename


def test_content_disposition_through_the_adapter(app: App[Any]) -> None:
    name = quote('na\u00efve "x"\r\n.txt')
    reply = get(app, f"/download/hello.txt?as={name}")
    assert reply.status == 200
    assert reply.headers["content-disposition"] == (
        "attachment; filename=\"naive _x_.txt\"; filename*=UTF-8''na%C3%AFve%20%22x%22%0D%0A.txt"
    )


def test_inline_and_explicit_disposition(root: Path, app: App[Any]) -> None:
    assert get(app, "/inline").headers["content-disposition"] == "inline"
    response = FileResponse(root / "x.bin", filename="a.txt", content_disposition="inline")
    assert response.headers["content-disposition"] == 'inline; filename="a.txt"'
    own = FileResponse(root / "x.bin", filename="a.txt", headers={"content-disposition": "inline"})
    assert own.headers["content-disposition"] == "inline"
    with pytest.raises(ValueError, match="attachment"):
        content_disposition_value("evil", "a")  # type: ignore[arg-type]


# -- safe_join ---------------------------------------------------------------------------------


def test_safe_join_accepts_paths_under_root(tmp_path: Path) -> None:
    base = tmp_path.resolve()
    (base / "docs").mkdir()
    (base / "docs" / "a.txt").write_text("a")
    (base / "link").symlink_to(base / "docs")
    assert safe_join(tmp_path, "docs/a.txt") == base / "docs" / "a.txt"
    assert safe_join(str(tmp_path), "./docs//a.txt") == base / "docs" / "a.txt"
    assert safe_join(tmp_path, "link/a.txt") == base / "docs" / "a.txt"
    assert safe_join(tmp_path, "not/yet/there.txt") == base / "not" / "yet" / "there.txt"
    assert safe_join(tmp_path, "caf\u00e9 menu.txt") == base / "caf\u00e9 menu.txt"
    # Already decoded once: a literal "%2e%2e" is a file name, not a parent directory.
    assert safe_join(tmp_path, "%2e%2e/x") == base / "%2e%2e" / "x"
    assert safe_join(tmp_path, "") == base


@pytest.mark.parametrize(
    "untrusted",
    [
        "..",
        "../secret.txt",
        "docs/../../secret.txt",
        "docs/..",
        "/etc/passwd",
        "//server/share",
        "..\\secret.txt",
        "docs\\a.txt",
        "C:/Windows/win.ini",
        "C:secret",
        "c:",
        "docs/file.txt:stream",
        "a\0b",
        "a\nb",
        "a\x7fb",
        "a\u202eb",  # right-to-left override
        "CON",
        "con",
        "nul.txt",
        "docs/AUX",
        "COM1",
        "lpt9.log",
        "com\u00b9",
        "CON .txt",
        "conout$",
        "trailing.",
        "trailing ",
        "...",
        ". .",
    ],
)
def test_safe_join_refuses_escapes(tmp_path: Path, untrusted: str) -> None:
    assert safe_join(tmp_path, untrusted) is None


def test_safe_join_refuses_symlinks_out_of_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "out").symlink_to(outside)
    (root / "secret-link.txt").symlink_to(outside / "secret.txt")
    (root / "loop").symlink_to(root / "loop")
    assert safe_join(root, "out/secret.txt") is None
    assert safe_join(root, "out") is None
    assert safe_join(root, "secret-link.txt") is None
    assert safe_join(root, "loop") in (None, root.resolve() / "loop")


def test_traversal_through_the_app_is_404(app: App[Any], root: Path) -> None:
    (root.parent / "secret.txt").write_text("secret")
    for path in ("/files/../secret.txt", "/files/..%2Fsecret.txt", "/files/%2E%2E/secret.txt"):
        reply = get(app, path)
        assert reply.status == 400  # dot segments are refused before routing
        assert b"secret" not in reply.body


# -- a real Granian server ---------------------------------------------------------------------


@pytest.fixture(scope="module", params=["granian-rsgi", "granian-asgi"], ids=["rsgi", "asgi"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    kind: ServerKind = request.param
    served = tmp_path_factory.mktemp("served")
    populate(served)
    with serve(
        kind,
        "tests.test_files:app_from_env",
        cwd=REPO_ROOT,
        options=["--workers", "1", "--no-ws", "--log-level", "warning", "--factory"],
        env={"SATCHEL_TEST_FILES_ROOT": str(served)},
        log=served.parent / f"{kind}.log",
    ) as url:
        yield url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=10) as client:
        yield client


def test_server_whole_files(client: httpx.Client) -> None:
    for name, content in (("hello.txt", HELLO), ("big.bin", BIG), ("empty.txt", b"")):
        response = client.get(f"/files/{name}")
        assert response.status_code == 200
        assert response.content == content
        assert response.headers["content-length"] == str(len(content))
        assert response.headers.get("transfer-encoding") is None
    response = client.get("/files/hello.txt")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["etag"] == ETAG
    assert response.headers["last-modified"] == LAST_MODIFIED


@pytest.mark.parametrize(
    ("name", "header", "start", "end"),
    [
        ("hello.txt", "bytes=0-4", 0, 5),
        ("hello.txt", "bytes=5-", 5, 20),
        ("hello.txt", "bytes=-3", 17, 20),
        ("hello.txt", "bytes=0-0", 0, 1),
        ("hello.txt", "bytes=19-", 19, 20),
        ("hello.txt", "bytes=3-999", 3, 20),
        ("big.bin", "bytes=70000-250000", 70000, 250001),
    ],
)
def test_server_ranges(client: httpx.Client, name: str, header: str, start: int, end: int) -> None:
    """These also pin Granian's response_file_range end as exclusive."""
    content = HELLO if name == "hello.txt" else BIG
    response = client.get(f"/files/{name}", headers={"range": header})
    assert response.status_code == 206
    assert response.content == content[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(content)}"
    assert response.headers["content-length"] == str(end - start)


def test_server_unsatisfiable_and_multiple_ranges(client: httpx.Client) -> None:
    response = client.get("/files/hello.txt", headers={"range": "bytes=20-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */20"
    response = client.get("/files/hello.txt", headers={"range": "bytes=0-1,4-5"})
    assert (response.status_code, response.content) == (200, HELLO)


def test_server_conditionals(client: httpx.Client) -> None:
    response = client.get("/files/hello.txt", headers={"if-none-match": ETAG})
    assert (response.status_code, response.content) == (304, b"")
    assert response.headers["etag"] == ETAG
    response = client.get("/files/hello.txt", headers={"if-modified-since": LAST_MODIFIED})
    assert response.status_code == 304
    response = client.get("/files/hello.txt", headers={"if-match": '"nope"'})
    assert response.status_code == 412
    response = client.get("/files/hello.txt", headers={"range": "bytes=0-1", "if-range": '"x"'})
    assert (response.status_code, response.content) == (200, HELLO)
    response = client.get("/files/hello.txt", headers={"range": "bytes=0-1", "if-range": ETAG})
    assert (response.status_code, response.content) == (206, HELLO[:2])


def test_server_head(client: httpx.Client) -> None:
    response = client.head("/files/big.bin")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-length"] == str(len(BIG))
    response = client.head("/files/big.bin", headers={"range": "bytes=10-19"})
    assert (response.status_code, response.content) == (206, b"")
    assert response.headers["content-length"] == "10"
    assert response.headers["content-range"] == f"bytes 10-19/{len(BIG)}"
    response = client.head("/files/nope.txt")
    assert (response.status_code, response.content) == (404, b"")


def test_server_missing_file_and_traversal(client: httpx.Client) -> None:
    response = client.get("/files/nope.txt")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/files/..%2F..%2Fetc%2Fpasswd").status_code == 400
    assert client.get("/files/docs").status_code == 404


def test_server_content_disposition(client: httpx.Client) -> None:
    response = client.get("/download/hello.txt", params={"as": 'r\u00e9sum\u00e9 "1"\r\n.txt'})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        'attachment; filename="resume _1_.txt"; '
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22%0D%0A.txt"
    )


def test_server_hostile_ranges_answer_fast(client: httpx.Client) -> None:
    started = time.perf_counter()
    for header in HOSTILE_RANGES:
        response = client.get("/files/hello.txt", headers={"range": header})
        # Granian may refuse a header that large outright; either way it is fast.
        assert response.status_code in (200, 400, 413, 431)
        if response.status_code == 200:
            assert response.content == HELLO
    assert time.perf_counter() - started < HOSTILE_TIME_BOUND_S * len(HOSTILE_RANGES)


def test_304_carries_no_content_length(app: App[Any]) -> None:
    reply = asgi_request(app, "GET", "/files/hello.txt", {"if-none-match": ETAG})
    assert reply.status == 304
    assert "content-length" not in dict(reply.headers)
