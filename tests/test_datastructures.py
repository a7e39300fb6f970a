"""Tests for headers, multi-valued mappings, query strings, URLs and header parsers."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from satchel import URL, BadRequest, Headers, MultiDict, QueryParams
from satchel.datastructures import MAX_COOKIES, parse_cookie_header, parse_options_header

# -- Headers -----------------------------------------------------------------------------------


def test_headers_lookup() -> None:
    headers = Headers([("Content-Type", "text/html"), ("X-Tag", "a"), ("x-tag", "b")])
    assert headers["content-type"] == "text/html"
    assert headers.get("X-TAG") == "a"
    assert headers.get("missing") is None
    assert headers.get("missing", "default") == "default"
    assert headers.getall("x-tag") == ["a", "b"]
    assert headers.getall("missing") == []
    assert list(headers) == ["content-type", "x-tag"]
    assert len(headers) == 2
    assert "X-Tag" in headers
    assert 42 not in headers  # type: ignore[comparison-overlap]
    assert headers.multi_items() == [("content-type", "text/html"), ("x-tag", "a"), ("x-tag", "b")]
    with pytest.raises(KeyError):
        _ = headers["missing"]


def test_headers_from_mapping_and_equality() -> None:
    one = Headers({"A": "1", "B": "2"})
    two = Headers([("b", "2"), ("a", "1")])
    assert one == two
    assert one != Headers([("a", "1")])
    assert one.__eq__("a: 1") is NotImplemented
    assert repr(Headers([("a", "1")])) == "Headers([('a', '1')])"
    with pytest.raises(TypeError):
        hash(one)


def test_headers_from_lowercase_does_not_copy() -> None:
    items = [("a", "1")]
    headers = Headers.from_lowercase(items)
    items.append(("b", "2"))
    assert headers["b"] == "2"


def test_get_single() -> None:
    headers = Headers([("host", "a"), ("host", "a"), ("length", "1"), ("length", "2")])
    assert headers.get_single("host") == "a"
    assert headers.get_single("missing") is None
    with pytest.raises(BadRequest, match="Conflicting length headers"):
        headers.get_single("length")


# -- MultiDict and QueryParams -----------------------------------------------------------------


def test_multidict() -> None:
    multi = MultiDict([("a", 1), ("b", 2), ("a", 3)])
    assert multi["a"] == 1
    assert multi.getall("a") == [1, 3]
    assert multi.getall("z") == []
    assert list(multi) == ["a", "b"]
    assert len(multi) == 2
    assert dict(multi) == {"a": 1, "b": 2}
    assert multi.multi_items() == [("a", 1), ("b", 2), ("a", 3)]
    assert multi == MultiDict([("a", 1), ("b", 2), ("a", 3)])
    assert multi != MultiDict([("a", 1), ("b", 2)])
    assert multi.__eq__({"a": 1}) is NotImplemented
    assert repr(MultiDict({"x": 1})) == "MultiDict([('x', 1)])"
    with pytest.raises(KeyError):
        _ = multi["z"]
    with pytest.raises(TypeError):
        hash(multi)


def test_query_params_parse() -> None:
    params = QueryParams.parse("q=sat+chel&tag=a&tag=b&empty=&flag&enc=%C3%A9%26")
    assert params["q"] == "sat chel"
    assert params.getall("tag") == ["a", "b"]
    assert params["empty"] == ""
    assert params["flag"] == ""
    assert params["enc"] == "é&"
    assert repr(QueryParams.parse("a=1")) == "QueryParams([('a', '1')])"
    assert len(QueryParams.parse("")) == 0


def test_query_params_limits() -> None:
    assert len(QueryParams.parse("a=1&b=2", max_fields=2)) == 2
    with pytest.raises(BadRequest, match=r"Too many query parameters \(limit 2\)"):
        QueryParams.parse("a=1&b=2&c=3", max_fields=2)
    with pytest.raises(BadRequest, match="not valid UTF-8"):
        QueryParams.parse("a=%FF")


# -- URL ---------------------------------------------------------------------------------------


def test_url_parts() -> None:
    url = URL("https://user@example.com:8443/a/b?x=1#frag")
    assert url.scheme == "https"
    assert url.netloc == "user@example.com:8443"
    assert url.host == "example.com"
    assert url.port == 8443
    assert url.path == "/a/b"
    assert url.query == "x=1"
    assert url.fragment == "frag"
    assert str(url) == "https://user@example.com:8443/a/b?x=1#frag"
    assert repr(url) == "URL('https://user@example.com:8443/a/b?x=1#frag')"


def test_url_relative_and_bad_port() -> None:
    relative = URL("/only/path")
    assert (relative.host, relative.port, relative.scheme) == ("", None, "")
    assert URL("http://example.com:notaport/").port is None


def test_url_build_replace_and_equality() -> None:
    url = URL.build(scheme="http", netloc="testserver", path="/p", query="a=1")
    assert str(url) == "http://testserver/p?a=1"
    assert str(URL.build(scheme="http", netloc="h", path="/")) == "http://h/"
    assert str(url.replace(scheme="https", query="")) == "https://testserver/p"
    assert url == "http://testserver/p?a=1"
    assert url == URL("http://testserver/p?a=1")
    assert url != URL("http://testserver/p")
    assert url.__eq__(42) is NotImplemented
    assert hash(url) == hash("http://testserver/p?a=1")
    assert len({url, URL("http://testserver/p?a=1")}) == 1


# -- cookies -----------------------------------------------------------------------------------


def test_parse_cookie_header() -> None:
    assert parse_cookie_header('a=1; b="two"; =__Host-x=evil; a=3') == {"a": "1", "b": "two"}
    assert parse_cookie_header("") == {}
    assert parse_cookie_header("  spaced  =  value  ") == {"spaced": "value"}
    assert parse_cookie_header("k=v=w") == {"k": "v=w"}
    assert parse_cookie_header('q="') == {"q": '"'}


def test_parse_cookie_header_drops_bad_names() -> None:
    header = 'a b=1; c"d=2; e,f=3; g\\h=4; i\tj=5; \x00k=6; l\x7f=7; ok=8; noequals'
    assert parse_cookie_header(header) == {"ok": "8"}


def test_parse_cookie_header_is_bounded() -> None:
    header = "; ".join(f"k{i}=v" for i in range(MAX_COOKIES * 4))
    cookies = parse_cookie_header(header)
    assert len(cookies) == MAX_COOKIES
    # Empty chunks count too, so a header of separators cannot make it loop long.
    assert parse_cookie_header(";" * 100_000 + "late=1") == {}


# -- options headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text/html", ("text/html", {})),
        ("Text/HTML ; Charset=UTF-8", ("text/html", {"charset": "UTF-8"})),
        (
            'multipart/form-data; boundary="a b"; charset=UTF-8',
            ("multipart/form-data", {"boundary": "a b", "charset": "UTF-8"}),
        ),
        ('x; a="q\\"uo\\\\te"; b=2', ("x", {"a": 'q"uo\\te', "b": "2"})),
        ('x; a="unterminated', ("x", {"a": "unterminated"})),
        ('x; a="v" junk; b=2', ("x", {"a": "v", "b": "2"})),
        ("x; a=1; a=2", ("x", {"a": "1"})),
        ("x; noequals; =novalue; b=2", ("x", {"b": "2"})),
        ("multipart/form-data; junk; boundary=ab", ("multipart/form-data", {"boundary": "ab"})),
        ("x; trailing", ("x", {})),
        ("x;;;", ("x", {})),
        ("", ("", {})),
        ('x; a="ends with backslash\\', ("x", {"a": "ends with backslash\\"})),
    ],
)
def test_parse_options_header(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_options_header(value) == expected


def test_parse_options_header_escape_and_whitespace_options() -> None:
    value = 'form-data; name="a\\"b\\\\c"; filename="C:\\x\\y.txt"'
    assert parse_options_header(value)[1] == {"name": 'a"b\\c', "filename": "C:xy.txt"}
    kept = parse_options_header(value, keep_unknown_escapes=True)[1]
    assert kept == {"name": 'a"b\\c', "filename": "C:\\x\\y.txt"}
    assert parse_options_header("x\xa0; a=\xa01\xa0") == ("x", {"a": "1"})
    assert parse_options_header("x\xa0; a=\xa01\xa0", strip_chars=" \t") == (
        "x\xa0",
        {"a": "\xa01\xa0"},
    )


def test_parse_options_header_is_linear_on_hostile_input() -> None:
    value = "x" + '; a="' + "\\" * 200_000
    main, params = parse_options_header(value)
    assert main == "x"
    assert len(params["a"]) == 100_000


@pytest.mark.parametrize(
    "query",
    [
        "a=1&b=2&a=3",
        "a",
        "a=&=b",
        "&&a=1&&",
        "q=caf%C3%A9+au+lait",
        "x=%2B%26%3D",
        "k+ey=v+al",
        "é=è",
    ],
)
def test_query_parsing_matches_the_standard_library(query: str) -> None:
    expected = parse_qsl(query, keep_blank_values=True, errors="strict")
    assert QueryParams.parse(query).multi_items() == expected
