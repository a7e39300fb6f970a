"""Range header abuse: many, overlapping or enormous byte ranges.

Satchel serves one range at most; anything else gets the whole file (a server may
ignore Range). Either way the header is looked at in bounded time and the file is
opened once and closed.
"""

from __future__ import annotations

import pytest

from tests.security.granian import Server, status_of
from tests.security.helpers import answers_quickly
from tests.security.served_app import SERVED_FILE, build_app
from tests.support import call_asgi, open_files_under

CONTENT = SERVED_FILE.read_bytes()
SIZE = len(CONTENT)

HOSTILE_RANGES = {
    "many": "bytes=" + ",".join(f"{i}-{i}" for i in range(20_000)),
    "overlapping": "bytes=" + ",".join("0-" for _ in range(20_000)),
    "apache-killer": "bytes=0-," + ",".join(f"5-{i}" for i in range(1, 20_000)),
    "huge-numbers": "bytes=" + "9" * 200_000 + "-" + "9" * 200_000,
    "whitespace": "bytes=" + " \t," * 100_000 + "0-1",
    "suffix": "bytes=-" + "0" * 200_000 + "1",
}


@pytest.mark.parametrize("header", HOSTILE_RANGES.values(), ids=HOSTILE_RANGES.keys())
def test_hostile_range_is_ignored_quickly(header: str) -> None:
    """Starlette CVE-2025-62727 (GHSA-7f5h-v6xp-fcq8), Apache CVE-2011-3192 ("Apache Killer").

    Merging many ranges was quadratic, and many overlapping ranges made the server
    send the file again and again in one multipart answer.
    """
    with answers_quickly():
        result = call_asgi(build_app(), path="/file", headers=[(b"range", header.encode())])
    assert result.status == 200
    assert result.body == CONTENT
    assert result.header("content-range") is None
    assert open_files_under(SERVED_FILE.parent) == []


def test_unsatisfiable_range_is_416() -> None:
    """A range past the end is refused with the size, never read past the file."""
    result = call_asgi(build_app(), path="/file", headers=[(b"range", b"bytes=%d-" % SIZE)])
    assert result.status == 416
    assert result.header("content-range") == f"bytes */{SIZE}"


@pytest.mark.parametrize("header", HOSTILE_RANGES.values(), ids=HOSTILE_RANGES.keys())
def test_hostile_range_through_granian(clean_server: Server, header: str) -> None:
    """Through a real server (which passes these headers on): one copy of the file."""
    request = (
        f"GET /file HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nRange: {header}\r\n\r\n"
    ).encode()
    with answers_quickly():
        answer = clean_server.exchange(request)
    assert status_of(answer) == 200, answer[:200]
    assert answer.endswith(b"\r\n\r\n" + CONTENT)
