"""Tests for decoding and vetting the request path before routing."""

from __future__ import annotations

import pytest

from satchel import BadRequest, HTTPError
from satchel.paths import MAX_PATH_LENGTH, check_path, decode_path


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b"/", "/"),
        (b"/plain/path", "/plain/path"),
        (b"/caf%C3%A9", "/caf\u00e9"),
        (b"/caf\xc3\xa9", "/caf\u00e9"),
        (b"/a%20b", "/a b"),
        (b"/a%2Fb", "/a/b"),
        (b"/.well-known/x", "/.well-known/x"),
        (b"/a/.../b", "/a/.../b"),
        (b"/a/..b", "/a/..b"),
        (b"/a.", "/a."),
        (b"/%", "/%"),
        (b"/%zz", "/%zz"),
        (b"/" + b"a" * (MAX_PATH_LENGTH - 1), "/" + "a" * (MAX_PATH_LENGTH - 1)),
    ],
)
def test_decode_path_accepts(raw: bytes, path: str) -> None:
    assert decode_path(raw) == path


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"/%FF", "not valid UTF-8"),
        (b"/\xff", "not valid UTF-8"),
        (b"/%C0%AF", "not valid UTF-8"),
        (b"/%E0%80%AF", "not valid UTF-8"),
        (b"/%ED%A0%80", "not valid UTF-8"),
        (b"/%EF%BF%BD", "not valid UTF-8"),
        (b"/a%00b", "control character"),
        (b"/nope%0D%0A1.2.3.4%20%22GET%20/admin%22%20200", "control character"),
        (b"/a%7Fb", "control character"),
        (b"/a/../b", "'.' or '..' segment"),
        (b"/a/%2e%2e/b", "'.' or '..' segment"),
        (b"/a/%2E/b", "'.' or '..' segment"),
        (b"/..", "'.' or '..' segment"),
        (b"/a/.", "'.' or '..' segment"),
        (b"/a%2F..%2Fb", "'.' or '..' segment"),
        (b"relative", "must start with '/'"),
    ],
)
def test_decode_path_refuses(raw: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        decode_path(raw)


def test_decode_path_too_long_is_414() -> None:
    with pytest.raises(HTTPError) as info:
        decode_path(b"/" + b"a" * MAX_PATH_LENGTH)
    assert info.value.status_code == 414


def test_check_path() -> None:
    assert check_path("/ok") == "/ok"
    with pytest.raises(BadRequest, match="not valid UTF-8"):
        check_path("/bad\ufffd")
    with pytest.raises(BadRequest, match="control character"):
        check_path("/\x00")
    with pytest.raises(BadRequest, match="segment"):
        check_path("/x/./y")
    with pytest.raises(BadRequest, match="start with"):
        check_path("")
    with pytest.raises(HTTPError) as info:
        check_path("/" * (MAX_PATH_LENGTH + 1))
    assert info.value.status_code == 414
