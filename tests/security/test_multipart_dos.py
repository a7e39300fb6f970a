"""Multipart parsing denial of service and unbounded parts.

Each test sends one hostile shape of ``multipart/form-data`` that made a framework
spend time or memory without bound, and checks the exact answer, a quick one, and
that no temporary file or descriptor is left behind (the ``spool`` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest

from satchel import App
from tests.security.granian import Server, status_of
from tests.security.helpers import answers_quickly, assert_refused, in_chunks, multipart
from tests.security.served_app import MAX_FIELDS, MAX_FILES, MAX_UPLOAD, build_app
from tests.support import RawResponse, Receiver, call_asgi

BOUNDARY = "B0und"
CONTENT_TYPE = (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())


@pytest.fixture
def app() -> App[Any]:
    return build_app()


def post_form(
    app: App[Any], body: bytes, chunk: int = 65536, content_type: bytes = b""
) -> RawResponse:
    """POST ``body`` to /form in chunks of ``chunk`` bytes; return what the app sent."""
    header = (b"content-type", content_type) if content_type else CONTENT_TYPE
    return call_asgi(
        app, method="POST", path="/form", headers=[header], receive=Receiver(in_chunks(body, chunk))
    )


def test_crlf_flood_around_the_boundaries_is_linear(app: App[Any]) -> None:
    """python-multipart CVE-2024-53981 (GHSA-59g5-xgcq-4qw3) and GHSA-mj87-hwqh-73pj.

    Line breaks before the first boundary and after the last were skipped one byte at
    a time (with a log line each): megabytes of them stalled the event loop.
    """
    form = multipart([("a", None, b"1")])
    flood = b"\r\n" * (MAX_UPLOAD // 4)  # half the limit: the epilogue is never even read
    with answers_quickly():
        result = post_form(app, flood + form + flood)
    assert result.status == 200
    assert result.json() == {"fields": 1, "files": []}
    with answers_quickly():
        result = post_form(app, b"\r\n" * MAX_UPLOAD + form)
    assert_refused(result, 413)


def test_large_part_starting_with_a_line_break_is_linear(app: App[Any]) -> None:
    """Werkzeug CVE-2023-46136 (GHSA-hrfv-mqp8-q5rw).

    A part that starts with CR or LF, followed by megabytes without one, made the
    boundary search rescan the buffer on every chunk: quadratic time.
    """
    content = b"\r" + b"\0" * (MAX_UPLOAD - 4096)
    with answers_quickly():
        result = post_form(app, multipart([("f", "dump.bin", content)]), chunk=4096)
    assert result.status == 200
    assert result.json() == {"fields": 0, "files": [["dump.bin", len(content)]]}


@pytest.mark.parametrize(
    ("parts", "what"),
    [
        ([("f", None, b"")] * 20_000, "fields"),
        ([("f", "a.txt", b"")] * 2_000, "files"),
    ],
    ids=["fields", "files"],
)
def test_unbounded_number_of_parts_is_413(
    app: App[Any], parts: list[tuple[str, str | None, bytes]], what: str
) -> None:
    """Werkzeug CVE-2023-25577, Django CVE-2023-24580, Starlette 0.25.0's field and file limits.

    Tens of thousands of tiny parts cost memory and CPU per part, and one open file each
    ("too many open files"); the limits stop the parse at the first part over.
    """
    with answers_quickly():
        result = post_form(app, multipart(parts))
    body = assert_refused(result, 413)
    limit = MAX_FIELDS if what == "fields" else MAX_FILES
    assert str(limit) in body["detail"]


def test_huge_text_field_is_413(app: App[Any]) -> None:
    """Starlette CVE-2024-47874 (GHSA-f96h-pmfr-66vw), Werkzeug CVE-2024-49767.

    A part without a filename was buffered in memory with no size limit (Werkzeug's
    ``max_form_memory_size`` could be bypassed the same way).
    """
    result = post_form(app, multipart([("essay", None, b"x" * (MAX_UPLOAD - 1024))]))
    assert_refused(result, 413)


def test_endless_part_headers_are_431(app: App[Any]) -> None:
    """python-multipart GHSA-pp6c-gr5w-3c5g (CVE-2026-42561).

    A part's header block that never ends (or one huge header) was parsed without bound.
    """
    head = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n".encode()
    for flood in (b"X-A: b\r\n" * 100_000, b"X-A: " + b"b" * 500_000):
        with answers_quickly():
            result = post_form(app, head + flood)
        assert_refused(result, 431)


@pytest.mark.parametrize(
    "content_type",
    [
        b'multipart/form-data; boundary="' + b"\\" * 50_000 + b"a",
        b"multipart/form-data; " + b"a=b; " * 50_000 + b"boundary=x",
        b"multipart/form-data; boundary=" + b"-" * 50_000,
    ],
    ids=["escapes", "many-parameters", "long-boundary"],
)
def test_hostile_content_type_is_400_without_backtracking(
    app: App[Any], content_type: bytes
) -> None:
    """python-multipart CVE-2024-24762 (GHSA-2jv5-9r88-3w3p), FastAPI GHSA-qf9m-vfgh-m389.

    A regular expression parsing Content-Type options backtracked exponentially.
    """
    with answers_quickly():
        result = post_form(app, multipart([("a", None, b"1")]), content_type=content_type)
    assert_refused(result, 400)


def test_urlencoded_form_obeys_the_same_limits(app: App[Any]) -> None:
    """Starlette GHSA-82w8-qh3p-5jfq: field limits were ignored for urlencoded forms."""
    many = b"&".join(b"f%d=v" % i for i in range(20_000))
    with answers_quickly():
        result = post_form(app, many, content_type=b"application/x-www-form-urlencoded")
    assert_refused(result, 413)


def test_too_many_parts_through_granian(clean_server: Server) -> None:
    """The same part flood over a real socket: a 413, and the worker keeps no file open."""
    body = multipart([("f", f"{i}.bin", b"y" * 2048) for i in range(MAX_FILES + 1)])
    request = (
        b"POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: " + CONTENT_TYPE[1] + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    with answers_quickly():
        answer = clean_server.exchange(request)
    assert status_of(answer) == 413
